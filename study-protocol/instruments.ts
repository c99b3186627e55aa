/**
 * Instruments administered by voice: items, response scales, understanding spoken answers
 * ("four", "4", "strongly agree", "skip"), asking again, and scoring with reverse keys.
 */
import { normalise } from '../data/index.js';
import type { InstrumentSpec, Protocol, ScaleSpec, ScoreSpec } from './protocol.js';

/** A response scale: integer points min..max, a spoken label for some points, other phrases per point. */
export interface ResponseScale {
  min: number;
  max: number;
  /** Label per point, e.g. { 5: 'strongly agree' }. Spoken in re-prompts and understood in answers. */
  labels?: Readonly<Record<number | string, string>>;
  /** Other phrases per point, e.g. { 1: ['not at all'] }. Matched as whole words. */
  phrases?: Readonly<Record<number | string, readonly string[]>>;
}

/** One item ready to administer. */
export interface Item {
  code: string;
  prompt: string;
  scale: ResponseScale;
  /** Reverse-keyed: scored as min + max − value. The stored response keeps the raw value. */
  reverse: boolean;
}

/** An instrument ready to administer: items in order, its scores and the scoring version stored with each response. */
export interface Instrument {
  id: string;
  title: string;
  /** Said once before the first item, when present. */
  intro: string | null;
  scoringVersion: string;
  items: Item[];
  scores: ScoreSpec[];
}

/** Why an answer was not understood; lets the robot pick how to ask again. */
export type UnclearReason = 'empty' | 'ambiguous' | 'out_of_range' | 'negated' | 'unsure' | 'repeat_requested' | 'no_match';

/** What a spoken answer to a scale question meant. */
export type ScaleAnswer =
  | { kind: 'value'; value: number }
  | { kind: 'skip' }
  | { kind: 'unclear'; reason: UnclearReason };

/** The instruments of a protocol by id, with scales resolved. */
export function instrumentsOf(protocol: Protocol): Map<string, Instrument> {
  return new Map(protocol.instruments.map((spec) => [spec.id, toInstrument(spec, protocol.scales ?? {})]));
}

/** One instrument of a protocol, scales resolved; throws when the id is unknown. */
export function instrumentOf(protocol: Protocol, id: string): Instrument {
  const spec = protocol.instruments.find((i) => i.id === id);
  if (!spec) throw new RangeError(`protocol ${protocol.study.id} has no instrument "${id}"`);
  return toInstrument(spec, protocol.scales ?? {});
}

function toInstrument(spec: InstrumentSpec, scales: Record<string, ScaleSpec>): Instrument {
  return {
    id: spec.id,
    title: spec.title ?? spec.id,
    intro: spec.intro ?? null,
    scoringVersion: spec.scoring_version,
    items: spec.items.map((it) => {
      const scale = typeof it.scale === 'string' ? scales[it.scale] : it.scale;
      if (!scale) throw new RangeError(`instrument ${spec.id} item ${it.code}: unknown scale "${String(it.scale)}"`);
      return { code: it.code, prompt: it.prompt, scale: { min: scale.min, max: scale.max, labels: scale.labels ?? {}, phrases: scale.phrases ?? {} }, reverse: it.reverse ?? false };
    }),
    scores: spec.scores ?? [],
  };
}

const NUMBER_WORDS: Record<string, number> = {
  zero: 0, one: 1, two: 2, three: 3, four: 4, five: 5, six: 6, seven: 7, eight: 8, nine: 9, ten: 10,
  eleven: 11, twelve: 12, thirteen: 13, fourteen: 14, fifteen: 15, sixteen: 16, seventeen: 17, eighteen: 18,
  nineteen: 19, twenty: 20,
  first: 1, second: 2, third: 3, fourth: 4, fifth: 5, sixth: 6, seventh: 7, eighth: 8, ninth: 9,
};
// Words a recogniser produces for a spoken number; they only count when they are the whole answer.
const HOMOPHONES: Record<string, number> = { won: 1, to: 2, too: 2, tree: 3, free: 3, for: 4, fore: 4, fiv: 5, sicks: 6, ate: 8, nein: 9 };
// Ordinals are numbers only in "the fourth one"; "first of all" is not an answer.
const ORDINALS = new Set(['first', 'second', 'third', 'fourth', 'fifth', 'sixth', 'seventh', 'eighth', 'ninth']);

