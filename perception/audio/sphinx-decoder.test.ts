// The persistent recogniser: real pocketsphinx (Debian) through the hearth-sphinx helper, real audio.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { haveAudioTools, haveTestdata, layout, LIBRIVOX_0880, POCKETSPHINX_TESTDATA, readTestdata, say } from '../../test/fixtures/audio/speech.js';
import { answerGrammar, answerPhrase, grammarWords, hedgedGrammar, hedgesOf } from './answer-grammar.js';
import { buildArpa } from './ngram-lm.js';
import { bothPasses, PocketsphinxTranscriber } from './pocketsphinx-transcriber.js';
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

  it('find the hedge an open text starts or ends with, put it around every answer, and read the bare answer back out', () => {
    expect(hedgesOf("I think it's seven")).toEqual({ lead: "i think it's", tail: '' });
    expect(hedgesOf('five, I guess')).toEqual({ lead: '', tail: 'i guess' });
    expect(hedgesOf('Well, seven, thank you')).toEqual({ lead: 'well', tail: 'thank you' });
    expect(hedgesOf('seven')).toBeNull();
    expect(hedgesOf('i think')).toEqual({ lead: 'i think', tail: '' }); // a hedge and nothing after it is still a lead
    expect(hedgesOf('thank you')).toBeNull(); // nothing but a tail: no answer for it to follow
    const base = answerGrammar(['seven', 'eight', 'strongly agree'])!;
    const g = hedgedGrammar(base, { lead: 'i think', tail: 'thank you' });
    expect(g.phrases).toEqual(base.phrases);
    expect(g.jsgf).toContain('<answer> = eight | seven | strongly agree;');
    expect(g.jsgf).toContain('public <heard> = i think <answer> thank you;');
    expect(answerPhrase('i think seven thank you', g)).toBe('seven');
    expect(answerPhrase('<s> i think strongly agree thank(2) you </s>', g)).toBe('strongly agree');
    expect(answerPhrase('i think seven', g)).toBe('');
    expect(answerPhrase('seven', base)).toBe('seven');
    expect(answerPhrase('i think seven', base)).toBe('');
  });

  it('keep one answer of two passes: the surer when they agree, and no more likely than the other is wrong when they differ', () => {
    const a = (text: string, confidence: number) => ({ text, confidence, alternatives: [{ text: 'two', confidence: 0.1 }] });
    expect(bothPasses(undefined, a('seven', 0.6))?.text).toBe('seven');
    expect(bothPasses(a('seven', 0.6), undefined)?.text).toBe('seven');
    expect(bothPasses(a('seven', 0.6), a('seven', 0.9))?.confidence).toBe(0.9);
    const mixed = bothPasses(a('eight', 0.95), a('one', 0.7))!;
    expect(mixed.text).toBe('eight'); // min(0.95, 1 - 0.7) > min(0.7, 1 - 0.95): neither is sure
    expect(mixed.confidence).toBeCloseTo(0.3);
    expect(mixed.alternatives[0]!.confidence).toBeCloseTo(0.05);
    const sure = bothPasses(a('eight', 0.2), a('one', 0.9))!;
    expect([sure.text, sure.confidence]).toEqual(['one', 0.8]);
    expect(sure.alternatives[0]!.text).toBe('eight');
    expect(sure.alternatives[0]!.confidence).toBeCloseTo(0.1);
    expect(sure.alternatives.map((x) => x.text)).toEqual(['eight', 'two']);
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
