/**
 * Rows as the Hearth file stores them (column names, JSON text, 0/1 flags) and their records, shared by
 * the SQLite adapter and the in-memory one so both read back the same values; and what a withdrawal
 * keeps. No driver here.
 */
import type { ParticipantRecord, SessionRecord, SessionStatus, TurnRecord } from './store.js';
import type { AffectSampleRecord, EventRecord, ResponseRecord, SafeguardEventRecord } from './ports.js';
import type { AllocationRecord, ConsentRecordRow, InstanceRowStatus, ScheduleInstanceRecord } from './study-records.js';
import type {
  DeliveryStatus, IncidentRecord, OutboxLine, RetainedIncident, StoredIncidentReport, ValueRecord,
} from './safeguard-records.js';
import type { MemoryRecord } from './memory-records.js';
import type { ClockSource } from './time.js';
import { StoreError } from './errors.js';
import { isoUtc } from './time.js';

/** One stored row, by column name. */
export type Row = Record<string, unknown>;

/** Tables a withdrawal keeps: the tombstone, the consent record, and bookkeeping without personal data. */
export const KEPT_TABLES: readonly string[] = ['tombstones', 'consent_records', 'device_seq', 'allocation_seeds'];

/** Why a withdrawal keeps an incident (stored in `retained_reason`). */
export const RETAINED_REASON =
  "a safeguard incident is a required record for the IRB (unanticipated-problem report); kept without the participant's words";

export function toSession(r: Row): SessionRecord {
  return {
    sessionId: r.session_id as string,
    participantId: r.participant_id as string,
    studyDay: r.study_day as number,
    status: r.status as SessionStatus,
    statusReason: (r.status_reason as string | null) ?? null,
    step: (r.step as string | null) ?? null,
    progress: r.progress_json ? JSON.parse(r.progress_json as string) : null,
    protocolHash: (r.protocol_hash as string | null) ?? null,
    condition: (r.condition as string | null) ?? null,
    storyId: (r.story_id as string | null) ?? null,
    startedTsUtc: (r.started_ts_utc as string | null) ?? null,
    endedTsUtc: (r.ended_ts_utc as string | null) ?? null,
    lastActivityMs: (r.last_activity_ms as number | null) ?? null,
    resumedCount: r.resumed_count as number,
  };
}

/** A `participants` row as a record. */
export function toParticipant(r: Row): ParticipantRecord {
  return {
    participantId: r.participant_id as string,
    deviceId: r.device_id as string,
    startDate: r.start_date as string,
    tz: r.tz as string,
    condition: (r.condition as string | null) ?? null,
    protocolId: (r.protocol_id as string | null) ?? null,
    protocolVersion: (r.protocol_version as string | null) ?? null,
    protocolHash: (r.protocol_hash as string | null) ?? null,
    status: r.status as 'active' | 'withdrawn',
  };
}

/** A `turns` row as a record. */
export function toTurn(r: Row): TurnRecord {
  return {
    turnId: r.turn_id as number,
    sessionId: r.session_id as string,
    speaker: r.speaker as 'robot' | 'participant',
    text: r.text as string,
    step: (r.step as string | null) ?? null,
    startTsUtc: r.start_ts_utc as string,
    endTsUtc: r.end_ts_utc as string,
    seq: r.seq as number,
  };
}

/** An `events` row as a record. */
export function toEvent(r: Row): EventRecord {
  return {
    eventId: r.event_id as number,
    sessionId: (r.session_id as string | null) ?? null,
    kind: r.kind as string,
    detail: r.detail_json ? JSON.parse(r.detail_json as string) : null,
    tsUtc: r.ts_utc as string,
    tsLocal: r.ts_local as string,
    studyDay: (r.study_day as number | null) ?? null,
    seq: r.seq as number,
  };
}

/** A `responses` row as a record. */
export function toResponse(r: Row): ResponseRecord {
  return {
    sessionId: r.session_id as string,
    instrument: r.instrument as string,
    item: r.item as string,
    value: (r.value as number | null) ?? null,
    rawText: (r.raw_text as string | null) ?? null,
    status: r.status as ResponseRecord['status'],
    scoringVersion: r.scoring_version as string,
    tsUtc: r.ts_utc as string,
    studyDay: (r.study_day as number | null) ?? null,
    seq: r.seq as number,
  };
}

