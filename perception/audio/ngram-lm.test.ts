import { describe, expect, it } from 'vitest';
import { buildArpa, lmWords } from './ngram-lm.js';

/** Read an ARPA text back: log10 probabilities and back-off weights by n-gram. */
function readArpa(text: string) {
  const p = new Map<string, number>();
  const bow = new Map<string, number>();
  const declared: number[] = [];
  let n = 0;
  for (const line of text.split('\n')) {
    const d = /^ngram (\d+)=(\d+)$/.exec(line);
    if (d) { declared[Number(d[1]) - 1] = Number(d[2]); continue; }
    const h = /^\\(\d+)-grams:$/.exec(line);
    if (h) { n = Number(h[1]); continue; }
    if (!n || !line.trim() || line.startsWith('\\')) continue;
    const f = line.split('\t');
    const gram = f[1]!;
    expect(gram.split(' ')).toHaveLength(n);
    p.set(gram, Number(f[0]));
    if (f[2] !== undefined) bow.set(gram, Number(f[2]));
  }
  /** P(w | h) by the back-off rule. */
  const prob = (h: string[], w: string): number => {
    const key = [...h, w].join(' ');
    if (p.has(key)) return 10 ** p.get(key)!;
    if (!h.length) return 0;
    return 10 ** (bow.get(h.join(' ')) ?? 0) * prob(h.slice(1), w);
  };
  return { p, bow, declared, prob };
}

const CORPUS = [
  'I went for a walk with my sister this morning.',
  'My sister called me last night.',
  'We went to the market and bought some bread.',
  "I don't sleep well when the house is quiet.",
  'I went to see my mother in the hospital.',
];

describe('buildArpa', () => {
  it('writes a back-off model whose probabilities after every history sum to one', () => {
    const { arpa, counts } = buildArpa(CORPUS);
    const lm = readArpa(arpa);
    expect(lm.declared).toEqual(counts);
    expect(lm.p.size).toBe(counts.reduce((a, b) => a + b, 0));
    const predicted = [...lm.p.keys()].filter((g) => !g.includes(' ') && g !== '<s>');
    for (const h of [[], ['<s>'], ['went'], ['i', 'went'], ['my', 'sister'], ['the'], ['bread'], ['sister', 'this']]) {
      const sum = predicted.reduce((s, w) => s + lm.prob(h, w), 0);
      expect(sum, `after "${h.join(' ')}"`).toBeCloseTo(1, 3);
    }
    // What was seen is likelier than what was not.
    expect(lm.prob(['i', 'went'], 'for')).toBeGreaterThan(lm.prob(['i', 'went'], 'bread'));
    expect(lm.prob(['my'], 'sister')).toBeGreaterThan(lm.prob(['my'], 'mother'));
  });

  it('keeps no n-gram across a word the recogniser does not know, and keeps apostrophes', () => {
    expect(lmWords("I don't know — it's Grandma’s!")).toEqual(['i', "don't", 'know', "it's", "grandma's"]);
    const { arpa } = buildArpa(['my sister zorbled me yesterday'], { known: (w) => w !== 'zorbled' });
    const lm = readArpa(arpa);
    expect([...lm.p.keys()].some((g) => g.includes('zorbled'))).toBe(false);
    expect(lm.p.has('my sister')).toBe(true);
    expect(lm.p.has('sister me')).toBe(false);
    expect(lm.p.has('me yesterday </s>')).toBe(true);
  });
});
