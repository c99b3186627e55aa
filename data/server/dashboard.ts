/**
 * What the study server's dashboard shows, read from the study database: devices with their latest
 * heartbeat, the participant × day adherence grid, alerts, and one device's sessions and heartbeats.
 *
 * Nothing here reads participants' words: no `turns`, no `memories`, no `participant_values`, no
 * incident descriptions, no response text. Sessions are read by status and time only.
 */
import type BetterSqlite3 from 'better-sqlite3';
import { adherence, type AdherenceCell } from '../report/queries.js';
import { sqliteHandle, type SqliteStore } from '../sqlite-store.js';

type Db = BetterSqlite3.Database;

/** A device's clock further than this from the server's when it sent a heartbeat is flagged (PROTOCOL.md). */
export const CLOCK_SKEW_FLAG_MS = 5 * 60_000;

/** The latest heartbeat of a device, as the dashboard shows it. */
export interface HeartbeatView {
  receivedTsUtc: string;
  receivedMs: number;
  deviceTsUtc: string;
  /** Device clock minus server clock at receipt. */
  skewMs: number;
  clockSource: string;
  clockOffsetMs: number | null;
  hearthVersion: string;
  protocolHash: string | null;
  freeDiskBytes: number | null;
  dbBytes: number | null;
  lastSessionStatus: string | null;
  lastSessionTsUtc: string | null;
  perception: string;
  safeguards: string;
  alertOutbox: number;
  uplinkBacklogRows: number;
}

/** One row of the devices list. */
export interface DeviceView {
  deviceId: string;
  participantId: string | null;
  participantStatus: string | null;
  /** `active` (enrolled, token valid), `revoked`, or `not enrolled` (known only from collected data). */
  token: 'active' | 'revoked' | 'not enrolled';
  enrolledTsUtc: string | null;
  /** Highest `seq` held for the device. */
  lastSeq: number;
  heartbeat: HeartbeatView | null;
  openAlerts: number;
}

/** One alert as the dashboard shows it: no free text of the incident, only its kind, ids and times. */
export interface AlertView {
  incidentId: string;
  deviceId: string;
  kind: string;
  severity: string;
  participantRef: string | null;
  eventTsUtc: string;
  reportDueTsUtc: string | null;
  /** Names of the checks that fired (no evidence). */
  checks: string[];
  receivedTsUtc: string;
  deliveries: number;
  acknowledgedTsUtc: string | null;
  acknowledgedBy: string | null;
  acknowledgementNote: string | null;
}

/** One cell of the adherence grid (the same cells as `hearth report`'s). */
export type AdherenceView = AdherenceCell;

/** A session on a device's page: status and times only. */
export interface SessionView {
  sessionId: string;
  participantId: string;
  studyDay: number | null;
  status: string;
  statusReason: string | null;
  startedTsUtc: string | null;
  endedTsUtc: string | null;
}

/** Read-only dashboard queries on an open study store. */
export class DashboardQueries {
  readonly #db: Db;

  constructor(study: SqliteStore) {
    this.#db = sqliteHandle(study);
  }

