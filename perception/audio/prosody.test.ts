import { describe, expect, it } from 'vitest';
import { haveAudioTools, LIBRIVOX_0880, haveTestdata, readTestdata, say } from '../../test/fixtures/audio/speech.js';
import { ArousalEstimator, DEFAULT_BASELINE } from './arousal.js';
import { prosodyFeatures } from './prosody.js';
import { textValence } from './text-valence.js';

const LINE = 'I cannot believe it, we won the whole thing!';

describe.skipIf(!haveAudioTools)('prosody on espeak-ng speech', () => {
  const excited = prosodyFeatures(say(LINE, { speed: 260, pitch: 85, amplitude: 180 }));
  const calm = prosodyFeatures(say(LINE, { speed: 110, pitch: 15, amplitude: 40 }));
  const plain = prosodyFeatures(say(LINE));

  it('measures higher pitch, level and rate where espeak was told to speak higher, louder, faster', () => {
    expect(excited.f0MedianHz!).toBeGreaterThan(plain.f0MedianHz!);
    expect(plain.f0MedianHz!).toBeGreaterThan(calm.f0MedianHz!);
    expect(excited.energyDb!).toBeGreaterThan(plain.energyDb! + 3);
    expect(plain.energyDb!).toBeGreaterThan(calm.energyDb! + 3);
    expect(excited.syllablesPerS!).toBeGreaterThan(calm.syllablesPerS!);
    expect(excited.durationS).toBeLessThan(calm.durationS);
  });

  it('finds F0 in the range of a voice and counts roughly the syllables said', () => {
    for (const f of [excited, calm, plain]) {
      expect(f.f0MedianHz!).toBeGreaterThan(60);
      expect(f.f0MedianHz!).toBeLessThan(300);
    }
    // 11 syllables; de Jong & Wempe's method undercounts connected speech, never doubles it.
    const counted = plain.syllablesPerS! * plain.phonationS;
    expect(counted).toBeGreaterThanOrEqual(5);
    expect(counted).toBeLessThanOrEqual(13);
  });

  it('gives a fast, loud, high-pitched utterance higher arousal than a slow, quiet, low one', () => {
    const est = new ArousalEstimator();
    const hi = est.estimate(excited)!;
    const lo = est.estimate(calm)!;
    expect(hi.arousal).toBeGreaterThan(0.2);
    expect(lo.arousal).toBeLessThan(-0.2);
    expect(hi.arousal).toBeGreaterThan(est.estimate(plain)!.arousal);
    expect(est.estimate(plain)!.arousal).toBeGreaterThan(lo.arousal);
    expect(hi.confidence).toBeGreaterThan(0);
    expect(hi.confidence).toBeLessThanOrEqual(0.8);
  });

  it('learns the speaker: after hearing their usual voice, that voice reads as calm-neutral and confidence rises', () => {
    const est = new ArousalEstimator();
    const before = est.estimate(excited)!;
    for (let i = 0; i < 60; i++) est.learn(excited);
    const after = est.estimate(excited)!;
    expect(Math.abs(after.arousal)).toBeLessThan(Math.abs(before.arousal));
    expect(after.confidence).toBeGreaterThan(before.confidence);
    expect(est.baseline.learnedS).toBeGreaterThan(60);
    expect(DEFAULT_BASELINE.learnedS).toBe(0);
  });
});

describe('prosody on silence and noise', () => {
  it('reports no pitch and no arousal for silence instead of inventing them', () => {
    const f = prosodyFeatures(new Int16Array(16_000));
    expect(f.f0MedianHz).toBeUndefined();
    expect(f.voicedFraction).toBe(0);
    expect(new ArousalEstimator().estimate(f)).toBeUndefined();
  });
});

describe.skipIf(!haveTestdata)('prosody on recorded speech', () => {
  it('finds a male reader\'s F0 between 70 and 200 Hz and a speech rate between 2 and 8 syllables/s', () => {
    const f = prosodyFeatures(readTestdata(LIBRIVOX_0880));
    expect(f.f0MedianHz!).toBeGreaterThan(70);
    expect(f.f0MedianHz!).toBeLessThan(200);
    expect(f.syllablesPerS!).toBeGreaterThan(2);
    expect(f.syllablesPerS!).toBeLessThan(8);
  });
});

describe('text valence (VADER)', () => {
  it('reads positive, negative and negated text the right way round', () => {
    expect(textValence('I had a wonderful day, I love my new garden')!.valence).toBeGreaterThan(0.5);
    expect(textValence('I feel terrible and lonely today')!.valence).toBeLessThan(-0.5);
    expect(textValence('I am not happy about it')!.valence).toBeLessThan(0);
  });
  it('is less sure of neutral or misheard text, and has nothing to say about no text', () => {
    const neutral = textValence('we went to the shop on tuesday')!;
    const strong = textValence('I had a wonderful day, I love my new garden')!;
    expect(neutral.confidence).toBeLessThan(strong.confidence);
    expect(textValence('I had a wonderful day, I love my new garden', 0.3)!.confidence).toBeCloseTo(strong.confidence * 0.3);
    expect(textValence('   ')).toBeUndefined();
  });
});