/** An `affect_samples` row as a record. */
export function toAffectSample(r: Row): AffectSampleRecord {
  return {
    sessionId: (r.session_id as string | null) ?? null,
    valence: (r.valence as number | null) ?? null,
    arousal: (r.arousal as number | null) ?? null,
    label: (r.label as string | null) ?? null,
    confidence: r.confidence as number,
    sources: r.sources_json ? JSON.parse(r.sources_json as string) : null,
    tsUtc: r.ts_utc as string,
    seq: r.seq as number,
  };
}

/** A `safeguard_events` row as a record. */
export function toSafeguardEvent(r: Row): SafeguardEventRecord {
  return {
    sessionId: (r.session_id as string | null) ?? null,
    turnId: (r.turn_id as number | null) ?? null,
    direction: r.direction as SafeguardEventRecord['direction'],
    checkName: r.check_name as string,
    checkVersion: r.check_version as string,
    score: (r.score as number | null) ?? null,
    threshold: (r.threshold as number | null) ?? null,
    decision: r.decision as string,
    evidence: (r.evidence as string | null) ?? null,
    firedParts: (r.fired_parts as SafeguardEventRecord['firedParts']) ?? null,
    modelScore: (r.model_score as number | null) ?? null,
    modelThreshold: (r.model_threshold as number | null) ?? null,
    modelVia: (r.model_via as SafeguardEventRecord['modelVia']) ?? null,
    tsUtc: r.ts_utc as string,
    studyDay: (r.study_day as number | null) ?? null,
    seq: r.seq as number,
  };
}

/** An `allocations` row as a record. */
export function toAllocation(r: Row): AllocationRecord {
  return {
    studyId: r.study_id as string,
    participantId: r.participant_id as string,
    stratum: r.stratum as string,
    slot: r.slot as number,
    condition: r.condition as string,
    method: r.method as 'blocked' | 'simple',
    blockIndex: (r.block_index as number | null) ?? null,
    blockSize: (r.block_size as number | null) ?? null,
    seed: r.seed as string,
    protocolHash: r.protocol_hash as string,
    tsUtc: r.ts_utc as string,
  };
}

/** A `schedule_instances` row as a record. */
export function toScheduleInstance(r: Row): ScheduleInstanceRecord {
  return {
    participantId: r.participant_id as string,
    instanceId: r.instance_id as string,
    deviceId: r.device_id as string,
    slot: r.slot as string,
    studyDay: r.study_day as number,
    localDate: r.local_date as string,
    templateId: r.template_id as string,
    tz: r.tz as string,
    windowStartUtc: r.window_start_utc as string,
    windowEndUtc: r.window_end_utc as string,
    windowStartLocal: r.window_start_local as string,
    windowEndLocal: r.window_end_local as string,
    status: r.status as InstanceRowStatus,
    statusReason: (r.status_reason as string | null) ?? null,
    invitations: r.invitations as number,
    lastInvitedTsUtc: (r.last_invited_ts_utc as string | null) ?? null,
    sessionId: (r.session_id as string | null) ?? null,
    protocolHash: r.protocol_hash as string,
    updatedTsUtc: r.updated_ts_utc as string,
  };
}

/** A `consent_records` row as a record. */
export function toConsent(r: Row): ConsentRecordRow {
  return {
    id: r.consent_record_id as number,
    participantId: r.participant_id as string,
    deviceId: r.device_id as string,
    consentVersion: r.consent_version as number,
    modality: r.modality as string,
    granted: r.granted === 1,
    method: r.method as 'voice' | 'staff',
    prompt: r.prompt as string,
    protocolHash: r.protocol_hash as string,
    tz: r.tz as string,
    tsUtc: r.ts_utc as string,
    tsLocal: r.ts_local as string,
    atMs: Date.parse(r.ts_utc as string),
    clockSource: r.clock_source as ClockSource,
    studyDay: (r.study_day as number | null) ?? null,
    seq: r.seq as number,
  };
}