// Patterns over the normal form (`normalise` of data/language): "don't", "don’t" and "dont" all read "do not".
const SKIP = /\b(skip( it| this| that)?|pass|next question|(i would )?rather not( say| answer)?|prefer not( to)?( say| answer)?|(i )?do not want to (say|answer)|no comment|move on)\b/;
const REPEAT = /^(what|sorry|pardon|huh|excuse me|come again)$|\b(say (that|it) again|repeat( that| the question)?|did not (hear|catch)|what was the question|can you repeat)\b/;
const UNSURE = /\b(do not know|dunno|not sure|no idea|can not say|hard to say|no clue)\b/;
// A negator right before a label, past one intensifier ("not very pleasant"); "do not", "did not",
// "would not" and "is not" all end in "not". Tighter than data/language's `negatedAt` window on purpose.
const NEGATION = /(?:^| )(not|never|no)(?: (?:really|very|quite|that|so|at all))? $/;

/** The normal form of `data/language/` (contractions expanded), after `4/5` to `4 out of 5` and `4.5` to `4 point 5`. */
export function normaliseAnswer(text: string): string {
  return normalise(text.replace(/(\d+)\s*\/\s*(\d+)/g, '$1 out of $2').replace(/(\d)\.(\d)/g, '$1 point $2'));
}

/**
 * Interpret a spoken answer on a scale: digits ("4"), number words ("four"), labels and phrases
 * ("strongly agree"), "skip". Anything ambiguous ("three or four", "four and a half", "I agree…
 * no, strongly agree" is fine, "agree or disagree" is not), negated ("not very pleasant"),
 * out of range or unrecognised is `unclear` with a reason, so the robot asks again.
 */
export function parseScaleAnswer(text: string, scale: ResponseScale): ScaleAnswer {
  const t = normaliseAnswer(text);
  if (t === '') return { kind: 'unclear', reason: 'empty' };
  if (SKIP.test(t)) return { kind: 'skip' };

  const words = t.split(' ');
  const numbers: number[] = [];
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    if (/^\d+$/.test(w)) numbers.push(Number(w));
    else if (w in NUMBER_WORDS && (!ORDINALS.has(w) || words[i + 1] === 'one' || words.length <= 2)) {
      const prev = words[i - 1] ?? '';
      if (w === 'one' && (['the', 'this', 'that', 'no', 'which', 'any', 'every', 'some', 'last', 'next'].includes(prev) || ORDINALS.has(prev))) continue;
      numbers.push(NUMBER_WORDS[w]!);
    } else if (w in HOMOPHONES && words.length === 1) numbers.push(HOMOPHONES[w]!);
  }
  if (/\b(half|point|and a bit|ish)\b/.test(t) && numbers.length > 0) return { kind: 'unclear', reason: 'ambiguous' };
  // "four out of five", "on a scale of one to nine, seven": drop the scale's own bounds when named as such.
  let counted = numbers;
  if (numbers.length > 1) {
    const bounds: number[] = [];
    for (const m of t.matchAll(/\b(?:out of|scale of (\w+) to|from (\w+) to) (\w+)\b/g)) {
      for (const g of [m[1], m[2], m[3]]) {
        if (g === undefined) continue;
        const n = /^\d+$/.test(g) ? Number(g) : NUMBER_WORDS[g];
        if (n !== undefined) bounds.push(n);
      }
    }
    for (const b of bounds) {
      const at = counted.indexOf(b);
      if (at >= 0) counted = [...counted.slice(0, at), ...counted.slice(at + 1)];
    }
  }

  const labelled = labelValues(t, scale);
  if (labelled === 'negated') return { kind: 'unclear', reason: 'negated' };
  const values = new Set([...counted, ...labelled]);
  if (values.size > 1) return { kind: 'unclear', reason: 'ambiguous' };
  if (values.size === 1) {
    const value = [...values][0]!;
    return value >= scale.min && value <= scale.max ? { kind: 'value', value } : { kind: 'unclear', reason: 'out_of_range' };
  }
  if (REPEAT.test(t)) return { kind: 'unclear', reason: 'repeat_requested' };
  if (UNSURE.test(t)) return { kind: 'unclear', reason: 'unsure' };
  return { kind: 'unclear', reason: 'no_match' };
}

