import { spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { haveAudioTools, haveTestdata, layout, LIBRIVOX_0880, readTestdata, say } from '../../test/fixtures/audio/speech.js';
import { PocketsphinxTranscriber } from './pocketsphinx-transcriber.js';
import { existsSync } from 'node:fs';
import { ensureSphinxHelper } from './sphinx-decoder.js';
import { transcriberContract } from './transcriber.contract.js';
import { decodeWav, encodeWav } from './wav.js';

const havePocketsphinx = spawnSync('which', ['pocketsphinx_continuous']).status === 0 && (() => {
  try { return existsSync(ensureSphinxHelper()); } catch { return false; }
})();
const words = (s: string) => new Set(s.toLowerCase().split(/\W+/).filter(Boolean));
const overlap = (heard: string, truth: string) => {
  const h = words(heard);
  const t = [...words(truth)];
  return t.filter((w) => h.has(w)).length / t.length;
};

describe.skipIf(!havePocketsphinx || !haveTestdata)('PocketsphinxTranscriber (Debian pocketsphinx, offline)', () => {
  const ps = new PocketsphinxTranscriber();
  afterAll(() => ps.close());

  it('transcribes a LibriVox recording with most of the reference words', async () => {
    const t = await ps.transcribe(readTestdata(LIBRIVOX_0880));
    // Reference: "he was not an ill disposed young man".
    expect(overlap(t.text, 'he was not an ill disposed young man')).toBeGreaterThanOrEqual(0.5);
    expect(t.text).toMatch(/\bnot\b/);
    expect(t.confidence!).toBeGreaterThan(0);
    expect(t.confidence!).toBeLessThanOrEqual(1);
    expect(t.words!.length).toBeGreaterThan(3);
    expect(t.words!.every((w, i, a) => w.endMs >= w.startMs && (i === 0 || w.startMs >= a[i - 1]!.startMs))).toBe(true);
  });

  it.skipIf(!haveAudioTools)('transcribes espeak-ng speech (US voice; the default voice defeats it)', async () => {
    const line = 'i would like to hear a story about the sea';
    const t = await ps.transcribe(layout([{ samples: say(line, { speed: 140, voice: 'en-us' }), silenceBeforeMs: 300 }], 300).samples);
    expect(overlap(t.text, line)).toBeGreaterThanOrEqual(0.6);
  });

  it('returns empty text for silence', async () => {
    const t = await ps.transcribe(new Int16Array(16_000));
    expect(t.text).toBe('');
  });

  it('names the missing decoder helper and the setup step', async () => {
    await expect(new PocketsphinxTranscriber({ helper: '/nonexistent/hearth-sphinx' }).transcribe(new Int16Array(1600)))
      .rejects.toThrow(/\/nonexistent\/hearth-sphinx not found: run scripts\/setup\.sh/);
  });

  it('names a missing model and the Debian package to install', async () => {
    await expect(new PocketsphinxTranscriber({ modelDir: '/nonexistent/model' }).transcribe(new Int16Array(1600)))
      .rejects.toThrow(/acoustic model \/nonexistent\/model\/en-us not found: install the Debian packages pocketsphinx and pocketsphinx-en-us/);
  });
});

describe.skipIf(!havePocketsphinx || !haveTestdata)('PocketsphinxTranscriber contract (Debian pocketsphinx, LibriVox test data)', () => {
  transcriberContract('PocketsphinxTranscriber', {
    make: () => new PocketsphinxTranscriber(),
    speech: () => ({ samples: readTestdata(LIBRIVOX_0880), reference: 'he was not an ill disposed young man' }),
    minOverlap: 0.5,
    broken: () => new PocketsphinxTranscriber({ helper: '/nonexistent/hearth-sphinx' }),
  });
});

describe('WAV encoding', () => {
  it('round-trips samples and rejects files it cannot read with the source named', () => {
    const s = Int16Array.from([0, 1, -1, 32767, -32768]);
    expect(Array.from(decodeWav(encodeWav(s)).samples)).toEqual(Array.from(s));
    expect(() => decodeWav(Buffer.from('hello world!'), 'upload.wav')).toThrow('upload.wav: not a RIFF/WAVE file');
    const stereo = encodeWav(s);
    stereo.writeUInt16LE(2, 22);
    expect(() => decodeWav(stereo, 'x.wav')).toThrow(/x\.wav: format 1, 16-bit, 2 channel\(s\)/);
  });
});
