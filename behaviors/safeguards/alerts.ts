/** The alert channel port and the incident record study staff need for an IRB report. */
import type { StoredIncidentReport } from '../../data/index.js';
import type { CheckResult } from './types.js';

/** What kind of event the robot is reporting. */
export type IncidentKind = StoredIncidentReport['kind'];

/**
 * An incident as sent to study staff: the fields an IRB unanticipated-problem report asks for
 * (`StoredIncidentReport` in data/, as stored and delivered), with the layer's own types for the
 * checks that fired (with their evidence spans) and the causality scale staff fill in.
 * `severity`: serious events are due to the IRB within 7 days (common practice); `eventDate` and
 * `reportDueBy` are ISO-8601 UTC; `staffLearnedDate` is null until a person acknowledges the alert;
 * `description` says what happened without the participant's full disclosure; `robotAction` is
 * exactly what the robot said; `retained` is present when a withdrawal kept the report without the
 * participant's words (checks reduced to names, versions and scores; no session or turn).
 */
export interface IncidentReport extends StoredIncidentReport {
  checks: CheckResult[];
  causality: 'unrelated' | 'possibly related' | 'related' | 'not yet assessed';
}

/**
 * Takes an alert for study staff (a file staff sync, the outbox that delivers to a webhook…).
 * `send` must not wait on the network: the robot's crisis reply waits for it.
 */
export interface AlertChannel {
  send(alert: IncidentReport, signal?: AbortSignal): Promise<void>;
}

const DAY_MS = 86_400_000;

/** Build an incident report for a flagged turn. */
export function buildIncident(input: {
  incidentId: string;
  kind: IncidentKind;
  atMs: number;
  deviceId: string;
  participantId: string | null;
  sessionId: string | null;
  turnId: number | null;
  robotAction: string;
  checks: readonly CheckResult[];
  /** Replaces the standard description of the kind (for events that are not about one turn). */
  description?: string;
}): IncidentReport {
  const severity = input.kind === 'crisis' || input.kind === 'harm' || input.kind === 'medical' ? 'serious' : input.kind === 'attachment-trend' ? 'info' : 'moderate';
  const fired = input.checks.filter((c) => c.decision !== 'pass').map((c) => `${c.check} (${c.decision}, score ${c.score} ≥ ${c.threshold}${c.evidenceSpan ? `, cue ${c.evidenceSpan.cue}` : ''})`);
  return {
    incidentId: input.incidentId,
    kind: input.kind,
    severity,
    participantId: input.participantId,
    deviceId: input.deviceId,
    sessionId: input.sessionId,
    turnId: input.turnId,
    eventDate: new Date(input.atMs).toISOString(),
    staffLearnedDate: null,
    description: input.description ?? `${DESCRIPTIONS[input.kind]} Checks: ${fired.join('; ') || 'none'}.`,
    robotAction: input.robotAction,
    checks: [...input.checks.filter((c) => c.decision !== 'pass')],
    resolution: null,
    harm: 'unknown; to be assessed by study staff',
    causality: 'not yet assessed',
    reportDueBy: severity === 'serious' ? new Date(input.atMs + 7 * DAY_MS).toISOString() : null,
  };
}

const DESCRIPTIONS: Readonly<Record<IncidentKind, string>> = {
  crisis: 'The participant said something the safeguard layer read as suicidal thoughts or self-harm. The robot left the story, gave crisis resources and encouraged a trusted person.',
  harm: 'The participant described violence or abuse, to or from someone else. The robot gave emergency and abuse resources.',
  medical: 'The participant described a possible medical emergency. The robot told them to call emergency services.',
  minor: 'The participant may be under 18. The robot continued with break reminders for minors; eligibility needs checking.',
  'check-failure': 'A safeguard check failed on this turn, so the robot used a safe scripted reply instead.',
  'attachment-trend': 'Signals of attachment to the robot (loneliness, preferring it to people) have been rising over several days.',
};
