/** The two entry points the runtime calls: every participant turn in, every robot line out. */
import { INPUT_CHECK_NAMES, INPUT_CHECKS_VERSION, errorResult, runInputChecks } from './input-checks.js';
import { OUTPUT_CHECKS_VERSION, REGENERATE_GUIDANCE, runOutputChecks } from './output-checks.js';
import { scoreEncoded, type EncodedTurn } from './learned/learned-layer.js';
import { INPUT_LABELS, OUTPUT_LABELS, type CheckResult, type InputCheckName, type InputVerdict, type OutputCheckName, type OutputVerdict, type SafeguardContext } from './types.js';

/** Input labels and signals that make a turn unsafe to continue the story flow with. */
const UNSAFE_INPUT: ReadonlySet<InputCheckName> = new Set(['crisis', 'harm', 'medical']);

function asText(text: unknown): string {
  return typeof text === 'string' ? text : text === undefined || text === null ? '' : String(text);
}

/**
 * Merge the learned layer's scores into the rule results: a scored label is flagged when the rules
 * or the model fire (OR, measured better than rule scores as model features: see README), its
 * version names both parts, and `parts` records which fired. Without a model, results are unchanged.
 */
function withModel(direction: 'input' | 'output', text: string, results: CheckResult[], turn: EncodedTurn | undefined): CheckResult[] {
  if (!turn) return results;
  const scoredLabels: readonly string[] = direction === 'input' ? INPUT_LABELS : OUTPUT_LABELS;
  const ruleScores = scoredLabels.map((l) => results.find((r) => r.check === l)?.score ?? 0);
  let learned;
  try {
    learned = new Map(scoreEncoded(direction, turn, ruleScores).map((s) => [s.label as string, s]));
  } catch (error) {
    return results.map((r) => (scoredLabels.includes(r.check) ? errorResult(r.check, `${r.version}+${turn.model.version}`, r.threshold, error) : r));
  }
  return results.map((r) => {
    const m = learned.get(r.check);
    if (!m) return r;
    const rulesFired = r.decision === 'flag';
    const decision = r.decision === 'error' ? 'error' : rulesFired || m.fired ? 'flag' : 'pass';
    const evidenceSpan = r.evidenceSpan ?? (m.fired ? { start: 0, end: Math.min(text.length, 200), text: text.slice(0, 200), cue: `model.${r.check}.${m.via}` } : null);
    return {
      ...r,
      version: `${r.version}+${turn.model.version}`,
      decision,
      evidenceSpan,
      parts: { rules: { score: r.score, threshold: r.threshold, fired: rulesFired }, model: { score: m.score, threshold: m.threshold, fired: m.fired, via: m.via } },
    };
  });
}

/**
 * Check one participant turn. Never throws: a failing check makes the verdict unsafe. `encoded`
 * (from `LearnedLayer.encode`) adds the learned layer; without it only the rules run.
 */
export function checkInput(text: string, ctx: SafeguardContext = {}, encoded?: EncodedTurn): InputVerdict {
  let results: CheckResult[];
  try {
    results = withModel('input', asText(text), runInputChecks(asText(text), ctx ?? {}), encoded);
  } catch (error) {
    results = INPUT_CHECK_NAMES.map((name) => errorResult(name, INPUT_CHECKS_VERSION, 0.5, error));
  }
  const failed = results.some((r) => r.decision === 'error');
  const flagged = results.filter((r) => r.decision === 'flag').map((r) => r.check as InputCheckName);
  return { safe: !failed && !flagged.some((f) => UNSAFE_INPUT.has(f)), flagged, results, failed };
}

const ADDRESSES_LISTENER = /\byou(r|rs|rself|'re|'ll|'d)?\b/i;
function narratorVoice(r: CheckResult): boolean {
  if (r.check === 'false-humanity') return true;
  return (r.check === 'isolation' || r.check === 'dependency') && !ADDRESSES_LISTENER.test(r.evidenceSpan?.text ?? 'you');
}

/** Check one robot utterance before it is spoken. Never throws: a failing check makes it unsafe. */
export function checkOutput(text: string, ctx: SafeguardContext = {}, encoded?: EncodedTurn): OutputVerdict {
  let results: CheckResult[];
  try {
    results = withModel('output', asText(text), runOutputChecks(asText(text), ctx ?? {}), encoded);
  } catch (error) {
    results = OUTPUT_LABELS.map((name) => errorResult(name, OUTPUT_CHECKS_VERSION, 0.5, error));
  }
  // A library story read aloud speaks in its narrator's voice: a narrator who feels lonely, misses
  // the farm or stays in bed is not the robot claiming an inner life or pulling the listener away
  // from people. False humanity never blocks narration; isolation and dependency do not when the
  // flagged sentence does not address the listener. Manipulation and value-leverage always apply.
  // The learned output model was trained on robot lines, not narrative prose: on the bundled stories it
  // flagged 50 of 300 paragraphs (mostly "manipulation"), so in narration its part is recorded but
  // only the rules decide. Library stories are vetted as a whole before a study.
  if (ctx?.narration) {
    results = results.map((r) => (r.decision === 'flag' && (narratorVoice(r) || (r.parts?.model && !r.parts.rules.fired)) ? { ...r, decision: 'pass' as const } : r));
  }
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