/** Values whose labels or phrases occur in `t` as maximal whole-word matches; 'negated' when one is negated. */
function labelValues(t: string, scale: ResponseScale): number[] | 'negated' {
  const matches: { value: number; start: number; end: number; phrase: string }[] = [];
  const padded = ` ${t} `;
  const add = (value: number, phrase: string): void => {
    const p = normaliseAnswer(phrase);
    if (p === '' || /^\d+$/.test(p)) return;
    let from = 0;
    for (;;) {
      const at = padded.indexOf(` ${p} `, from);
      if (at < 0) break;
      matches.push({ value, start: at, end: at + p.length + 1, phrase: p });
      from = at + 1;
    }
  };
  for (const [k, label] of Object.entries(scale.labels ?? {})) add(Number(k), label);
  for (const [k, phrases] of Object.entries(scale.phrases ?? {})) for (const p of phrases) add(Number(k), p);
  // Keep maximal matches: "strongly agree" swallows the "agree" inside it.
  const maximal = matches.filter((m) => !matches.some((o) => o !== m && o.start <= m.start && o.end >= m.end && o.end - o.start > m.end - m.start));
  for (const m of maximal) {
    const before = padded.slice(0, m.start + 1);
    if (NEGATION.test(before) && !/^(not|no|never|do not)\b/.test(m.phrase)) return 'negated';
  }
  return [...new Set(maximal.map((m) => m.value))];
}

/** What a spoken answer to a yes/no question (e.g. a consent question) meant. */
export type YesNoAnswer = { kind: 'yes' } | { kind: 'no' } | { kind: 'unclear'; reason: UnclearReason };

/** Interpret a yes/no answer. "Yes", "sure", "okay" / "no", "I'd rather not"; mixed or hedged answers are unclear. */
export function parseYesNo(text: string): YesNoAnswer {
  const t = normaliseAnswer(text);
  if (t === '') return { kind: 'unclear', reason: 'empty' };
  // "I don't mind" is consent, so take it out before looking for "don't".
  const u = t.replace(/\b(i )?do not mind\b/g, ' yes ');
  const no = /\b(no|nope|nah|do not|rather not|prefer not|not okay|not ok|decline|never|i object|refuse)\b/.test(u);
  const yes = /\b(yes|yeah|yep|yup|sure|okay|ok|of course|fine|alright|all right|go ahead|i agree|i consent|absolutely|certainly|please do)\b/.test(u);
  if (yes && !no) return { kind: 'yes' };
  if (no && !yes) return { kind: 'no' };
  if (yes && no) return { kind: 'unclear', reason: 'ambiguous' };
  if (REPEAT.test(t)) return { kind: 'unclear', reason: 'repeat_requested' };
  if (UNSURE.test(t)) return { kind: 'unclear', reason: 'unsure' };
  return { kind: 'unclear', reason: 'no_match' };
}

