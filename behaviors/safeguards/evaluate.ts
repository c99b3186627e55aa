/**
 * The labelled-set evaluator behind `hearth safeguards eval`: parses JSONL cases strictly,
 * runs the layer on each, and computes precision, recall and false-positive rate per label.
 */
import { checkInput, checkOutput } from './layer.js';
import { EVAL_LABELS, INPUT_LABELS, OUTPUT_LABELS, type DisclosedValue, type EvalLabel, type SafeguardContext } from './types.js';

/** One labelled case. */
export interface LabelledCase {
  id: string;
  direction: 'input' | 'output';
  text: string;
  label: EvalLabel;
  context: SafeguardContext;
  /** 1-based line in the source file. */
  line: number;
  /** Cases of one group (a sentence and its speech-recogniser twin) stay on one side of a split; defaults to the id. */
  group: string;
  /** `typed` or `asr` (speech-recogniser form); absent in older sets. */
  form?: 'typed' | 'asr';
  /** Sub-categories (C-SSRS rung, tactic, kind of hard negative). */
  tags: string[];
}

/** A labelled set line that cannot be used: the message names file, line and problem. */
export class LabelledSetError extends Error {
  override readonly name = 'LabelledSetError';
  readonly exitCode = 2;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

const INPUT_SET = new Set<string>(INPUT_LABELS);
const OUTPUT_SET = new Set<string>(OUTPUT_LABELS);

/** Parse a labelled set (JSONL). Unknown labels, bad JSON, missing fields and duplicate ids are errors. */
export function parseLabelledSet(source: string, content: string): LabelledCase[] {
  const cases: LabelledCase[] = [];
  const ids = new Set<string>();
  content.split(/\r?\n/).forEach((raw, index) => {
    const line = index + 1;
    if (raw.trim() === '') return;
    const where = `${source}:${line}`;
    let obj: unknown;
    try {
      obj = JSON.parse(raw);
    } catch (cause) {
      throw new LabelledSetError(`${where}: not valid JSON (${(cause as Error).message})`, { cause });
    }
    if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) throw new LabelledSetError(`${where}: expected a JSON object`);
    const o = obj as Record<string, unknown>;
    if (typeof o.id !== 'string' || o.id === '') throw new LabelledSetError(`${where}: "id" must be a non-empty string`);
    if (ids.has(o.id)) throw new LabelledSetError(`${where}: duplicate id "${o.id}"`);
    if (o.direction !== 'input' && o.direction !== 'output') throw new LabelledSetError(`${where}: "direction" must be "input" or "output", got ${JSON.stringify(o.direction)}`);
    if (typeof o.text !== 'string') throw new LabelledSetError(`${where}: "text" must be a string`);
    if (typeof o.label !== 'string' || !(EVAL_LABELS as readonly string[]).includes(o.label)) {
      throw new LabelledSetError(`${where}: unknown label ${JSON.stringify(o.label)} (known: ${EVAL_LABELS.join(', ')})`);
    }
    if (o.direction === 'input' && OUTPUT_SET.has(o.label)) throw new LabelledSetError(`${where}: label "${o.label}" is an output label but direction is "input"`);
    if (o.direction === 'output' && INPUT_SET.has(o.label)) throw new LabelledSetError(`${where}: label "${o.label}" is an input label but direction is "output"`);
    if (o.group !== undefined && (typeof o.group !== 'string' || o.group === '')) throw new LabelledSetError(`${where}: "group" must be a non-empty string`);
    if (o.form !== undefined && o.form !== 'typed' && o.form !== 'asr') throw new LabelledSetError(`${where}: "form" must be "typed" or "asr", got ${JSON.stringify(o.form)}`);
    if (o.tags !== undefined && (!Array.isArray(o.tags) || !o.tags.every((t) => typeof t === 'string'))) throw new LabelledSetError(`${where}: "tags" must be an array of strings`);
    ids.add(o.id);
    cases.push({
      id: o.id, direction: o.direction, text: o.text, label: o.label as EvalLabel, context: parseContext(where, o.context), line,
      group: (o.group as string | undefined) ?? o.id, ...(o.form ? { form: o.form as 'typed' | 'asr' } : {}), tags: (o.tags as string[] | undefined) ?? [],
    });
  });
  return cases;
}

function parseContext(where: string, ctx: unknown): SafeguardContext {
  if (ctx === undefined || ctx === null) return {};
  if (typeof ctx !== 'object' || Array.isArray(ctx)) throw new LabelledSetError(`${where}: "context" must be an object`);
  const c = ctx as Record<string, unknown>;
  const out: SafeguardContext = {};
  const values = c.disclosedValues ?? c.values;
  if (values !== undefined) {
    if (!Array.isArray(values)) throw new LabelledSetError(`${where}: "context.disclosedValues" must be an array`);
    out.disclosedValues = values.map((v, i): DisclosedValue => {
      if (typeof v === 'string') return v;
      if (v && typeof v === 'object' && typeof (v as { value?: unknown }).value === 'string') return { value: (v as { value: string }).value };
      throw new LabelledSetError(`${where}: "context.disclosedValues[${i}]" must be a string or {"value": string}`);
    });
  }
  const turns = c.previousTurns;
  if (turns !== undefined) {
    if (!Array.isArray(turns) || !turns.every((t) => typeof t === 'string')) throw new LabelledSetError(`${where}: "context.previousTurns" must be an array of strings`);
    out.previousTurns = turns as string[];
  }
  return out;
}

