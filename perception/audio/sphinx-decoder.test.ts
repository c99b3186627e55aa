// The persistent recogniser: real pocketsphinx (Debian) through the hearth-sphinx helper, real audio.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { haveAudioTools, haveTestdata, layout, LIBRIVOX_0880, POCKETSPHINX_TESTDATA, readTestdata, say } from '../../test/fixtures/audio/speech.js';
import { answerGrammar, grammarWords } from './answer-grammar.js';
import { buildArpa } from './ngram-lm.js';
import { PocketsphinxTranscriber } from './pocketsphinx-transcriber.js';
import { ensureSphinxHelper } from './sphinx-decoder.js';

const haveHelper = (() => {
  if (spawnSync('which', ['pocketsphinx_continuous']).status !== 0) return false;
  try { ensureSphinxHelper(); return true; } catch { return false; }
})();
const NINE = ['one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'very unpleasant', 'very pleasant', 'skip', 'i do not know'];
const AGREE = ['one', 'two', 'three', 'four', 'five', 'strongly disagree', 'disagree', 'neither agree nor disagree', 'agree', 'strongly agree', 'skip'];
const spoken = (text: string) => layout([{ samples: say(text, { voice: 'en-us', speed: 160 }), silenceBeforeMs: 300 }], 600).samples;
/** Push in 100-ms chunks, as the microphone pipeline does while the participant speaks. */
async function streamed(ps: PocketsphinxTranscriber, samples: Int16Array, answers?: string[]) {
  const s = ps.stream(answers ? { answers } : undefined);
  for (let i = 0; i < samples.length; i += 1600) s.push(samples.subarray(i, i + 1600));
  return s.finish();
}

describe('answer grammars', () => {
  it('spell digits out, drop punctuation, keep each accepted phrase once, and leave out words the dictionary lacks', () => {
    expect(grammarWords('Strongly agree, 4/5!')).toBe('strongly agree four five');
    const g = answerGrammar(['Four', 'four', 'Strongly agree', 'zorblax'], (w) => w !== 'zorblax')!;
    expect(g.phrases).toEqual(['four', 'strongly agree']);
    expect(g.jsgf).toContain('public <answer> = four | strongly agree;');
    expect(answerGrammar(['zorblax'], () => false)).toBeNull();
  });
});

describe.skipIf(!haveHelper || !haveTestdata)('PocketsphinxTranscriber: one decoder that stays loaded (Debian pocketsphinx)', () => {
  const ps = new PocketsphinxTranscriber();
  afterAll(() => ps.close());

  it('decodes pocketsphinx-testdata recordings fed as they arrive, without loading the model again', async () => {
    const a = await streamed(ps, readTestdata(LIBRIVOX_0880));
    expect(a.text).toMatch(/\bnot\b.*\byoung man\b/);
    const b = await streamed(ps, readTestdata(`${POCKETSPHINX_TESTDATA}/cards/001.wav`));
    expect(b.text).toBe('ten of clubs');
    expect(ps.decoders.open.starts).toBe(1);
    for (const w of [...a.words!, ...b.words!]) expect(w.confidence! >= 0 && w.confidence! <= 1).toBe(true);
  });

  it.skipIf(!haveAudioTools)('hears espeak-ng survey answers through the grammar of what the item accepts, and keeps the open text beside', async () => {
    for (const [said, answers] of [['four', NINE], ['three', NINE], ['skip', NINE], ['strongly agree', AGREE]] as const) {
      const t = await streamed(ps, spoken(said), [...answers]);
      expect(t.answer?.text, said).toBe(said);
      expect(t.answer!.confidence).toBeGreaterThanOrEqual(0);
      expect(t.answer!.confidence).toBeLessThanOrEqual(1);
    }
    // Something else said to a survey item is not lost: the open pass hears it for the safeguards.
    const t = await streamed(ps, spoken('I do not want to live anymore'), NINE);
    expect(t.text).toMatch(/\bwant to\b/);
    expect(ps.decoders.answers.starts).toBe(1);
  });

  it('comes back after its decoder process is killed, between utterances and in the middle of one', async () => {
    const before = ps.decoders.open.starts;
    process.kill(ps.decoders.open.pid!, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 100));
    expect((await streamed(ps, readTestdata(LIBRIVOX_0880))).text).toMatch(/young man/);
    expect(ps.decoders.open.starts).toBe(before + 1);

    const s = ps.stream();
    const audio = readTestdata(LIBRIVOX_0880);
    s.push(audio.subarray(0, audio.length / 2));
    await s.settled!();
    process.kill(ps.decoders.open.pid!, 'SIGKILL');
    s.push(audio.subarray(audio.length / 2));
    expect((await s.finish()).text).toMatch(/young man/);
    expect(ps.decoders.open.starts).toBe(before + 2);
  });
});

describe.skipIf(!haveHelper || !haveTestdata)('an adapted language model interpolated with en-us (Debian pocketsphinx)', () => {
  it('decodes open speech with the general model mixed with a model built here, and names a missing model file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hearth-adapted-'));
    try {
      const arpa = join(dir, 'adapted.arpa');
      writeFileSync(arpa, buildArpa(['he was not an ill disposed young man', 'he was a young man of some means']).arpa);
      const mixed = new PocketsphinxTranscriber({ adaptedLm: { path: arpa, weight: 0.5 } });
      try {
        expect((await streamed(mixed, readTestdata(LIBRIVOX_0880))).text).toMatch(/\bnot\b.*\byoung man\b/);
        // Words the adapted model never saw still come from en-us.
        expect((await streamed(mixed, spoken('the weather was cold this morning'))).text).toMatch(/\bweather\b/);
      } finally {
        await mixed.close();
      }
      const missing = new PocketsphinxTranscriber({ adaptedLm: { path: join(dir, 'nope.arpa'), weight: 0.5 } });
      await expect(missing.transcribe(spoken('hello'))).rejects.toThrow(/adapted language model .*nope\.arpa not found/);
      await missing.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
