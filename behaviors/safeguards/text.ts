/**
 * The offline scoring engine shared by every check: sentences with offsets, weighted cues with
 * negation scope, and sentence-level modifiers, over the normal form of `data/language/`.
 */
import { negatedAt, NEGATORS, normalise } from '../../data/index.js';
import type { EvidenceSpan } from './types.js';

/** Longest text a check reads; longer turns are checked on their first and last parts. */
export const MAX_CHECKED_CHARS = 8_000;

/** A sentence of the original text with its offsets. */
export interface Sentence {
  start: number;
  end: number;
  raw: string;
  /** The normal form (`normalise` of `data/language/`), quoted speech blanked when `dropQuotes`. */
  norm: string;
}

// Quoted speech after a reporting frame ("the narrator says", "in the story") is the story's
// voice, not the robot's: blank it so "I need you" in a story is not a claim of need.
const REPORTING_FRAME = /\b(story|stories|narrator|character|author|writer|poem|book|says|said|tells|told|asks|asked|wrote)\b/i;
const QUOTED = /"[^"]*"|“[^”]*”/g;

/** Split into sentences (., !, ?, ;, new lines), keeping offsets into the original text. */
export function sentences(text: string, options: { dropQuotes?: boolean } = {}): Sentence[] {
  if (text.length > MAX_CHECKED_CHARS) {
    // Very long turns: check the first and last parts, offsets still into the original text.
    const half = MAX_CHECKED_CHARS / 2;
    const tailFrom = text.length - half;
    return [
      ...sentencesFrom(text.slice(0, half), 0, options),
      ...sentencesFrom(text.slice(tailFrom), tailFrom, options),
    ];
  }
  return sentencesFrom(text, 0, options);
}

function sentencesFrom(text: string, offset: number, options: { dropQuotes?: boolean }): Sentence[] {
  const out: Sentence[] = [];
  const re = /[^.!?;\n]+[.!?;]*["”’)]*|[.!?;\n]+/g;
  for (const m of text.matchAll(re)) {
    const raw = m[0];
    const lead = raw.length - raw.trimStart().length;
    const trimmed = raw.trim();
    if (!trimmed || !/[\p{L}\p{N}]/u.test(trimmed)) continue;
    let forNorm = trimmed;
    if (options.dropQuotes && REPORTING_FRAME.test(trimmed.replace(QUOTED, ''))) {
      forNorm = trimmed.replace(QUOTED, ' ');
      // An opening quote whose closing one is in a later sentence: blank to the end of this one.
      const open = forNorm.search(/["“]/);
      if (open >= 0) forNorm = forNorm.slice(0, open);
    }
    const start = offset + (m.index ?? 0) + lead;
    out.push({ start, end: start + trimmed.length, raw: trimmed, norm: normalise(forNorm) });
  }
  // A sentence split can cut an opening quote from its closing one; the frame test above then
  // sees neither, which keeps the text (fail towards checking, not towards ignoring).
  return out;
}

/** A weighted pattern over normalised text. */
export interface Cue {
  id: string;
  re: RegExp;
  weight: number;
  /** When true, a negator shortly before the match ("not", "never", "no") cancels it. */
  negatable?: boolean;
}

/** A sentence-level modifier: multiplies scores of sentences it matches (after cues). */
export interface Modifier {
  id: string;
  re: RegExp;
  factor: number;
}

/** The best cue in one sentence after negation. */
export interface CueHit {
  weight: number;
  cue: string;
}

/** All cues that fire in `norm`, skipping negated matches of negatable cues. */
export function cueHits(norm: string, cues: readonly Cue[]): CueHit[] {
  const hits: CueHit[] = [];
  for (const c of cues) {
    const re = new RegExp(c.re.source, c.re.flags.includes('g') ? c.re.flags : `${c.re.flags}g`);
    for (const m of norm.matchAll(re)) {
      if (c.negatable && (negatedAt(norm, m.index ?? 0) || m[0].split(' ').some((w) => NEGATORS.has(w)))) continue;
      hits.push({ weight: c.weight, cue: c.id });
      break;
    }
  }
  return hits;
}

/** Combine cue weights like independent evidence (noisy-or), so two weak cues beat one. */
export function noisyOr(weights: readonly number[]): number {
  return 1 - weights.reduce((p, w) => p * (1 - Math.max(0, Math.min(1, w))), 1);
}

/** Best-scoring sentence: score and evidence. */
export interface Scored {
  score: number;
  evidence: EvidenceSpan | null;
}

/**
 * Score `text` with cues per sentence, combining cues in a sentence by noisy-or, then applying
 * modifiers that match the sentence (or, for `textModifiers`, anywhere in the text).
 */
export function scoreSentences(
  text: string,
  cues: readonly Cue[],
  options: { modifiers?: readonly Modifier[]; textModifiers?: readonly Modifier[]; dropQuotes?: boolean; sents?: Sentence[] } = {},
): Scored {
  const sents = options.sents ?? sentences(text, { dropQuotes: options.dropQuotes ?? false });
  const whole = sents.map((s) => s.norm).join(' . ');
  let textFactor = 1;
  for (const m of options.textModifiers ?? []) if (m.re.test(whole)) textFactor *= m.factor;
  let best: Scored = { score: 0, evidence: null };
  for (const s of sents) {
    const hits = cueHits(s.norm, cues);
    if (hits.length === 0) continue;
    let score = noisyOr(hits.map((h) => h.weight));
    for (const m of options.modifiers ?? []) if (m.re.test(s.norm)) score *= m.factor;
    score = Math.min(1, score * textFactor);
    if (score > best.score) {
      const top = hits.reduce((a, b) => (b.weight > a.weight ? b : a));
      best = { score, evidence: { start: s.start, end: s.end, text: s.raw, cue: top.cue } };
    }
  }
  return best;
}
