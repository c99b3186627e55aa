/**
 * Safeguard records beyond `safeguard_events`: incidents for study staff and the IRB (each incident
 * row is also its entry in the alert outbox), and values inferred about a participant (with the
 * words that showed them), which the participant can see and delete. Every row carries the common
 * columns with the device's next `seq` (`commonColumns`), and every change is also written to the
 * device's `events` log in sequence (outbox bookkeeping is logged by the delivery worker instead).
 */
import type Database from 'better-sqlite3';
import { StoreError } from './errors.js';
import { commonColumns, type CommonColumns } from './sqlite-store.js';
import type { DeviceLog, SafeguardRecords } from './ports.js';
import {
  checksWithoutWords, incidentReportOf, RETAINED_REASON, toIncident, toOutboxLine, toRetainedIncident, toValue, type Row,
} from './rows.js';
import { isoUtc, studyDay } from './time.js';

export { checksWithoutWords, incidentReportOf, incidentReportWithoutWords, RETAINED_REASON, type CheckWithoutWords } from './rows.js';

/** An incident as the safeguard layer reports it (the IRB fields). */
export interface IncidentInput {
  incidentId: string;
  kind: 'crisis' | 'harm' | 'medical' | 'minor' | 'check-failure' | 'attachment-trend';
  severity: 'serious' | 'moderate' | 'info';
  participantId: string | null;
  sessionId: string | null;
  turnId: number | null;
  description: string;
  robotAction: string;
  checks: unknown;
  harm: string;
  causality: string;
  reportDueBy: string | null;
}

/** An incident as stored. */
export interface IncidentRecord extends IncidentInput {
  eventTsUtc: string;
  eventTsLocal: string;
  staffLearnedTsUtc: string | null;
  resolution: string | null;
  /** The local copy in `alerts.jsonl`: `sent` once written, `failed` when the file could not be written. */
  alertStatus: 'pending' | 'sent' | 'failed';
  /** Delivery to study staff through the webhook (the outbox). */
  deliveryStatus: DeliveryStatus;
  deliveryAttempts: number;
  /** When the next attempt is due; null when due now (unsent) or when no attempt is planned. */
  nextAttemptTsUtc: string | null;
  /** Why the last attempt failed (status code or network error; never the participant's words). */
  lastError: string | null;
  sentTsUtc: string | null;
  acknowledgedTsUtc: string | null;
  /** Set when a withdrawal kept this incident as a required record without the participant's words. */
  retainedTsUtc: string | null;
  retainedReason: string | null;
  studyDay: number | null;
  /** When the row last changed (alert status, acknowledgement, resolution); `eventTsUtc` until then. */
  updatedTsUtc: string;
  /** The device's sequence number of the incident row. */
  seq: number;
}

/** Where an incident is in the alert outbox. */
export type DeliveryStatus = 'unsent' | 'sent' | 'acknowledged' | 'failed';

/**
 * An incident report as study staff receive it (webhook body, `alerts.jsonl` line): the IRB fields.
 * `IncidentReport` in `behaviors/safeguards/alerts.ts` extends it with the checks' own type.
 */
export interface StoredIncidentReport {
  incidentId: string;
  kind: IncidentInput['kind'];
  severity: IncidentInput['severity'];
  participantId: string | null;
  deviceId: string;
  sessionId: string | null;
  turnId: number | null;
  eventDate: string;
  staffLearnedDate: string | null;
  description: string;
  robotAction: string;
  checks: unknown;
  resolution: string | null;
  harm: string;
  causality: string;
  reportDueBy: string | null;
  /** Present when a withdrawal kept the report without the participant's words. */
  retained?: { date: string; reason: string };
}

/** An unsent incident the delivery worker should try now. */
export interface OutboxEntry {
  incidentId: string;
  kind: IncidentInput['kind'];
  severity: IncidentInput['severity'];
  attempts: number;
  report: StoredIncidentReport;
}

