import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
// The lead re-exports behaviors/safeguards from behaviors/index.ts; import from there once it does.
import { evaluate, parseLabelledSet, type Evaluation } from '../../../behaviors/safeguards/index.js';

/** A mistake in how `hearth safeguards` was called: one line, exit code 2. */
export class SafeguardsCommandError extends Error {
  override readonly name = 'SafeguardsCommandError';
  readonly exitCode = 2;
}

/** Evaluate a labelled JSONL file; the lines `hearth safeguards eval` prints, in order. */
export function evalLines(file: string, options: { json?: boolean; cases?: boolean }): string[] {
  let content: string;
  try {
    content = readFileSync(file, 'utf8');
  } catch (e) {
    throw new SafeguardsCommandError(`${file}: cannot read the labelled set (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const cases = parseLabelledSet(file, content);
  if (cases.length === 0) throw new SafeguardsCommandError(`${file}: no cases (expected one JSON object per line)`);
  const result = evaluate(cases);
  const lines = options.cases ? result.cases.map((c) => JSON.stringify({ id: c.id, flagged: c.flagged })) : [];
  lines.push(...(options.json ? [JSON.stringify(result.metrics)] : table(result)));
  return lines;
}

function table(result: Evaluation): string[] {
  const f = (x: number | null): string => (x === null ? '   -  ' : x.toFixed(3).padStart(6));
  return [
    'label             n    tp    fp    fn  precision  recall    fpr',
    ...Object.entries(result.metrics).map(
      ([label, m]) => `${label.padEnd(15)} ${String(m.n).padStart(3)} ${String(m.tp).padStart(5)} ${String(m.fp).padStart(5)} ${String(m.fn).padStart(5)}     ${f(m.precision)}  ${f(m.recall)} ${f(m.fpr)}`,
    ),
  ];
}

/** `hearth safeguards eval FILE.jsonl [--json] [--cases]`: precision, recall and FPR of the safeguard checks. */
export function register(program: Command): void {
  const safeguards = program.command('safeguards').description('value-aware safeguards: evaluate the checks on a labelled set');
  safeguards
    .command('eval')
    .argument('<file.jsonl>', 'labelled cases: {"id","direction","text","label","context"?} per line')
    .description('run the offline checks on every case and print per-label n, tp, fp, fn, precision, recall, fpr and overall')
    .option('--json', 'print one JSON object instead of a table')
    .option('--cases', 'first print one JSON line per case: {"id","flagged":[labels]}')
    .action((file: string, o: { json?: boolean; cases?: boolean }) => {
      for (const line of evalLines(file, o)) console.log(line);
    });
}
