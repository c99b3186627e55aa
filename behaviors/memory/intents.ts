/**
 * What the participant asks of the robot's memory, from a transcript. Pure functions. They err towards
 * "not a request": "I'll never forget that day" or "don't forget my birthday" must not delete anything,
 * and a missed request can simply be asked again.
 */
import { tokenise, type Token } from '../../data/index.js';

/** A memory request. */
export type MemoryIntent =
  | { kind: 'recall' }
  | { kind: 'forget-last' }
  | { kind: 'forget-all' }
  | { kind: 'forget-about'; topic: string };

// Every pattern reads the normal form of data/language, padded with spaces: "don't" is "do not",
// "I'd like" is "i would like", "what's" is "what is".

// Politeness and framing that may precede an imperative.
const LEAD = String.raw`(?:^ |\b(?:and|so|ok|okay|now|hey|hearth|robot|actually|also|then)\s+)(?:please\s+)?(?:(?:can|could|would|will)\s+you\s+(?:please\s+)?|i\s+(?:want|need|would\s+like)\s+you\s+to\s+|i\s+(?:want|need|would\s+like)\s+(?:it|that|this)\s+(?:to\s+be\s+)?)?`;

const RECALL = [
  /\bwhat (?:do|did|can) you (?:remember|recall|know) about me\b/,
  /\bwhat (?:have|did) i (?:told|tell) you\b/,
  /\bwhat do you (?:remember|know) of me\b/,
  /\bwhat (?:things )?(?:are you|have you been) (?:keeping|storing|saving|remembering) about me\b/,
  /\bwhat is in your memory\b/,
  /\bdo you remember anything about me\b/,
  /\btell me what you remember\b/,
];

const FORGET_VERB = String.raw`(?:forget|erase|delete|wipe|remove|clear)`;
const ALL = String.raw`(?:everything|all of it|all that|it all|all about me|all you know|everything you know(?: about me)?|everything i(?: have)? (?:ever )?(?:told|said to) you|all my (?:memories|stories)|your memory|what you know about me|me)`;
const LAST = String.raw`(?:that|this|what i (?:just )?(?:said|told you)|the last thing(?: i said)?|what i said)`;

// The request must end the utterance ("forget that, anyway…" is a figure of speech, not a request).
const TAIL = String.raw`(?: (?:please|now|ok|okay|thanks|thank you|about me|right now))* $`;
const FORGET_ALL = new RegExp(`${LEAD}${FORGET_VERB} ${ALL}${TAIL}`);
const FORGET_LAST = new RegExp(`${LEAD}${FORGET_VERB} ${LAST}${TAIL}`);
const FORGET_ABOUT = new RegExp(
  `${LEAD}${FORGET_VERB} (?:about |what i (?:said|told you) about |everything (?:i (?:said|told you) )?about |anything (?:i (?:said|told you) )?about )` +
  String.raw`((?:my|the|our|his|her) [\p{L}\p{N} ]{2,40}?|[\p{L}\p{N}]{3,20})${TAIL}`,
  'du',
);
const DONT_REMEMBER = /\b(?:please )?do not (?:remember|keep|save|store) (?:that|this|it|what i (?:just )?said)\b/;
// "do not", "will not", "can not", "could not" forget; "I'll never forget".
const NEGATED = /\b(?:not|never)\s+(?:ever\s+)?(?:forget|erase|delete)\b/;

/** The memory request in a participant's utterance, or undefined when there is none. */
export function detectMemoryIntent(text: string): MemoryIntent | undefined {
  const tokens = tokenise(text);
  const t = ` ${tokens.map((w) => w.word).join(' ')} `;
  if (NEGATED.test(t)) return undefined;
  if (DONT_REMEMBER.test(t)) return { kind: 'forget-last' };
  if (FORGET_ALL.test(t)) return { kind: 'forget-all' };
  const about = FORGET_ABOUT.exec(t);
  if (about) return { kind: 'forget-about', topic: inOwnWords(text, tokens, t, about.indices![1]!) };
  if (FORGET_LAST.test(t)) return { kind: 'forget-last' };
  if (RECALL.some((r) => r.test(t))) return { kind: 'recall' };
  return undefined;
}

/** True when the utterance asks what the robot remembers. */
export const asksWhatIsRemembered = (text: string): boolean => detectMemoryIntent(text)?.kind === 'recall';

/** True when the utterance asks the robot to forget something (or everything). */
export const asksToForget = (text: string): boolean => {
  const k = detectMemoryIntent(text)?.kind;
  return k === 'forget-last' || k === 'forget-all' || k === 'forget-about';
};

/** The original spelling (lower case) of the words at `[start, end)` of the padded normal form `t`. */
function inOwnWords(text: string, tokens: readonly Token[], t: string, [start, end]: [number, number]): string {
  const wordsBefore = (at: number): number => t.slice(0, at).trim().split(' ').filter(Boolean).length;
  const first = tokens[wordsBefore(start)];
  const last = tokens[wordsBefore(end) - 1];
  return first && last ? text.slice(first.start, last.end).toLowerCase() : t.slice(start, end).trim();
}
