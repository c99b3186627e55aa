/**
 * Safeguard records beyond `safeguard_events`: incidents for study staff and the IRB, and values
 * inferred about a participant (with the words that showed them), which the participant can see
 * and delete. Every row carries the common columns with the device's next `seq` (`commonColumns`),
 * and every change is also written to the device's `events` log in sequence.
 */
import type Database from 'better-sqlite3';
import { StoreError } from './errors.js';
import { commonColumns, type CommonColumns } from './sqlite-store.js';
import type { DeviceLog } from './store.js';
import { isoUtc, studyDay } from './time.js';

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
  alertStatus: 'pending' | 'sent' | 'failed';
  studyDay: number | null;
  /** When the row last changed (alert status, acknowledgement, resolution); `eventTsUtc` until then. */
  updatedTsUtc: string;
  /** The device's sequence number of the incident row. */
  seq: number;
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

type Row = Record<string, unknown>;

/** Incidents and inferred values in the Hearth database (`SqliteStore.db`), for one device. */
export class SqliteSafeguardRecords {
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

  /** Store a new incident (alert status `pending`). */
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

  /** Record whether the alert reached staff. */
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

  /** Incidents whose alert has not reached staff yet (to retry). */
  unsentIncidents(): IncidentRecord[] {
    return (this.db.prepare("SELECT * FROM safeguard_incidents WHERE device_id = ? AND alert_status != 'sent' ORDER BY event_ts_utc").all(this.log.identity.deviceId) as Row[]).map(toIncident);
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
    return (this.db.prepare('SELECT * FROM participant_values WHERE participant_id = ? ORDER BY confidence DESC, value').all(participantId) as Row[]).map((r) => ({
      value: r.value as string,
      confidence: r.confidence as number,
      evidence: r.evidence as string,
      sessionId: (r.session_id as string | null) ?? null,
      turnId: (r.turn_id as number | null) ?? null,
      tsUtc: r.ts_utc as string,
    }));
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

function toIncident(r: Row): IncidentRecord {
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
    studyDay: (r.study_day as number | null) ?? null,
    updatedTsUtc: r.updated_ts_utc as string,
    seq: r.seq as number,
  };
}
