/**
 * Per-part evaluation of the safeguard layer: the rules alone, the learned model alone, and the
 * two combined (either fires), on the same cases.
 */
import { evaluateFlags, type Evaluation, type LabelledCase } from '../evaluate.js';
import type { CaseScores } from './fit-artefact.js';
import type { LearnedLabel } from './model.js';

/** The three views of one labelled set. */
export interface PartsEvaluation {
  rules: Evaluation;
  model: Evaluation;
  combined: Evaluation;
}

/** Flags per part from per-case rule flags and model scores at the thresholds of `labels` (an artefact's). */
export function evaluateParts(
  cases: readonly Pick<LabelledCase, 'id' | 'direction' | 'label'>[],
  scores: readonly CaseScores[],
  labels: Partial<Record<LearnedLabel, { threshold: number }>>,
): PartsEvaluation {
  const byId = new Map(scores.map((s) => [s.id, s]));
  const rules: string[][] = [];
  const model: string[][] = [];
  const combined: string[][] = [];
  for (const c of cases) {
    const s = byId.get(c.id);
    const r = s?.rules ?? [];
    const m = Object.entries(s?.model ?? {})
      .filter(([label, p]) => p >= (labels[label as LearnedLabel]?.threshold ?? Infinity))
      .map(([label]) => label);
    rules.push(r);
    model.push(m);
    combined.push([...new Set([...r, ...m])]);
  }
  return { rules: evaluateFlags(cases, rules), model: evaluateFlags(cases, model), combined: evaluateFlags(cases, combined) };
}