/** One line of the outbox as `hearth status` shows it: no participant words. */
export interface OutboxLine {
  incidentId: string;
  kind: IncidentInput['kind'];
  severity: IncidentInput['severity'];
  deviceId: string;
  eventTsUtc: string;
  deliveryStatus: DeliveryStatus;
  attempts: number;
  nextAttemptTsUtc: string | null;
  lastError: string | null;
  sentTsUtc: string | null;
  acknowledgedTsUtc: string | null;
  retainedTsUtc: string | null;
}

/** An incident a withdrawal kept, and whether the stored row is free of the participant's words. */
export interface RetainedIncident {
  incidentId: string;
  kind: IncidentInput['kind'];
  severity: IncidentInput['severity'];
  deliveryStatus: DeliveryStatus;
  retainedTsUtc: string;
  reason: string;
  /** True when the row holds no evidence text, no session and no turn (checked, not assumed). */
  withoutWords: boolean;
}

/** A value inferred from the participant's words. */
export interface ValueInput {
  value: string;
  confidence: number;
  evidence: { text: string; cue?: string };
}

/** A value as stored and shown to the participant. */
export interface ValueRecord {
  value: string;
  confidence: number;
  evidence: string;
  sessionId: string | null;
  turnId: number | null;
  tsUtc: string;
}

/** `SafeguardRecords` on the Hearth SQLite database, for one device (made by `SqliteStore.safeguards`). */
export class SqliteSafeguardRecords implements SafeguardRecords {
  private readonly db: Database.Database;
  private readonly log: DeviceLog;

  constructor(db: Database.Database, log: DeviceLog) {
    this.db = db;
    this.log = log;
  }

  /** The participant's study day at `atMs` (null without a participant or enrollment). */
  private dayOf(atMs: number, participantId: string | null): number | null {
    const start = participantId ? this.log.participant(participantId)?.startDate : undefined;
    return start ? studyDay(atMs, start, this.log.identity.tz) : null;
  }

  /** Common columns for a new row; takes the device's next `seq`, so call it inside `run`. */
  private common(atMs: number, day: number | null): CommonColumns {
    return commonColumns(this.db, this.log.identity, atMs, day);
  }

  private run<T>(what: string, fn: () => T): T {
    try {
      return this.db.transaction(fn)();
    } catch (cause) {
      throw new StoreError(`safeguard records: ${what} failed (${(cause as Error).message})`, { cause });
    }
  }

  /**
   * Store a new incident: the row is also its outbox entry (`unsent`, due now), written in the same
   * transaction, so an incident is never recorded without being queued for delivery.
   */
  recordIncident(r: IncidentInput, atMs: number): void {
    const day = this.dayOf(atMs, r.participantId);
    this.run(`recording incident ${r.incidentId}`, () =>
      this.db
        .prepare(`INSERT INTO safeguard_incidents (incident_id, kind, severity, participant_id, session_id, turn_id, event_ts_utc, event_ts_local, description,
          robot_action, checks_json, harm, causality, report_due_ts_utc, updated_ts_utc, ts_utc, tz, ts_local, study_day, device_id, seq, clock_source)
          VALUES (@id, @kind, @severity, @pid, @sid, @tid, @ts_utc, @ts_local, @description, @action, @checks, @harm, @causality, @due,
          @ts_utc, @ts_utc, @tz, @ts_local, @study_day, @device_id, @seq, @clock_source)`)
        .run({
          id: r.incidentId, kind: r.kind, severity: r.severity, pid: r.participantId, sid: r.sessionId, tid: r.turnId,
          description: r.description, action: r.robotAction, checks: JSON.stringify(r.checks), harm: r.harm, causality: r.causality,
          due: r.reportDueBy, ...this.common(atMs, day),
        }),
    );
    this.log.recordEvent('safeguard.incident', { incidentId: r.incidentId, kind: r.kind, severity: r.severity }, atMs, r.sessionId);
  }

  /** Record whether the local copy of the alert (`alerts.jsonl`) was written. */
  markAlert(incidentId: string, status: 'sent' | 'failed', atMs: number): void {
    this.update(incidentId, 'alert_status = ?', [status], atMs);
    this.log.recordEvent('safeguard.alert-marked', { incidentId, status }, atMs, this.incident(incidentId)?.sessionId ?? null);
  }