  /** Every device the server knows: enrolled, heard from, or collected; ordered by id. */
  devices(): DeviceView[] {
    const rows = this.#db.prepare(`
      WITH known AS (
        SELECT device_id FROM server_devices UNION SELECT device_id FROM server_heartbeats UNION SELECT device_id FROM devices
      )
      SELECT k.device_id,
        (SELECT p.participant_id FROM participants p WHERE p.device_id = k.device_id ORDER BY p.seq DESC LIMIT 1) AS participant_id,
        (SELECT p.status FROM participants p WHERE p.device_id = k.device_id ORDER BY p.seq DESC LIMIT 1) AS participant_status,
        sd.enrolled_ts_utc, sd.revoked_ts_utc, sd.device_id IS NOT NULL AS enrolled,
        COALESCE((SELECT last_seq FROM device_seq ds WHERE ds.device_id = k.device_id), 0) AS last_seq,
        (SELECT COUNT(*) FROM server_alerts a WHERE a.device_id = k.device_id AND a.acknowledged_ts_utc IS NULL) AS open_alerts,
        (SELECT MAX(heartbeat_id) FROM server_heartbeats h WHERE h.device_id = k.device_id) AS heartbeat_id
      FROM known k LEFT JOIN server_devices sd ON sd.device_id = k.device_id
      ORDER BY k.device_id`).all() as Record<string, string | number | null>[];
    return rows.map((r) => ({
      deviceId: r.device_id as string,
      participantId: (r.participant_id as string | null) ?? null,
      participantStatus: (r.participant_status as string | null) ?? null,
      token: r.enrolled ? (r.revoked_ts_utc ? 'revoked' : 'active') : 'not enrolled',
      enrolledTsUtc: (r.enrolled_ts_utc as string | null) ?? null,
      lastSeq: r.last_seq as number,
      openAlerts: r.open_alerts as number,
      heartbeat: r.heartbeat_id === null ? null : this.heartbeat(r.heartbeat_id as number),
    }));
  }

  /** The newest heartbeats of a device, newest first. */
  heartbeats(deviceId: string, limit = 50): HeartbeatView[] {
    return (this.#db.prepare('SELECT * FROM server_heartbeats WHERE device_id = ? ORDER BY heartbeat_id DESC LIMIT ?').all(deviceId, limit) as Row[]).map(toHeartbeat);
  }

  /** The newest sessions of a device (status and times, never what was said), newest first. */
  sessions(deviceId: string, limit = 30): SessionView[] {
    return (this.#db.prepare(`SELECT session_id, participant_id, study_day, status, status_reason, started_ts_utc, ended_ts_utc
      FROM sessions WHERE device_id = ? ORDER BY seq DESC LIMIT ?`).all(deviceId, limit) as Row[]).map((r) => ({
      sessionId: r.session_id as string, participantId: r.participant_id as string, studyDay: (r.study_day as number | null) ?? null,
      status: r.status as string, statusReason: (r.status_reason as string | null) ?? null,
      startedTsUtc: (r.started_ts_utc as string | null) ?? null, endedTsUtc: (r.ended_ts_utc as string | null) ?? null,
    }));
  }

  /** Alerts not yet acknowledged, oldest event first (the one waiting longest on top). */
  openAlerts(): AlertView[] {
    return (this.#db.prepare('SELECT * FROM server_alerts WHERE acknowledged_ts_utc IS NULL ORDER BY event_ts_utc, incident_id').all() as Row[]).map(toAlert);
  }

  /** Alerts acknowledged most recently, newest first. */
  acknowledgedAlerts(limit = 20): AlertView[] {
    return (this.#db.prepare('SELECT * FROM server_alerts WHERE acknowledged_ts_utc IS NOT NULL ORDER BY acknowledged_ts_utc DESC LIMIT ?').all(limit) as Row[]).map(toAlert);
  }

  /** Every alert of one device, newest first. */
  alertsOf(deviceId: string): AlertView[] {
    return (this.#db.prepare('SELECT * FROM server_alerts WHERE device_id = ? ORDER BY event_ts_utc DESC').all(deviceId) as Row[]).map(toAlert);
  }

  /** One alert, or undefined. */
  alert(incidentId: string): AlertView | undefined {
    const r = this.#db.prepare('SELECT * FROM server_alerts WHERE incident_id = ?').get(incidentId) as Row | undefined;
    return r && toAlert(r);
  }

  /**
   * One cell per participant and study day, by the rules of `hearth report` (data/report/queries.ts):
   * from the stored schedule (completed; a session interrupted; missed and expired as stored; else
   * open), the best of a day's instances; from sessions for a participant with no stored schedule.
   */
  adherence(): AdherenceView[] {
    return adherence(this.#db);
  }

  private heartbeat(id: number): HeartbeatView {
    return toHeartbeat(this.#db.prepare('SELECT * FROM server_heartbeats WHERE heartbeat_id = ?').get(id) as Row);
  }
}

type Row = Record<string, string | number | null>;

function toHeartbeat(r: Row): HeartbeatView {
  return {
    receivedTsUtc: r.received_ts_utc as string, receivedMs: r.received_ms as number, deviceTsUtc: r.device_ts_utc as string,
    skewMs: (r.device_clock_ms as number) - (r.received_ms as number), clockSource: r.clock_source as string,
    clockOffsetMs: (r.clock_offset_ms as number | null) ?? null, hearthVersion: r.hearth_version as string, protocolHash: (r.protocol_hash as string | null) ?? null,
    freeDiskBytes: (r.free_disk_bytes as number | null) ?? null, dbBytes: (r.db_bytes as number | null) ?? null,
    lastSessionStatus: (r.last_session_status as string | null) ?? null, lastSessionTsUtc: (r.last_session_ts_utc as string | null) ?? null,
    perception: r.perception as string, safeguards: r.safeguards as string, alertOutbox: r.alert_outbox as number, uplinkBacklogRows: r.uplink_backlog_rows as number,
  };
}

function toAlert(r: Row): AlertView {
  let checks: string[] = [];
  try {
    const parsed = JSON.parse(r.checks_json as string) as unknown;
    if (Array.isArray(parsed)) checks = parsed.map((c) => (c && typeof c === 'object' && typeof (c as { check?: unknown }).check === 'string' ? (c as { check: string }).check : null)).filter((c): c is string => c !== null);
  } catch {
    checks = [];
  }
  return {
    incidentId: r.incident_id as string, deviceId: r.device_id as string, kind: r.kind as string, severity: r.severity as string,
    participantRef: (r.participant_ref as string | null) ?? null, eventTsUtc: r.event_ts_utc as string, reportDueTsUtc: (r.report_due_ts_utc as string | null) ?? null,
    checks, receivedTsUtc: r.received_ts_utc as string, deliveries: r.deliveries as number,
    acknowledgedTsUtc: (r.acknowledged_ts_utc as string | null) ?? null, acknowledgedBy: (r.acknowledged_by as string | null) ?? null,
    acknowledgementNote: (r.acknowledgement_note as string | null) ?? null,
  };
}
