/**
 * Whether the robot's reply shows that a disclosure was heard: the measure behind "every disclosure is
 * acknowledged before the session moves on" (issue 15), used by tests and `npm run bench:dialogue`.
 */
import { contentWords } from '../../data/index.js';
import { summariseShared, topicsOf } from '../memory/extract.js';
import { feelingOf } from './listen-for.js';
import { labelTurn } from './tactics.js';

/** True when a participant's turn tells something: a feeling, a person, place or activity, or a sentence worth keeping. */
export function isDisclosure(utterance: string): boolean {
  return feelingOf(utterance) !== null || topicsOf(utterance).length > 0 || summariseShared(utterance) !== undefined;
}

const NEGATIVE_REACTION = /\b(?:sorry|oh no)\b/i;
const POSITIVE_REACTION = /\b(?:glad|lovely|wonderful|great|nice|happy|delighted)\b/i;

/**
 * True when `reply` shows `utterance` was heard: it names one of the people, places or activities said,
 * says back at least three of its words, or names its feeling (the responder's wording of the family
 * heard); a feeling with nothing named is also heard when the reply reacts to it in kind ("I'm sorry"
 * to a hard day, "I'm glad" to a good one). A generic "thank you for sharing" hears nothing.
 */
export function acknowledges(utterance: string, reply: string): boolean {
  const r = ` ${reply.toLowerCase().replace(/[’]/g, "'")} `;
  const has = (w: string) => new RegExp(`[^a-z]${w.toLowerCase().replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}[^a-z]`).test(r);
  const topics = topicsOf(utterance);
  if (topics.some((t) => has(t.head))) return true;
  const own = new Set(contentWords(utterance));
  const back = contentWords(reply).filter((w) => own.has(w));
  if (new Set(back).size >= 3) return true;
  const feeling = feelingOf(utterance);
  if (!feeling) return false;
  if ([...feeling.adjectives, ...feeling.nouns].some((w) => has(w))) return true;
  if (topics.length > 0) return false;
  const reacted = labelTurn(reply).has('emotional_reaction');
  return reacted && (feeling.valence === -1 ? NEGATIVE_REACTION.test(reply) : feeling.valence === 1 ? POSITIVE_REACTION.test(reply) : false);
}