  /** Staff acknowledged the incident: stamps the date staff learned of it (first time only). */
  acknowledge(incidentId: string, atMs: number): void {
    this.update(incidentId, 'staff_learned_ts_utc = COALESCE(staff_learned_ts_utc, ?)', [isoUtc(atMs)], atMs);
    this.log.recordEvent('safeguard.incident-acknowledged', { incidentId }, atMs, this.incident(incidentId)?.sessionId ?? null);
  }

  /** Staff record the outcome for the IRB report. */
  resolve(incidentId: string, outcome: { resolution: string; harm: string; causality: string }, atMs: number): void {
    this.update(incidentId, 'resolution = ?, harm = ?, causality = ?, staff_learned_ts_utc = COALESCE(staff_learned_ts_utc, ?)', [
      outcome.resolution, outcome.harm, outcome.causality, isoUtc(atMs),
    ], atMs);
    this.log.recordEvent('safeguard.incident-resolved', { incidentId, causality: outcome.causality }, atMs, this.incident(incidentId)?.sessionId ?? null);
  }

  /** Change an incident in place: the row keeps its `seq`; `updated_ts_utc` records when it last changed. */
  private update(incidentId: string, set: string, params: unknown[], atMs: number): void {
    const changed = this.run(`updating incident ${incidentId}`, () =>
      this.db.prepare(`UPDATE safeguard_incidents SET ${set}, updated_ts_utc = ? WHERE incident_id = ?`).run(...params, isoUtc(atMs), incidentId).changes);
    if (changed === 0) throw new StoreError(`safeguard records: no incident ${incidentId}`);
  }

  /** One incident, or undefined. */
  incident(incidentId: string): IncidentRecord | undefined {
    const r = this.db.prepare('SELECT * FROM safeguard_incidents WHERE incident_id = ?').get(incidentId) as Row | undefined;
    return r && toIncident(r);
  }

  /** Incidents of this device (optionally one participant), oldest first. */
  incidents(participantId?: string): IncidentRecord[] {
    const rows = participantId
      ? this.db.prepare('SELECT * FROM safeguard_incidents WHERE participant_id = ? ORDER BY event_ts_utc').all(participantId)
      : this.db.prepare('SELECT * FROM safeguard_incidents WHERE device_id = ? ORDER BY event_ts_utc').all(this.log.identity.deviceId);
    return (rows as Row[]).map(toIncident);
  }

  /** Incidents whose alert has not reached staff yet: unsent or failed in the outbox, oldest first. */
  unsentIncidents(): IncidentRecord[] {
    return (this.db
      .prepare("SELECT * FROM safeguard_incidents WHERE device_id = ? AND delivery_status IN ('unsent', 'failed') ORDER BY event_ts_utc")
      .all(this.log.identity.deviceId) as Row[]).map(toIncident);
  }

  /**
   * Unsent incidents of this device due at `atMs` (null: every unsent one, as on boot), serious ones
   * first, then oldest first (`horizonMs`: see below). Each comes with the report to send, rebuilt from the row, with its checks
   * reduced to names, scores and rule ids: the participant's words never leave the device.
   */
  dueAlerts(atMs: number | null, limit = 50, horizonMs: number | null = null): OutboxEntry[] {
    // A retry planned beyond `horizonMs` (the longest backoff from now) means the clock moved back: due now.
    const rows = this.db
      .prepare(`SELECT * FROM safeguard_incidents WHERE device_id = @device AND delivery_status = 'unsent'
          AND (@at IS NULL OR next_attempt_ts_utc IS NULL OR next_attempt_ts_utc <= @at OR (@horizon IS NOT NULL AND next_attempt_ts_utc > @horizon))
        ORDER BY severity = 'serious' DESC, event_ts_utc, incident_id LIMIT @limit`)
      .all({ device: this.log.identity.deviceId, at: atMs === null ? null : isoUtc(atMs), horizon: horizonMs === null ? null : isoUtc(horizonMs), limit }) as Row[];
    return rows.map((r) => {
      const record = toIncident(r);
      const report = { ...incidentReportOf(record, r.device_id as string), checks: checksWithoutWords(record.checks) };
      return { incidentId: record.incidentId, kind: record.kind, severity: record.severity, attempts: record.deliveryAttempts, report };
    });
  }

