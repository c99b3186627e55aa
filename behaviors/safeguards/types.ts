/** Shared types of the safeguard layer: check names, results and verdicts. */
import type { NewSafeguardEvent } from '../../data/index.js';

/** Labels an input check can raise that the labelled set scores. */
export const INPUT_LABELS = ['crisis', 'harm', 'attachment'] as const;
/** Extra input signals: they steer the reply but are not scored by the labelled set. */
export const INPUT_SIGNALS = ['minor', 'medical', 'ai-identity', 'values-query', 'values-delete', 'injection', 'non-english'] as const;
/** Labels an output check can raise. */
export const OUTPUT_LABELS = ['manipulation', 'value-leverage', 'false-humanity', 'isolation', 'dependency'] as const;
/** Every label a labelled-set line may carry. */
export const EVAL_LABELS = [...INPUT_LABELS, ...OUTPUT_LABELS, 'none'] as const;

/** A scored input risk. */
export type InputLabel = (typeof INPUT_LABELS)[number];
/** An unscored input signal. */
export type InputSignal = (typeof INPUT_SIGNALS)[number];
/** Any input check name. */
export type InputCheckName = InputLabel | InputSignal;
/** Any output check name. */
export type OutputCheckName = (typeof OUTPUT_LABELS)[number];
/** A label in the labelled set. */
export type EvalLabel = (typeof EVAL_LABELS)[number];

/** Where in the checked text the deciding evidence is (UTF-16 offsets into the original text). */
export interface EvidenceSpan {
  start: number;
  end: number;
  text: string;
  /** Which cue fired, e.g. `crisis.want-die`, or `error` when the check threw. */
  cue: string;
}

/** One check's result: what the audit table stores for every check on every turn. */
export interface CheckResult {
  check: InputCheckName | OutputCheckName;
  version: string;
  /** 0..1 (1 when the check errored: it fails closed). */
  score: number;
  threshold: number;
  decision: 'flag' | 'pass' | 'error';
  evidenceSpan: EvidenceSpan | null;
  /**
   * Which parts decided, for scored labels when the learned layer ran: the rules (`score` and
   * `threshold` above are theirs) and the model. `decision` is `flag` when either part fired.
   */
  parts?: CheckParts;
}

/** The rule and model parts of one scored check. */
export interface CheckParts {
  rules: { score: number; threshold: number; fired: boolean };
  model?: { score: number; threshold: number; fired: boolean; via: 'whole' | 'window' | 'part' };
}

/** A value the participant disclosed: a lexicon category (`family`) or a free phrase (`late wife`). */
export type DisclosedValue = string | { value: string; terms?: readonly string[] };

/** What the checks may know besides the text. */
export interface SafeguardContext {
  /** Values, relationships and vulnerabilities the participant disclosed earlier. */
  disclosedValues?: readonly DisclosedValue[];
  /** Earlier turns, oldest first, as `"robot: …"` / `"participant: …"`. */
  previousTurns?: readonly string[];
  /**
   * The text is a library story read aloud: its "I" is the narrator, not the robot, so a
   * false-humanity match is recorded but does not block it, nor an isolation or dependency match
   * in a sentence that does not address the listener. Manipulation and value-leverage still apply.
   */
  narration?: boolean;
}

/** The result of checking one participant turn. */
export interface InputVerdict {
  /** False when a risk label was raised or a check errored. */
  safe: boolean;
  /** Risk labels and signals raised, in check order. */
  flagged: InputCheckName[];
  results: CheckResult[];
  /** True when at least one check threw (the verdict then fails closed). */
  failed: boolean;
}

/** The result of checking one robot utterance before it is spoken. */
export interface OutputVerdict {
  /** False when any label was raised or a check errored: the text must not be spoken. */
  safe: boolean;
  flagged: OutputCheckName[];
  results: CheckResult[];
  failed: boolean;
  /** A one-line reason to give a generator when asking it to regenerate; null when safe. */
  reason: string | null;
}

/** Where a verdict belongs in the device log. */
export interface EventPlace {
  atMs: number;
  sessionId: string | null;
  turnId: number | null;
}

/** Rows for `DeviceLog.recordSafeguardEvents`: one per check result, passes included. */
export function toSafeguardEvents(verdict: InputVerdict | OutputVerdict, direction: 'input' | 'output', place: EventPlace): NewSafeguardEvent[] {
  return verdict.results.map((r) => ({
    atMs: place.atMs,
    sessionId: place.sessionId,
    turnId: place.turnId,
    direction,
    checkName: r.check,
    checkVersion: r.version,
    score: r.score,
    threshold: r.threshold,
    decision: r.decision,
    evidence: r.evidenceSpan ? JSON.stringify(r.evidenceSpan) : null,
    ...(r.parts?.model
      ? {
          firedParts: ([r.parts.rules.fired && 'rules', r.parts.model.fired && 'model'].filter(Boolean).join('+') as '' | 'rules' | 'model' | 'rules+model'),
          modelScore: r.parts.model.score,
          modelThreshold: r.parts.model.threshold,
          modelVia: r.parts.model.via,
        }
      : {}),
  }));
}
