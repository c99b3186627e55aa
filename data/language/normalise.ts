/**
 * The one normal form Hearth matches words in: every check, parser and lexicon reads text through
 * `normalise`, so "don't", "don’t" and "dont" all become "do not" everywhere.
 */

/** Words before "'s" that make it "is" ("it's" → "it is"); any other "'s" is a possessive ("mum's" → "mums"). */
const PRONOUN_IS = new Set(['it', 'that', 'he', 'she', 'there', 'what', 'who', 'here', 'where', 'everyone', 'nobody', 'this']);

/**
 * Lower case, curly apostrophes and quotes unified, contractions expanded ("don't" and "dont" →
 * "do not", "can't"/"cannot" → "can not", "I'm"/"im" → "i am", "it's" → "it is", "mum's" → "mums"),
 * letters and digits of any script kept, everything else a space, single spaces, trimmed.
 *
 * The safeguard rules were written and their learned layer trained against exactly this form:
 * a change here changes their scores (`npx tsx scripts/train-safeguards.ts --check` says so).
 */
export function normalise(text: string): string {
  let t = text.toLowerCase().replace(/[’‘`´]/g, "'").replace(/[“”„]/g, '"');
  t = t
    .replace(/\bcan't\b|\bcannot\b/g, 'can not')
    .replace(/\bwon't\b/g, 'will not')
    .replace(/\bain't\b/g, 'am not')
    .replace(/n't\b/g, ' not')
    .replace(/\blet's\b/g, 'let us')
    .replace(/'m\b/g, ' am')
    .replace(/'re\b/g, ' are')
    .replace(/'ll\b/g, ' will')
    .replace(/'ve\b/g, ' have')
    .replace(/'d\b/g, ' would')
    .replace(/\b(\p{L}+)'s\b/gu, (_m, w: string) => (PRONOUN_IS.has(w) ? `${w} is` : `${w}s`))
    .replace(/\bgonna\b/g, 'going to')
    .replace(/\bwanna\b/g, 'want to')
    .replace(/\bim\b/g, 'i am')
    .replace(/\bdont\b/g, 'do not');
  return t.replace(/[^\p{L}\p{N}\s]/gu, ' ').replace(/\s+/g, ' ').trim();
}

/** One word of the normal form, with the span of the original text it came from. */
export interface Token {
  /** The word as `normalise` writes it ("do" and "not" both come from "don't"). */
  word: string;
  /** Offsets of the original word in the text (`text.slice(start, end)` is "don't"). */
  start: number;
  end: number;
}

// A word of the original text: letters and digits, with inner apostrophes ("don't", "o'clock").
const WORD = /[\p{L}\p{N}]+(?:['’‘`´][\p{L}\p{N}]+)*/gu;

/**
 * The words of `normalise(text)`, each with where it stands in the original text, so a match in
 * the normal form can be quoted in the participant's own spelling.
 */
export function tokenise(text: string): Token[] {
  const out: Token[] = [];
  for (const m of text.matchAll(WORD)) {
    const start = m.index;
    const end = start + m[0].length;
    for (const word of normalise(m[0]).split(' ')) if (word) out.push({ word, start, end });
  }
  return out;
}

/** The words of the normal form (`normalise(text).split(' ')`, none when the text has no words). */
export function words(text: string): string[] {
  const t = normalise(text);
  return t === '' ? [] : t.split(' ');
}

/** Whether `phrase` occurs in `text` as whole words, both in the normal form. */
export function hasPhrase(text: string, phrase: string): boolean {
  const p = normalise(phrase);
  return p !== '' && ` ${normalise(text)} `.includes(` ${p} `);
}