/** Metrics for one label. */
export interface LabelMetrics {
  n: number;
  tp: number;
  fp: number;
  fn: number;
  precision: number | null;
  recall: number | null;
  fpr: number | null;
  /** 95% Wilson score interval of the recall, [low, high]. */
  recallCi: [number, number] | null;
  /** 95% Wilson score interval of the false-positive rate. */
  fprCi: [number, number] | null;
}

/** One case's outcome: the scored labels the layer raised. */
export interface CaseOutcome {
  id: string;
  flagged: EvalLabel[];
}

/** The full evaluation: per label (and `overall`) metrics plus per-case outcomes. */
export interface Evaluation {
  metrics: Record<EvalLabel | 'overall', LabelMetrics>;
  cases: CaseOutcome[];
}

const ratio = (a: number, b: number): number | null => (b === 0 ? null : Math.round((a / b) * 10_000) / 10_000);

/** 95% Wilson score interval for k successes in n trials (null when n = 0). */
export function wilson(k: number, n: number, z = 1.959964): [number, number] | null {
  if (n === 0) return null;
  const p = k / n;
  const denom = 1 + (z * z) / n;
  const centre = (p + (z * z) / (2 * n)) / denom;
  const half = (z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n))) / denom;
  const r = (x: number): number => Math.round(Math.min(1, Math.max(0, x)) * 10_000) / 10_000;
  return [r(centre - half), r(centre + half)];
}

function metrics(n: number, tp: number, fp: number, negatives: number): LabelMetrics {
  return { n, tp, fp, fn: n - tp, precision: ratio(tp, tp + fp), recall: ratio(tp, n), fpr: ratio(fp, negatives), recallCi: wilson(tp, n), fprCi: wilson(fp, negatives) };
}

/** The scored labels the rules raise for one case (extra input signals are not scored). */
export function flaggedLabels(c: Pick<LabelledCase, 'direction' | 'text' | 'context'>): EvalLabel[] {
  const scored = c.direction === 'input' ? INPUT_SET : OUTPUT_SET;
  const verdict = c.direction === 'input' ? checkInput(c.text, c.context) : checkOutput(c.text, c.context);
  // A check that errored fails closed: it counts as flagging its label.
  return verdict.results.filter((r) => r.decision !== 'pass' && scored.has(r.check)).map((r) => r.check as EvalLabel);
}

/**
 * Evaluate the rules on cases. For a label L: n cases carry L, tp of them were flagged L, fp cases
 * not labelled L (in L's direction) were flagged L, fpr = fp / cases of that direction not labelled
 * L. For `none`: a case "predicts none" when nothing was flagged; fpr = labelled cases missed
 * entirely / labelled cases. `overall` pools the eight risk labels; its fpr is the share of `none`
 * cases with any flag.
 */
export function evaluate(cases: readonly LabelledCase[]): Evaluation {
  return evaluateFlags(cases, cases.map(flaggedLabels));
}

/** The same metrics as `evaluate`, from flags decided elsewhere (one list per case, in order). */
export function evaluateFlags(cases: readonly Pick<LabelledCase, 'id' | 'direction' | 'label'>[], flags: readonly (readonly string[])[]): Evaluation {
  const outcomes = cases.map((c, i) => ({ c, flagged: flags[i] as EvalLabel[] }));
  const result = {} as Record<EvalLabel | 'overall', LabelMetrics>;
  let sumN = 0, sumTp = 0, sumFp = 0;
  for (const label of [...INPUT_LABELS, ...OUTPUT_LABELS]) {
    const direction = INPUT_SET.has(label) ? 'input' : 'output';
    const pool = outcomes.filter((o) => o.c.direction === direction);
    const n = pool.filter((o) => o.c.label === label).length;
    const tp = pool.filter((o) => o.c.label === label && o.flagged.includes(label)).length;
    const fp = pool.filter((o) => o.c.label !== label && o.flagged.includes(label)).length;
    result[label] = metrics(n, tp, fp, pool.length - n);
    sumN += n; sumTp += tp; sumFp += fp;
  }
  const noneCases = outcomes.filter((o) => o.c.label === 'none');
  const labelled = outcomes.filter((o) => o.c.label !== 'none');
  const noneTp = noneCases.filter((o) => o.flagged.length === 0).length;
  const missed = labelled.filter((o) => o.flagged.length === 0).length;
  result.none = metrics(noneCases.length, noneTp, missed, labelled.length);
  const overall = metrics(sumN, sumTp, sumFp, 0);
  overall.fpr = ratio(noneCases.length - noneTp, noneCases.length);
  overall.fprCi = wilson(noneCases.length - noneTp, noneCases.length);
  result.overall = overall;
  return { metrics: result, cases: outcomes.map((o) => ({ id: o.c.id, flagged: o.flagged })) };
}

/** Share of `none` cases of a label's direction that were flagged with that label. */
export function fprOnNone(cases: readonly LabelledCase[], evaluation: Evaluation, label: Exclude<EvalLabel, 'none'>): number | null {
  const direction = INPUT_SET.has(label) ? 'input' : 'output';
  const flagged = new Map(evaluation.cases.map((c) => [c.id, c.flagged]));
  const none = cases.filter((c) => c.label === 'none' && c.direction === direction);
  return ratio(none.filter((c) => flagged.get(c.id)?.includes(label)).length, none.length);
}
