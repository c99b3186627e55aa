import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { haveAudioTools, haveTestdata, layout, LIBRIVOX_0880, readTestdata, say } from '../../test/fixtures/audio/speech.js';
import { parsePocketsphinx, PocketsphinxTranscriber } from './pocketsphinx-transcriber.js';
import { transcriberContract } from './transcriber.contract.js';
import { decodeWav, encodeWav } from './wav.js';

const havePocketsphinx = spawnSync('which', ['pocketsphinx_continuous']).status === 0;
const words = (s: string) => new Set(s.toLowerCase().split(/\W+/).filter(Boolean));
const overlap = (heard: string, truth: string) => {
  const h = words(heard);
  const t = [...words(truth)];
  return t.filter((w) => h.has(w)).length / t.length;
};

describe.skipIf(!havePocketsphinx || !haveTestdata)('PocketsphinxTranscriber (Debian pocketsphinx, offline)', () => {
  const ps = new PocketsphinxTranscriber();

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

  it('names the missing binary and the Debian package to install', async () => {
    await expect(new PocketsphinxTranscriber({ binary: 'pocketsphinx_nowhere' }).transcribe(new Int16Array(1600)))
      .rejects.toThrow(/pocketsphinx_nowhere not found: install the Debian packages pocketsphinx/);
  });

  it('reports a broken model directory', async () => {
    await expect(new PocketsphinxTranscriber({ modelDir: '/nonexistent/model' }).transcribe(new Int16Array(1600)))
      .rejects.toThrow(/pocketsphinx \/nonexistent\/model: exited with/);
  });
});

describe.skipIf(!havePocketsphinx || !haveTestdata)('PocketsphinxTranscriber contract (Debian pocketsphinx, LibriVox test data)', () => {
  transcriberContract('PocketsphinxTranscriber', {
    make: () => new PocketsphinxTranscriber(),
    speech: () => ({ samples: readTestdata(LIBRIVOX_0880), reference: 'he was not an ill disposed young man' }),
    minOverlap: 0.5,
    broken: () => new PocketsphinxTranscriber({ binary: 'pocketsphinx_nowhere' }),
  });
});

describe('parsePocketsphinx', () => {
  it('drops fillers and alternate-pronunciation marks and averages word posteriors', () => {
    const t = parsePocketsphinx('he was\n<s> 0.000 0.060 0.999500\nhe 0.210 0.320 0.8\n[NOISE] 0.33 0.4 0.5\nwas(2) 0.330 0.540 0.6\n</s> 2.8 2.9 1.0\n');
    expect(t.text).toBe('he was');
    expect(t.confidence).toBeCloseTo(0.7);
    expect(t.words).toEqual([{ word: 'he', startMs: 210, endMs: 320, confidence: 0.8 }, { word: 'was', startMs: 330, endMs: 540, confidence: 0.6 }]);
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
