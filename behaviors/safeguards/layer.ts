/** The two entry points the runtime calls: every participant turn in, every robot line out. */
import { INPUT_CHECK_NAMES, INPUT_CHECKS_VERSION, errorResult, runInputChecks } from './input-checks.js';
import { OUTPUT_CHECKS_VERSION, REGENERATE_GUIDANCE, runOutputChecks } from './output-checks.js';
import { OUTPUT_LABELS, type CheckResult, type InputCheckName, type InputVerdict, type OutputCheckName, type OutputVerdict, type SafeguardContext } from './types.js';

/** Input labels and signals that make a turn unsafe to continue the story flow with. */
const UNSAFE_INPUT: ReadonlySet<InputCheckName> = new Set(['crisis', 'harm', 'medical']);

function asText(text: unknown): string {
  return typeof text === 'string' ? text : text === undefined || text === null ? '' : String(text);
}

/** Check one participant turn. Never throws: a failing check makes the verdict unsafe. */
export function checkInput(text: string, ctx: SafeguardContext = {}): InputVerdict {
  let results: CheckResult[];
  try {
    results = runInputChecks(asText(text), ctx ?? {});
  } catch (error) {
    results = INPUT_CHECK_NAMES.map((name) => errorResult(name, INPUT_CHECKS_VERSION, 0.5, error));
  }
  const failed = results.some((r) => r.decision === 'error');
  const flagged = results.filter((r) => r.decision === 'flag').map((r) => r.check as InputCheckName);
  return { safe: !failed && !flagged.some((f) => UNSAFE_INPUT.has(f)), flagged, results, failed };
}

/** Check one robot utterance before it is spoken. Never throws: a failing check makes it unsafe. */
export function checkOutput(text: string, ctx: SafeguardContext = {}): OutputVerdict {
  let results: CheckResult[];
  try {
    results = runOutputChecks(asText(text), ctx ?? {});
  } catch (error) {
    results = OUTPUT_LABELS.map((name) => errorResult(name, OUTPUT_CHECKS_VERSION, 0.5, error));
  }
  if (ctx?.narration) results = results.map((r) => (r.check === 'false-humanity' && r.decision === 'flag' ? { ...r, decision: 'pass' as const } : r));
  const failed = results.some((r) => r.decision === 'error');
  const flagged = results.filter((r) => r.decision === 'flag').map((r) => r.check as OutputCheckName);
  const safe = !failed && flagged.length === 0;
  return { safe, flagged, results, failed, reason: safe ? null : regenerateReason(results) };
}

function regenerateReason(results: readonly CheckResult[]): string {
  const parts = results
    .filter((r) => r.decision !== 'pass')
    .map((r) =>
      r.decision === 'error'
        ? `${r.check} check failed (${r.evidenceSpan?.text ?? 'unknown error'})`
        : `${r.check}: ${REGENERATE_GUIDANCE[r.check as OutputCheckName]} (flagged "${r.evidenceSpan?.text ?? ''}")`,
    );
  return `Rewrite the line. ${parts.join('; ')}.`;
}