/** A `safeguard_incidents` row as a record. */
export function toIncident(r: Row): IncidentRecord {
  return {
    incidentId: r.incident_id as string,
    kind: r.kind as IncidentRecord['kind'],
    severity: r.severity as IncidentRecord['severity'],
    participantId: (r.participant_id as string | null) ?? null,
    sessionId: (r.session_id as string | null) ?? null,
    turnId: (r.turn_id as number | null) ?? null,
    description: r.description as string,
    robotAction: r.robot_action as string,
    checks: JSON.parse(r.checks_json as string) as unknown,
    harm: r.harm as string,
    causality: r.causality as string,
    reportDueBy: (r.report_due_ts_utc as string | null) ?? null,
    eventTsUtc: r.event_ts_utc as string,
    eventTsLocal: r.event_ts_local as string,
    staffLearnedTsUtc: (r.staff_learned_ts_utc as string | null) ?? null,
    resolution: (r.resolution as string | null) ?? null,
    alertStatus: r.alert_status as IncidentRecord['alertStatus'],
    deliveryStatus: r.delivery_status as DeliveryStatus,
    deliveryAttempts: r.delivery_attempts as number,
    nextAttemptTsUtc: (r.next_attempt_ts_utc as string | null) ?? null,
    lastError: (r.last_error as string | null) ?? null,
    sentTsUtc: (r.sent_ts_utc as string | null) ?? null,
    acknowledgedTsUtc: (r.acknowledged_ts_utc as string | null) ?? null,
    retainedTsUtc: (r.retained_ts_utc as string | null) ?? null,
    retainedReason: (r.retained_reason as string | null) ?? null,
    studyDay: (r.study_day as number | null) ?? null,
    updatedTsUtc: r.updated_ts_utc as string,
    seq: r.seq as number,
  };
}

/** A `safeguard_incidents` row as an outbox line (no participant words). */
export function toOutboxLine(r: Row): OutboxLine {
  return {
    incidentId: r.incident_id as string,
    kind: r.kind as OutboxLine['kind'],
    severity: r.severity as OutboxLine['severity'],
    deviceId: r.device_id as string,
    eventTsUtc: r.event_ts_utc as string,
    deliveryStatus: r.delivery_status as DeliveryStatus,
    attempts: r.delivery_attempts as number,
    nextAttemptTsUtc: (r.next_attempt_ts_utc as string | null) ?? null,
    lastError: (r.last_error as string | null) ?? null,
    sentTsUtc: (r.sent_ts_utc as string | null) ?? null,
    acknowledgedTsUtc: (r.acknowledged_ts_utc as string | null) ?? null,
    retainedTsUtc: (r.retained_ts_utc as string | null) ?? null,
  };
}

/** A `participant_values` row as a record. */
export function toValue(r: Row): ValueRecord {
  return {
    value: r.value as string,
    confidence: r.confidence as number,
    evidence: r.evidence as string,
    sessionId: (r.session_id as string | null) ?? null,
    turnId: (r.turn_id as number | null) ?? null,
    tsUtc: r.ts_utc as string,
  };
}

/** A retained `safeguard_incidents` row, checked to hold no words. */
export function toRetainedIncident(r: Row): RetainedIncident {
  const checks = JSON.parse(r.checks_json as string) as unknown;
  const withoutWords = r.session_id === null && r.turn_id === null && JSON.stringify(checks) === JSON.stringify(checksWithoutWords(checks));
  return {
    incidentId: r.incident_id as string, kind: r.kind as RetainedIncident['kind'], severity: r.severity as RetainedIncident['severity'],
    deliveryStatus: r.delivery_status as DeliveryStatus, retainedTsUtc: r.retained_ts_utc as string, reason: (r.retained_reason as string | null) ?? RETAINED_REASON,
    withoutWords,
  };
}

/** A `memories` row as stored. */
export type MemoryRow = {
  memory_id: number; participant_id: string; session_id: string | null; said_ts_utc: string; tz: string; said_ts_local: string;
  study_day: number | null; summary: string; people_json: string; places_json: string; feelings_json: string; topics_json: string;
  method: 'extractive' | 'model'; last_recalled_ts_utc: string | null; recalled_count: number;
};

/** A `memories` row as a record. */
export function toMemory(r: MemoryRow): MemoryRecord {
  return {
    memoryId: r.memory_id, participantId: r.participant_id, sessionId: r.session_id, saidAtMs: Date.parse(r.said_ts_utc), tz: r.tz,
    saidTsLocal: r.said_ts_local, studyDay: r.study_day, summary: r.summary, people: JSON.parse(r.people_json) as string[],
    places: JSON.parse(r.places_json) as string[], feelings: JSON.parse(r.feelings_json) as string[], topics: JSON.parse(r.topics_json) as string[],
    method: r.method, lastRecalledAtMs: r.last_recalled_ts_utc ? Date.parse(r.last_recalled_ts_utc) : null, recalledCount: r.recalled_count,
  };
}

