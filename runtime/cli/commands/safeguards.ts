import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import {
  DEFAULT_TRAIN_SETTINGS, evaluate, evaluateParts, fitPrepared, parseLabelledSet, prepareCases, scorePrepared, type Evaluation, type LabelledCase, type LearnedLayer,
  type PartsEvaluation,
} from '../../../behaviors/index.js';
import { loadLearnedLayer } from '../../safeguard-model.js';

/** A mistake in how `hearth safeguards` was called: one line, exit code 2. */
export class SafeguardsCommandError extends Error {
  override readonly name = 'SafeguardsCommandError';
  readonly exitCode = 2;
}

/** How `evalLines` runs. */
export interface EvalOptions {
  json?: boolean;
  cases?: boolean;
  /** k-fold cross-validation of the learned layer on this file instead of the shipped model. */
  cv?: number;
  /** Evaluate the rules only (no encoder or model is loaded). */
  rulesOnly?: boolean;
  /** Injected learned layer (tests); loaded from models/ otherwise. */
  layer?: LearnedLayer | null;
  /** Where to say that the learned layer could not be loaded. */
  warn?: (line: string) => void;
}

/** Evaluate a labelled JSONL file; the lines `hearth safeguards eval` prints, in order. */
export async function evalLines(file: string, options: EvalOptions): Promise<string[]> {
  let content: string;
  try {
    content = readFileSync(file, 'utf8');
  } catch (e) {
    throw new SafeguardsCommandError(`${file}: cannot read the labelled set (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const cases = parseLabelledSet(file, content);
  if (cases.length === 0) throw new SafeguardsCommandError(`${file}: no cases (expected one JSON object per line)`);
  if (options.cv !== undefined && !(Number.isInteger(options.cv) && options.cv >= 2 && options.cv <= cases.length)) {
    throw new SafeguardsCommandError(`option --cv: expected a whole number of folds from 2 to ${cases.length}, got ${options.cv}`);
  }
  const parts = options.rulesOnly ? null : await partsFor(cases, options);
  const result = parts?.combined ?? evaluate(cases);
  const lines = options.cases ? result.cases.map((c) => JSON.stringify({ id: c.id, flagged: c.flagged })) : [];
  if (options.json) {
    lines.push(JSON.stringify(result.metrics));
    if (parts) lines.push(JSON.stringify({ parts: { rules: parts.rules.metrics, model: parts.model.metrics, combined: parts.combined.metrics }, method: options.cv ? `cv-${options.cv}` : 'shipped-model' }));
  } else {
    lines.push(...table(result));
    if (parts) lines.push('', options.cv ? `by part (${options.cv}-fold cross-validation on this file; thresholds chosen on the same folds)` : 'by part (shipped model)', ...partsTable(parts));
  }
  return lines;
}

async function partsFor(cases: LabelledCase[], options: EvalOptions): Promise<PartsEvaluation | null> {
  let layer = options.layer;
  if (layer === undefined) {
    try {
      layer = await loadLearnedLayer();
    } catch (e) {
      if (options.cv) throw new SafeguardsCommandError(`--cv needs the sentence encoder: ${(e as Error).message}`);
      (options.warn ?? ((l) => process.stderr.write(`${l}\n`)))(`hearth safeguards: learned layer unavailable (${(e as Error).message}); evaluating the rules only`);
      return null;
    }
  }
  if (!layer) return null;
  const encoder = layer.encoder;
  const encode = (texts: string[]) => encoder.encode(texts);
  if (options.cv) {
    const settings = { ...DEFAULT_TRAIN_SETTINGS, k: options.cv };
    const prepared = await prepareCases(cases, encode, settings.windowTurns);
    const { artefact, outOfFold } = fitPrepared(prepared, settings, { version: 'cv', encoder: { id: encoder.id, dimension: encoder.dimension }, files: [] });
    return evaluateParts(cases, outOfFold, artefact.labels);
  }
  const artefact = layer.model.artefact;
  const prepared = await prepareCases(cases, encode, artefact.window.participantTurns);
  return evaluateParts(cases, scorePrepared(prepared, artefact), artefact.labels);
}

const f = (x: number | null): string => (x === null ? '   -  ' : x.toFixed(3).padStart(6));
const ci = (x: [number, number] | null): string => (x === null ? '       -      ' : `[${x[0].toFixed(3)}, ${x[1].toFixed(3)}]`);

function table(result: Evaluation): string[] {
  return [
    'label             n    tp    fp    fn  precision  recall    fpr  recall 95% CI    fpr 95% CI',
    ...Object.entries(result.metrics).map(
      ([label, m]) => `${label.padEnd(15)} ${String(m.n).padStart(3)} ${String(m.tp).padStart(5)} ${String(m.fp).padStart(5)} ${String(m.fn).padStart(5)}     ${f(m.precision)}  ${f(m.recall)} ${f(m.fpr)}  ${ci(m.recallCi)}  ${ci(m.fprCi)}`,
    ),
  ];
}

function partsTable(parts: PartsEvaluation): string[] {
  return [
    'label           rules recall/fpr   model recall/fpr   combined recall/fpr',
    ...Object.keys(parts.combined.metrics).map((label) => {
      const cell = (e: Evaluation) => `${f(e.metrics[label as keyof Evaluation['metrics']].recall)} ${f(e.metrics[label as keyof Evaluation['metrics']].fpr)}`;
      return `${label.padEnd(15)} ${cell(parts.rules)}      ${cell(parts.model)}      ${cell(parts.combined)}`;
    }),
  ];
}

/** `hearth safeguards eval FILE.jsonl [--json] [--cases]`: precision, recall and FPR of the safeguard checks. */
export function register(program: Command): void {
  const safeguards = program.command('safeguards').description('value-aware safeguards: evaluate the checks on a labelled set');
  safeguards
    .command('eval')
    .argument('<file.jsonl>', 'labelled cases: {"id","direction","text","label","context"?} per line')
    .description('run the safeguard checks (rules and learned model) on every case and print per-label n, tp, fp, fn, precision, recall, fpr with 95% Wilson intervals, overall, and a breakdown by part')
    .option('--json', 'print the metrics as one JSON object (then one {"parts":…} line for rules, model and combined) instead of tables')
    .option('--cases', 'first print one JSON line per case: {"id","flagged":[labels]}')
    .option('--cv <k>', 'k-fold cross-validate the learned layer on this file (groups kept in one fold) instead of using the shipped model', (v) => Number(v))
    .option('--rules-only', 'evaluate the rules alone (no sentence encoder)')
    .action(async (file: string, o: { json?: boolean; cases?: boolean; cv?: number; rulesOnly?: boolean }) => {
      for (const line of await evalLines(file, o)) console.log(line);
    });
}