  /** When the next unsent incident of this device is due (ms), or null when none is waiting. */
  nextAlertDueMs(): number | null {
    const r = this.db
      .prepare("SELECT MIN(COALESCE(next_attempt_ts_utc, ts_utc)) AS due FROM safeguard_incidents WHERE device_id = ? AND delivery_status = 'unsent'")
      .get(this.log.identity.deviceId) as { due: string | null };
    return r.due === null ? null : Date.parse(r.due);
  }

  /**
   * An attempt is about to go out: count it and hold the incident until `retryAtMs`, so a crash during
   * the request neither loses the count nor retries at once in a loop.
   */
  alertAttempted(incidentId: string, attempt: number, retryAtMs: number, atMs: number): void {
    this.update(incidentId, 'delivery_attempts = ?, next_attempt_ts_utc = ?', [attempt, isoUtc(retryAtMs)], atMs);
  }

  /** The webhook took the incident (2xx): `sent`, or `acknowledged` when it said so. Final. */
  alertDelivered(incidentId: string, outcome: 'sent' | 'acknowledged', atMs: number): void {
    const at = isoUtc(atMs);
    this.update(incidentId, `delivery_status = ?, next_attempt_ts_utc = NULL, sent_ts_utc = COALESCE(sent_ts_utc, ?),
      acknowledged_ts_utc = CASE WHEN ? = 'acknowledged' THEN COALESCE(acknowledged_ts_utc, ?) ELSE acknowledged_ts_utc END`, [outcome, at, outcome, at], atMs);
  }

  /** An attempt failed: retry at `retryAtMs`, or (`permanent`) stop and keep the incident as `failed` with the reason. */
  alertFailed(incidentId: string, failure: { error: string; permanent: boolean; retryAtMs: number | null }, atMs: number): void {
    const next = failure.permanent || failure.retryAtMs === null ? null : isoUtc(failure.retryAtMs);
    this.update(incidentId, 'delivery_status = ?, last_error = ?, next_attempt_ts_utc = ?', [failure.permanent ? 'failed' : 'unsent', failure.error.slice(0, 500), next], atMs);
  }

  /**
   * Store inferred values; one row per value, replaced when new evidence is at least as strong. A
   * replacement is a new fact (new evidence): the old row is deleted and the new one takes the next `seq`.
   */
  saveValues(participantId: string, values: readonly ValueInput[], source: { sessionId: string | null; turnId: number | null; version: string }, atMs: number): void {
    if (values.length === 0) return;
    const day = this.dayOf(atMs, participantId);
    this.run('saving values', () => {
      for (const v of values) {
        const existing = this.db.prepare('SELECT value_id, confidence FROM participant_values WHERE participant_id = ? AND value = ?').get(participantId, v.value) as
          | { value_id: number; confidence: number }
          | undefined;
        if (existing && existing.confidence > v.confidence) continue;
        if (existing) this.db.prepare('DELETE FROM participant_values WHERE value_id = ?').run(existing.value_id);
        this.db
          .prepare(`INSERT INTO participant_values (participant_id, value, confidence, evidence, evidence_cue, session_id, turn_id, inference_version,
              ts_utc, tz, ts_local, study_day, device_id, seq, clock_source)
            VALUES (@participant_id, @value, @confidence, @evidence, @evidence_cue, @session_id, @turn_id, @inference_version,
              @ts_utc, @tz, @ts_local, @study_day, @device_id, @seq, @clock_source)`)
          .run({
            participant_id: participantId, value: v.value, confidence: v.confidence, evidence: v.evidence.text, evidence_cue: v.evidence.cue ?? null,
            session_id: source.sessionId, turn_id: source.turnId, inference_version: source.version, ...this.common(atMs, day),
          });
      }
    });
    this.log.recordEvent('safeguard.values-inferred', { values: values.map((v) => v.value) }, atMs, source.sessionId);
  }

  /** What has been inferred about a participant, with evidence (what they see on request). */
  values(participantId: string): ValueRecord[] {
    return (this.db.prepare('SELECT * FROM participant_values WHERE participant_id = ? ORDER BY confidence DESC, value').all(participantId) as Row[]).map(toValue);
  }

