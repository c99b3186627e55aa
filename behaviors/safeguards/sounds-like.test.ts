// The sound-alike check with the recogniser's real dictionary (Debian pocketsphinx-en-us's CMUdict).
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { sphinxPronouncer } from '../../perception/index.js';
import { alignmentCost, phonesOf, soundsLikeCrisis } from './sounds-like.js';

const dict = '/usr/share/pocketsphinx/model/en-us/cmudict-en-us.dict';
const pronounce = sphinxPronouncer(dict);

describe('alignmentCost', () => {
  it('finds a phrase anywhere in what was heard, a similar phone costing half', () => {
    expect(alignmentCost(['K', 'IH', 'L'], ['AY', 'K', 'IH', 'L', 'D'])).toBe(0);
    expect(alignmentCost(['K', 'IH', 'L'], ['K', 'AA', 'L'])).toBe(0.5); // vowel for vowel
    expect(alignmentCost(['K', 'IH', 'L'], ['G', 'IH', 'L'])).toBe(0.5); // voicing only
    expect(alignmentCost(['K', 'IH', 'L'], ['S', 'IH', 'L'])).toBe(1);
    expect(alignmentCost(['K', 'IH', 'L'], [])).toBe(3);
  });
});

describe.skipIf(!existsSync(dict))('soundsLikeCrisis (CMUdict from pocketsphinx-en-us)', () => {
  it('spells words in phones, skipping words the dictionary lacks', () => {
    expect(phonesOf("I don't zorbl", pronounce)).toEqual(['AY', 'D', 'OW', 'N', 'T']);
  });

  it('hears the crisis phrase in what pocketsphinx made of a spoken disclosure (bench:asr transcripts)', () => {
    expect(soundsLikeCrisis("i don't want to leave any more", pronounce)).toMatchObject({ phrase: 'want to live anymore' });
    expect(soundsLikeCrisis('i can be thinking about putting myself', pronounce)).toMatchObject({ phrase: 'cutting myself' });
  });

  it('leaves ordinary speech alone, and a phrase too far in sound', () => {
    for (const t of ['i went for a walk with my dog this morning', 'my daughter called me and we talked for an hour', 'the story made me feel a bit sad but also hopeful', 'i hurt my knee in the garden', 'we killed some time at the station']) {
      expect(soundsLikeCrisis(t, pronounce), t).toBeNull();
    }
    // "thirty myself" for "hurting myself" is too far at the threshold chosen on benign speech.
    expect(soundsLikeCrisis('i have been thinking about thirty myself', pronounce)).toBeNull();
    expect(soundsLikeCrisis('i have been thinking about thirty myself', pronounce, { threshold: 0.3 })).toMatchObject({ phrase: 'hurting myself' });
  });
});
