/** Understanding spoken answers to rating questions ("four", "4", "not at all", "skip"). */

/** What a spoken answer to a scale question meant. */
export type ScaleAnswer = { kind: 'value'; value: number } | { kind: 'skip' } | { kind: 'unclear' };

/** A response scale: integer points from min to max, with phrases that mean each point. */
export interface ResponseScale {
  min: number;
  max: number;
  /** Phrases per value, e.g. { 1: ['not at all'], 5: ['completely'] }. Matched as whole words. */
  phrases: Record<number, readonly string[]>;
}

/** "How much could you relate to this story?" on 1–5. */
export const RELATE_SCALE: ResponseScale = {
  min: 1,
  max: 5,
  phrases: {
    1: ['not at all', 'not in the slightest', 'nothing', 'none', 'no', 'couldn t relate', 'could not relate', 'didn t relate', 'did not relate'],
    2: ['a little', 'a bit', 'slightly', 'not much', 'not very much', 'not really', 'barely', 'hardly'],
    3: ['somewhat', 'moderately', 'some', 'sort of', 'kind of', 'in the middle', 'so so', 'medium', 'halfway'],
    4: ['quite a bit', 'quite a lot', 'a lot', 'quite', 'mostly', 'pretty much', 'very'],
    5: ['completely', 'totally', 'entirely', 'very much', 'so much', 'extremely', 'absolutely', 'a great deal', 'deeply', 'fully'],
  },
};

const NUMBER_WORDS: Record<string, number> = {
  zero: 0, one: 1, two: 2, three: 3, four: 4, five: 5, six: 6, seven: 7, eight: 8, nine: 9, ten: 10,
  won: 1, to: 2, too: 2, for: 4, fore: 4, tree: 3, fiv: 5,
};
// Homophones from speech recognition only count when the whole answer is that one word.
const HOMOPHONES = new Set(['won', 'to', 'too', 'for', 'fore', 'tree', 'fiv']);

const SKIP = /\b(skip|pass|next question|rather not( say)?|prefer not( to)?( say| answer)?|don t want to (say|answer)|no comment)\b/;

/** Lower-case, apostrophes to spaces, punctuation removed, single spaces. */
export function normalise(text: string): string {
  return text.toLowerCase().replace(/[’']/g, ' ').replace(/[^a-z0-9\s]/g, ' ').replace(/\s+/g, ' ').trim();
}

/** Interpret a spoken answer on a scale. Ambiguous answers ("three or four") are unclear. */
export function parseScaleAnswer(text: string, scale: ResponseScale): ScaleAnswer {
  const t = normalise(text);
  if (t === '') return { kind: 'unclear' };
  if (SKIP.test(t)) return { kind: 'skip' };

  const numbers = new Set<number>();
  const words = t.split(' ');
  for (const w of words) {
    if (/^\d+$/.test(w)) numbers.add(Number(w));
    else if (w in NUMBER_WORDS && (!HOMOPHONES.has(w) || words.length === 1)) numbers.add(NUMBER_WORDS[w]!);
  }
  // "four out of five", "a 4 on a scale of 1 to 5": drop the scale's own bounds when mentioned as such.
  if (/\b(out of|scale of|from)\b/.test(t) && numbers.size > 1) {
    const bounds = t.match(/\b(?:out of|to|scale of \w+ to|from \w+ to) (\w+)\b/g) ?? [];
    for (const b of bounds) {
      const last = b.split(' ').at(-1)!;
      const n = /^\d+$/.test(last) ? Number(last) : NUMBER_WORDS[last];
      if (n === scale.max) numbers.delete(n);
    }
    if (/\b(scale of|from) (1|one) to\b/.test(t)) numbers.delete(scale.min);
  }
  const inScale = [...numbers].filter((n) => n >= scale.min && n <= scale.max);
  if (numbers.size > 0) {
    return inScale.length === 1 && numbers.size === 1 ? { kind: 'value', value: inScale[0]! } : { kind: 'unclear' };
  }

  // Phrases: longest match wins, so "not very much" beats "very much" and "very".
  let best: { value: number; length: number } | undefined;
  const padded = ` ${t} `;
  for (const [value, phrases] of Object.entries(scale.phrases)) {
    for (const p of phrases) {
      const at = padded.indexOf(` ${p} `);
      if (at < 0) continue;
      if (!best || p.length > best.length) best = { value: Number(value), length: p.length };
    }
  }
  return best ? { kind: 'value', value: best.value } : { kind: 'unclear' };
}

/** Whether the participant is asking to end the session now. */
export function wantsToStop(text: string): boolean {
  const t = normalise(text);
  if (/\b(don t|do not|didn t|never) (want to )?(stop|quit|go)\b/.test(t)) return false;
  if (/\b(i (have|need|ve got|got) to go|let s stop|can we stop|i want to stop|(stop|end) (the|this) session|that s enough for today)\b/.test(t)) return true;
  // "bye" or "stop" alone is a request; inside a longer story ("I said goodbye to my dad") it is not.
  return t.split(' ').length <= 4 && /\b(stop|goodbye|bye|quit)\b/.test(t);
}