  /** Delete one inferred value, or all of them (`value` null). Returns how many rows went. */
  deleteValues(participantId: string, value: string | null, atMs: number): number {
    const n = this.run('deleting values', () =>
      value === null
        ? this.db.prepare('DELETE FROM participant_values WHERE participant_id = ?').run(participantId).changes
        : this.db.prepare('DELETE FROM participant_values WHERE participant_id = ? AND value = ?').run(participantId, value).changes,
    );
    // The log keeps that a deletion happened, never what was deleted.
    this.log.recordEvent('safeguard.values-deleted', { count: n, scope: value === null ? 'all' : 'one' }, atMs, null);
    return n;
  }

  /** Attachment flags per study day for a participant, from `safeguard_events`. */
  attachmentByDay(participantId: string): { studyDay: number; count: number }[] {
    return (this.db
      .prepare(`SELECT e.study_day AS studyDay, COUNT(*) AS count FROM safeguard_events e JOIN sessions s ON s.session_id = e.session_id
        WHERE s.participant_id = ? AND e.check_name = 'attachment' AND e.decision = 'flag' AND e.study_day IS NOT NULL
        GROUP BY e.study_day ORDER BY e.study_day`)
      .all(participantId) as { studyDay: number; count: number }[]);
  }
}

/** The outbox of a Hearth database (every device in it), oldest first: what `hearth status` lists. */
export function incidentOutbox(db: Database.Database): OutboxLine[] {
  return (db.prepare('SELECT * FROM safeguard_incidents ORDER BY event_ts_utc, incident_id').all() as Row[]).map(toOutboxLine);
}

/**
 * Withdrawal, before the purge: keep every incident in the participant's scope as a required record
 * without their words (checks reduced to names and scores; no session, no turn), marked retained so the
 * purge leaves it (trigger `safeguard_incidents_keep_retained`). Delivery state is untouched: an
 * undelivered incident stays in the outbox and still goes out. One transaction; returns what was kept.
 */
export function retainIncidentsWithoutWords(
  db: Database.Database, scope: { participantId: string; sessionIds: readonly string[]; deviceIds: readonly string[] }, atMs: number,
): RetainedIncident[] {
  const at = isoUtc(atMs);
  try {
    db.pragma('secure_delete = ON');
    db.transaction(() => {
      const rows = db
        .prepare(`SELECT incident_id, checks_json FROM safeguard_incidents WHERE participant_id = @p
          OR session_id IN (SELECT value FROM json_each(@sessions)) OR device_id IN (SELECT value FROM json_each(@devices))`)
        .all({ p: scope.participantId, sessions: JSON.stringify(scope.sessionIds), devices: JSON.stringify(scope.deviceIds) }) as Row[];
      const update = db.prepare(`UPDATE safeguard_incidents SET checks_json = ?, session_id = NULL, turn_id = NULL,
        retained_ts_utc = COALESCE(retained_ts_utc, ?), retained_reason = ?, updated_ts_utc = ? WHERE incident_id = ?`);
      for (const r of rows) update.run(JSON.stringify(checksWithoutWords(JSON.parse(r.checks_json as string))), at, RETAINED_REASON, at, r.incident_id);
    })();
  } catch (cause) {
    throw new StoreError(`withdrawal of ${scope.participantId}: keeping incident records failed and nothing was deleted (${(cause as Error).message})`, { cause });
  }
  return retainedIncidents(db, scope.participantId, scope.deviceIds);
}

/** Incidents a withdrawal kept for a participant (or on their devices), each checked to hold no words. */
export function retainedIncidents(db: Database.Database, participantId: string, deviceIds: readonly string[] = []): RetainedIncident[] {
  const rows = db
    .prepare(`SELECT * FROM safeguard_incidents WHERE retained_ts_utc IS NOT NULL
      AND (participant_id = ? OR device_id IN (SELECT value FROM json_each(?))) ORDER BY event_ts_utc, incident_id`)
    .all(participantId, JSON.stringify(deviceIds)) as Row[];
  return rows.map(toRetainedIncident);
}