/** How to ask an item again after an unclear answer: names the accepted answers, and "skip". */
export function repromptFor(item: Item, reason: UnclearReason): string {
  const { min, max } = item.scale;
  const labels = Object.entries(item.scale.labels ?? {})
    .filter(([, l]) => !/^\d+$/.test(l.trim()))
    .sort(([a], [b]) => Number(a) - Number(b))
    .map(([, l]) => l);
  const choices = labels.length === max - min + 1
    ? `You can say ${listOr(labels)}, or a number from ${min} to ${max}.`
    : `Please answer with a number from ${min} to ${max}${labels.length >= 2 ? `, where ${min} is ${item.scale.labels?.[min] ?? labels[0]} and ${max} is ${item.scale.labels?.[max] ?? labels.at(-1)}` : ''}.`;
  const lead = reason === 'repeat_requested' ? `Of course. ${item.prompt}`
    : reason === 'out_of_range' ? `That's outside the scale.`
    : reason === 'ambiguous' ? `I heard more than one answer.`
    : reason === 'unsure' ? `That's okay, just your best guess.`
    : `Sorry, I didn't catch that.`;
  return `${lead} ${choices} Or say skip.`;
}

const listOr = (xs: string[]): string => (xs.length <= 1 ? xs.join('') : `${xs.slice(0, -1).join(', ')} or ${xs.at(-1)}`);

/** The scored value of an item: reverse keys applied. */
export function scoredValue(item: Item, value: number): number {
  return item.reverse ? item.scale.min + item.scale.max - value : value;
}

/** A computed score: null when too few items were answered. */
export interface Score {
  name: string;
  value: number | null;
  method: ScoreSpec['method'];
  answered: number;
  items: number;
  scoringVersion: string;
}

/**
 * Scores of an instrument from raw answers by item code (null/undefined = skipped or unanswered).
 * Reverse keys applied. `sum` needs every item unless `min_answered` says otherwise; `mean` and
 * `prorated_sum` (mean × item count) need `min_answered` (default 1).
 */
export function scoreInstrument(instrument: Instrument, answers: Readonly<Record<string, number | null | undefined>>): Score[] {
  const items = new Map(instrument.items.map((i) => [i.code, i]));
  return instrument.scores.map((spec) => {
    const values: number[] = [];
    for (const code of spec.items) {
      const item = items.get(code);
      if (!item) throw new RangeError(`instrument ${instrument.id}: score ${spec.name} names unknown item ${code}`);
      const raw = answers[code];
      if (raw === null || raw === undefined) continue;
      if (!Number.isInteger(raw) || raw < item.scale.min || raw > item.scale.max) {
        throw new RangeError(`instrument ${instrument.id} item ${code}: answer ${raw} is outside ${item.scale.min}–${item.scale.max}`);
      }
      values.push(scoredValue(item, raw));
    }
    const need = spec.min_answered ?? (spec.method === 'sum' ? spec.items.length : 1);
    const sum = values.reduce((a, b) => a + b, 0);
    const value = values.length < need ? null
      : spec.method === 'sum' ? sum
      : spec.method === 'mean' ? sum / values.length
      : (sum / values.length) * spec.items.length;
    return { name: spec.name, value, method: spec.method, answered: values.length, items: spec.items.length, scoringVersion: instrument.scoringVersion };
  });
}

/** The response row fields for one administered item (the store adds session, time and order). */
export interface ItemResponse {
  instrument: string;
  item: string;
  /** The raw answer on the scale (not reverse-scored); null when skipped or unanswered. */
  value: number | null;
  rawText: string | null;
  status: 'answered' | 'skipped' | 'unanswered';
  scoringVersion: string;
}

/** Turn the final answer to an item into a response row; `unclear` after the last attempt is `unanswered`. */
export function responseFor(instrument: Instrument, item: Item, answer: ScaleAnswer, rawText: string | null): ItemResponse {
  const base = { instrument: instrument.id, item: item.code, rawText, scoringVersion: instrument.scoringVersion };
  if (answer.kind === 'value') return { ...base, value: answer.value, status: 'answered' };
  return { ...base, value: null, status: answer.kind === 'skip' ? 'skipped' : 'unanswered' };
}
