/**
 * What the participant asks of the robot's memory, from a transcript. Pure functions. They err towards
 * "not a request": "I'll never forget that day" or "don't forget my birthday" must not delete anything,
 * and a missed request can simply be asked again.
 */

/** A memory request. */
export type MemoryIntent =
  | { kind: 'recall' }
  | { kind: 'forget-last' }
  | { kind: 'forget-all' }
  | { kind: 'forget-about'; topic: string };

const norm = (text: string): string =>
  ` ${text.toLowerCase().replace(/[’`]/g, "'").replace(/[^a-z' ]+/g, ' ').replace(/\s+/g, ' ').trim()} `;

// Politeness and framing that may precede an imperative.
const LEAD = String.raw`(?:^ |\b(?:and|so|ok|okay|now|hey|hearth|robot|actually|also|then)\s+)(?:please\s+)?(?:(?:can|could|would|will)\s+you\s+(?:please\s+)?|i(?:\s+(?:want|need|would\s+like)|'d\s+like)\s+you\s+to\s+|i(?:\s+(?:want|need|would\s+like)|'d\s+like)\s+(?:it|that|this)\s+(?:to\s+be\s+)?)?`;

const RECALL = [
  /\bwhat (?:do|did|can) you (?:remember|recall|know) about me\b/,
  /\bwhat (?:have|did) i (?:told|tell) you\b/,
  /\bwhat do you (?:remember|know) of me\b/,
  /\bwhat (?:things )?(?:are you|have you been) (?:keeping|storing|saving|remembering) about me\b/,
  /\bwhat(?:'s| is) in your memory\b/,
  /\bdo you remember anything about me\b/,
  /\btell me what you remember\b/,
];

const FORGET_VERB = String.raw`(?:forget|erase|delete|wipe|remove|clear)`;
const ALL = String.raw`(?:everything|all of it|all that|it all|all about me|all you know|everything you know(?: about me)?|everything i(?:'ve| have)? (?:ever )?(?:told|said to) you|all my (?:memories|stories)|your memory|what you know about me|me)`;
const LAST = String.raw`(?:that|this|what i (?:just )?(?:said|told you)|the last thing(?: i said)?|what i said)`;

// The request must end the utterance ("forget that, anyway…" is a figure of speech, not a request).
const TAIL = String.raw`(?: (?:please|now|ok|okay|thanks|thank you|about me|right now))* $`;
const FORGET_ALL = new RegExp(`${LEAD}${FORGET_VERB} ${ALL}${TAIL}`);
const FORGET_LAST = new RegExp(`${LEAD}${FORGET_VERB} ${LAST}${TAIL}`);
const FORGET_ABOUT = new RegExp(
  `${LEAD}${FORGET_VERB} (?:about |what i (?:said|told you) about |everything (?:i (?:said|told you) )?about |anything (?:i (?:said|told you) )?about )` +
  `((?:my|the|our|his|her) [a-z' ]{2,40}?|[a-z']{3,20})${TAIL}`,
);
const DONT_REMEMBER = /\b(?:please )?(?:don't|do not) (?:remember|keep|save|store) (?:that|this|it|what i (?:just )?said)\b/;
const NEGATED = /\b(?:don't|do not|never|won't|will not|can't|cannot|couldn't|i'll never|not)\s+(?:ever\s+)?(?:forget|erase|delete)\b/;

/** The memory request in a participant's utterance, or undefined when there is none. */
export function detectMemoryIntent(text: string): MemoryIntent | undefined {
  const t = norm(text);
  if (NEGATED.test(t)) return undefined;
  if (DONT_REMEMBER.test(t)) return { kind: 'forget-last' };
  if (FORGET_ALL.test(t)) return { kind: 'forget-all' };
  const about = FORGET_ABOUT.exec(t);
  if (about) return { kind: 'forget-about', topic: about[1]!.trim() };
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
