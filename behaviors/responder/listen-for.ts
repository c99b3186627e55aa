import { negatedAt, normalise } from '../../data/index.js';
import { FEELINGS, NEGATORS, STOPWORDS, type FeelingFamily } from './lexicon.js';

/** What the offline responder heard in an utterance. */
export interface Heard {
  /** The strongest feeling named or implied, if any. */
  feeling: FeelingFamily | null;
  /** A concrete detail, already turned to second person ("your sister's garden"). */
  detail: string | null;
}

/** What "not happy", "not good" mean. */
const UNHAPPY: FeelingFamily = { id: 'unhappy', valence: -1, cues: [], adjectives: ['hard', 'discouraging'], nouns: ['frustration'] };

/** What mixed feelings ("I miss her, but it makes me smile") sound like. */
const BITTERSWEET: FeelingFamily = { id: 'bittersweet', valence: 0, cues: [], adjectives: ['bittersweet', 'tender'], nouns: ['tenderness'] };

/**
 * Find the feeling in an utterance: the first family (most specific first) with a cue that is not
 * negated. "Not happy" reads as unhappy; sad and glad cues together read as bittersweet.
 */
export function feelingOf(text: string): FeelingFamily | null {
  const padded = ` ${normalise(text)} `;
  const found: FeelingFamily[] = [];
  for (const family of FEELINGS) {
    for (const cue of family.cues) {
      let from = 0;
      let hit: 'plain' | 'negated' | null = null;
      for (;;) {
        const at = padded.indexOf(` ${cue} `, from);
        if (at < 0) break;
        from = at + 1;
        if (negatedAt(padded, at, 3, NEGATORS)) hit ??= 'negated';
        else {
          hit = 'plain';
          break;
        }
      }
      if (hit === 'plain') {
        found.push(family);
        break;
      }
      if (hit === 'negated' && family.valence === 1) {
        found.push(UNHAPPY);
        break;
      }
    }
  }
  if (found.length === 0) return null;
  const negative = found.some((f) => f.valence === -1);
  const positive = found.some((f) => f.valence === 1);
  return negative && positive ? BITTERSWEET : found[0]!;
}

/** Words that can stand before a noun in "my … X" ("my old dog", "my late husband"). */
const MODIFIERS = new Set(['old', 'new', 'little', 'best', 'late', 'older', 'younger', 'eldest', 'oldest', 'youngest', 'dear',
  'first', 'favorite', 'favourite', 'own', 'whole', 'big', 'small', 'baby', 'step', 'grand', 'ex', 'closest', 'childhood']);

/** A concrete detail worth reflecting back: a "my …" phrase first, then a name, then a "the …" phrase. */
export function detailOf(text: string): string | null {
  const raw = text.replace(/[’]/g, "'");
  const words = raw.toLowerCase().replace(/'s\b/g, ' s').replace(/[^a-z\s]/g, ' ').split(/\s+/).filter(Boolean);
  // 1. "my grandmother's kitchen", "our old dog", "my sister"
  const found: string[] = [];
  for (let i = 0; i < words.length; i++) {
    if (words[i] !== 'my' && words[i] !== 'our') continue;
    const first = words[i + 1];
    if (!first || STOPWORDS.has(first)) continue;
    const phrase = [first];
    if (words[i + 2] === 's' && words[i + 3] && !STOPWORDS.has(words[i + 3]!)) phrase.push(`'s ${words[i + 3]}`);
    else if (MODIFIERS.has(first) && words[i + 2] && !STOPWORDS.has(words[i + 2]!)) phrase.push(` ${words[i + 2]}`);
    found.push(`your ${phrase.join('')}`);
  }
  if (found.length) return found.sort((a, b) => b.length - a.length)[0]!;

  // 2. A proper name in the middle of a sentence: "Lisbon", "Aunt Rosa".
  const name = raw.match(/(?<![.!?]\s|^)\b([A-Z][a-z]+(?:\s+[A-Z][a-z]+)?)\b/);
  if (name && !/^(I|I'm|I've|I'd|The|A|An|It|And|But|So|When|Then|Not|Yes|No|Oh|Well)$/.test(name[1]!)) return name[1]!;

  // 3. "the/a <content word>", e.g. "the hospital", "a new job".
  for (let i = 0; i < words.length - 1; i++) {
    if (!['the', 'a', 'an'].includes(words[i]!)) continue;
    const w1 = words[i + 1]!;
    const w2 = words[i + 2];
    if (MODIFIERS.has(w1) && w2 && !STOPWORDS.has(w2)) return `the ${w1} ${w2}`;
    if (!STOPWORDS.has(w1) && w1.length >= 4 && !/(ly|ing|ed)$/.test(w1)) return `the ${w1}`;
  }
  return null;
}

/** Everything the responder needs from one utterance. */
export function hear(text: string): Heard {
  return { feeling: feelingOf(text), detail: detailOf(text) };
}