/** The report study staff receive for a stored incident (what the outbox sends). */
export function incidentReportOf(r: IncidentRecord, deviceId: string): StoredIncidentReport {
  return {
    incidentId: r.incidentId, kind: r.kind, severity: r.severity, participantId: r.participantId, deviceId, sessionId: r.sessionId, turnId: r.turnId,
    eventDate: r.eventTsUtc, staffLearnedDate: r.staffLearnedTsUtc, description: r.description, robotAction: r.robotAction, checks: r.checks,
    resolution: r.resolution, harm: r.harm, causality: r.causality, reportDueBy: r.reportDueBy,
    ...(r.retainedTsUtc ? { retained: { date: r.retainedTsUtc, reason: r.retainedReason ?? RETAINED_REASON } } : {}),
  };
}

/**
 * One check without the participant's words: name, version, score, threshold, decision, and the id of
 * the rule that fired (`crisis.want-die`: a name in the rule table, not their words).
 */
export interface CheckWithoutWords {
  check: string;
  version: string | null;
  score: number | null;
  threshold: number | null;
  decision: string | null;
  cue: string | null;
}

/**
 * The checks of an incident without the participant's words: only name, version, score, threshold,
 * decision and cue id are copied (a whitelist, so evidence text and anything added later stay behind).
 * Applying it twice gives the same result.
 */
export function checksWithoutWords(checks: unknown): CheckWithoutWords[] {
  if (!Array.isArray(checks)) return [];
  const text = (v: unknown): string | null => (typeof v === 'string' ? v : null);
  const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
  const cueOf = (c: Record<string, unknown>): string | null => {
    const span = c.evidenceSpan as Record<string, unknown> | null | undefined;
    const cue = span && typeof span === 'object' ? span.cue : c.cue;
    // Rule ids are short dotted names; anything else could be text, so it is not kept.
    return typeof cue === 'string' && /^[a-z0-9_.-]{1,64}$/.test(cue) ? cue : null;
  };
  return checks
    .filter((c): c is Record<string, unknown> => c !== null && typeof c === 'object' && typeof (c as Record<string, unknown>).check === 'string')
    .map((c) => ({ check: c.check as string, version: text(c.version), score: num(c.score), threshold: num(c.threshold), decision: text(c.decision), cue: cueOf(c) }));
}

/**
 * An incident report (an `alerts.jsonl` line, a webhook body) without the participant's words, as kept
 * after withdrawal: kind, severity, dates, device, pseudonymous participant id, what the robot said,
 * and check names, versions and scores. Fields are copied by name; session and turn are dropped (they
 * lead back to deleted data). Returns null for something that is not an incident report.
 */
export function incidentReportWithoutWords(report: unknown, retainedAtMs: number): StoredIncidentReport | null {
  if (report === null || typeof report !== 'object') return null;
  const r = report as Record<string, unknown>;
  const text = (v: unknown): string | null => (typeof v === 'string' ? v : null);
  if (typeof r.incidentId !== 'string' || typeof r.kind !== 'string' || typeof r.eventDate !== 'string') return null;
  return {
    incidentId: r.incidentId, kind: r.kind as StoredIncidentReport['kind'], severity: (text(r.severity) ?? 'moderate') as StoredIncidentReport['severity'],
    participantId: text(r.participantId), deviceId: text(r.deviceId) ?? '', sessionId: null, turnId: null,
    eventDate: r.eventDate, staffLearnedDate: text(r.staffLearnedDate), description: text(r.description) ?? '', robotAction: text(r.robotAction) ?? '',
    checks: checksWithoutWords(r.checks), resolution: text(r.resolution), harm: text(r.harm) ?? '', causality: text(r.causality) ?? 'not yet assessed',
    reportDueBy: text(r.reportDueBy),
    retained: { date: text((r.retained as Record<string, unknown> | undefined)?.date) ?? isoUtc(retainedAtMs), reason: RETAINED_REASON },
  };
}

/**
 * Enrolling a participant who is already enrolled: on this device it is a no-op (the existing record),
 * on another device an error. Shared by both store adapters.
 */
export function alreadyEnrolled(existing: ParticipantRecord | undefined, participantId: string, deviceId: string): ParticipantRecord | undefined {
  if (existing && existing.deviceId !== deviceId) {
    throw new StoreError(`participant ${participantId} is enrolled on device ${existing.deviceId}, not ${deviceId}`);
  }
  return existing;
}
