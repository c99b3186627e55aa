import { negatedAt, normalise } from '../../data/index.js';
import { topicsOf, type Topic } from '../memory/extract.js';
import { FEELINGS, NEGATORS, type FeelingFamily } from './lexicon.js';

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

/**
 * A concrete detail worth reflecting back: a person first ("your sister", "your grandmother's kitchen"),
 * then a place, then an activity, as `topicsOf` (behaviors/memory/extract.ts) names them. Never an
 * adjective: "a nice story" gives no detail rather than "the nice".
 */
export function detailOf(text: string): string | null {
  const topics = topicsOf(text);
  if (topics.length === 0) return null;
  // A person's place or activity ("your grandmother's kitchen", "your mother's care") says the most.
  const possessive = topics.find((t) => t.kind !== 'person' && /'s /.test(t.phrase));
  const order: Topic['kind'][] = ['person', 'place', 'activity'];
  const best = possessive ?? [...topics].sort((x, y) => order.indexOf(x.kind) - order.indexOf(y.kind) || x.at - y.at)[0]!;
  return best.phrase;
}

/** Everything the responder needs from one utterance. */
export function hear(text: string): Heard {
  return { feeling: feelingOf(text), detail: detailOf(text) };
}
