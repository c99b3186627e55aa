import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { acknowledges, isDisclosure } from './acknowledge.js';
import { labelTurn, sumReuse, tacticReuse, TACTICS, type Tactic } from './tactics.js';

// The labelled lines were written before the labeller (test/fixtures/dialogue/tactics.jsonl); the
// labeller was tuned on the `dev` half only, and `npm run bench:dialogue` reports the held-out half.
const labelled = readFileSync(new URL('../../test/fixtures/dialogue/tactics.jsonl', import.meta.url), 'utf8')
  .split('\n').filter(Boolean).map((l) => JSON.parse(l) as { split: string; line: string; tactics: Tactic[] });

describe('tactic labeller', () => {
  it('labels the dev lines with their hand labels (micro F1 at least 0.9)', () => {
    let tp = 0;
    let fp = 0;
    let fn = 0;
    for (const e of labelled.filter((x) => x.split === 'dev')) {
      const got = labelTurn(e.line);
      for (const t of TACTICS) {
        if (got.has(t) && e.tactics.includes(t)) tp++;
        else if (got.has(t)) fp++;
        else if (e.tactics.includes(t)) fn++;
      }
    }
    expect((2 * tp) / (2 * tp + fp + fn)).toBeGreaterThanOrEqual(0.9);
  });

  it('tells the empathy mechanisms apart', () => {
    expect([...labelTurn("I'm so sorry. That sounds exhausting.")].sort()).toEqual(['emotional_reaction', 'reflection']);
    expect([...labelTurn('How do you feel about it now?')]).toEqual(['exploration']);
    expect([...labelTurn('Maybe part of why it hurts is how much your brother matters to you.')]).toContain('interpretation');
    expect([...labelTurn('Thank you for telling me about it.')]).toEqual(['appreciation']);
    expect(labelTurn('Once upon a time there was a lighthouse.').size).toBe(0);
  });

  it('counts next-turn reuse as the share of one turn\'s tactics said again in the next, never across conversations', () => {
    const a = new Set<Tactic>(['reflection', 'exploration']);
    const b = new Set<Tactic>(['exploration', 'validation']);
    const c = new Set<Tactic>(['appreciation']);
    expect(tacticReuse([a, b, c])).toEqual({ pairs: 2, tactics: 4, reused: 1, rate: 0.25 });
    expect(sumReuse([[a], [b]])).toEqual({ pairs: 0, tactics: 0, reused: 0, rate: 0 });
    expect(tacticReuse([a, a]).rate).toBe(1);
  });
});

describe('acknowledgement of a disclosure', () => {
  const worry = "Honestly, not great. I had a fight with my sister about our mother's care.";
  it('is heard when the reply names what was told, its feeling, or says back its words', () => {
    expect(isDisclosure(worry)).toBe(true);
    expect(acknowledges(worry, "I'm sorry. A fight with your sister is hard.")).toBe(true);
    expect(acknowledges("I'm so tired today.", 'That sounds draining.')).toBe(true);
    expect(acknowledges("I'm so tired today.", "I'm sorry to hear that.")).toBe(true);
  });
  it('is not heard from a generic thanks, or from moving straight on', () => {
    expect(acknowledges(worry, 'Thank you for sharing that with me.')).toBe(false);
    expect(acknowledges(worry, 'I have a short story for you. It is called "The Lighthouse".')).toBe(false);
    expect(acknowledges("I'm happy, the sun is out.", "I'm sorry to hear that.")).toBe(false);
    expect(isDisclosure('Okay.')).toBe(false);
  });
});
