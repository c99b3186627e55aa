/**
 * What `hearth report` draws, read from a device or study database as plain rows: adherence per
 * participant-day, session durations, daily affect, questionnaire answers, safeguard checks and
 * incidents, and rows per table and day. No scoring and no statistics here (the runtime scores with the
 * protocol's instruments); only SQL, in one read snapshot.
 */
import type { AnalysisSource } from '../analysis-source.js';
import { unreadable } from '../errors.js';
import { sqliteHandle } from '../sqlite-store.js';

/** How a participant's study day went: one cell of the adherence grid. */
export type AdherenceStatus = 'completed' | 'interrupted' | 'missed' | 'expired' | 'open';

/** The grid's statuses, best first: a day with several sessions shows the best one. */
export const ADHERENCE_STATUSES: readonly AdherenceStatus[] = ['completed', 'interrupted', 'open', 'expired', 'missed'];

/** One participant of the file. */
export interface ReportParticipant {
  participantId: string;
  deviceId: string;
  /** The allocated condition (null when enrolled without one). */
  condition: string | null;
  startDate: string;
  tz: string;
  status: string;
  protocolId: string | null;
  protocolHash: string | null;
}

/** One cell of the adherence grid. */
export interface AdherenceCell {
  participantId: string;
  studyDay: number;
  status: AdherenceStatus;
  /** Schedule instances of the day (or sessions, for a participant without a stored schedule). */
  planned: number;
}

/** A completed or interrupted session (a missed one only waited for an answer). */
export interface SessionDuration {
  sessionId: string;
  participantId: string;
  studyDay: number;
  status: string;
  minutes: number;
}

/** Mean fused affect of one participant on one study day. */
export interface AffectDay {
  participantId: string;
  studyDay: number;
  valence: number | null;
  arousal: number | null;
  samples: number;
}

/** One questionnaire answer, item level, raw (not reverse-scored). */
export interface ReportResponse {
  participantId: string;
  sessionId: string;
  studyDay: number;
  /** The session's condition, else the participant's. */
  condition: string | null;
  instrument: string;
  item: string;
  value: number | null;
  status: string;
  scoringVersion: string;
}

/** Safeguard checks of one study day with one decision. */
export interface SafeguardDay {
  studyDay: number | null;
  decision: string;
  checks: number;
}

/** One safeguard incident (no description: it may hold the participant's words). */
export interface ReportIncident {
  incidentId: string;
  participantId: string | null;
  studyDay: number | null;
  kind: string;
  severity: string;
  eventTsUtc: string;
}

/** Rows of one table on one study day (null: rows without a study day). */
export interface CompletenessCell {
  table: string;
  studyDay: number | null;
  rows: number;
}

/** Everything the report draws, as plain data. */
export interface ReportData {
  source: { path: string; kind: 'device' | 'study'; schemaVersion: number; deviceIds: string[]; collections: number };
  participants: ReportParticipant[];
  adherence: AdherenceCell[];
  sessions: SessionDuration[];
  affect: AffectDay[];
  responses: ReportResponse[];
  safeguards: SafeguardDay[];
  incidents: ReportIncident[];
  completeness: CompletenessCell[];
}

/** Tables with device rows whose rows per day the report counts, in the schema's order. */
export const COMPLETENESS_TABLES: readonly string[] = [
  'sessions', 'schedule_instances', 'turns', 'events', 'responses', 'affect_samples', 'safeguard_events', 'safeguard_incidents',
  'memories', 'participant_values', 'consent_records', 'tombstones',
];

type Db = ReturnType<typeof sqliteHandle>;

/**
 * Read the report's data from `source` in one snapshot. `instruments` are the questionnaires whose
 * answers are wanted (e.g. `mood`, `story_empathy`). SQLite failures (a truncated or damaged file)
 * become a `StoreError` naming the file.
 */
export async function readReportData(source: AnalysisSource, instruments: readonly string[]): Promise<ReportData> {
  const db = sqliteHandle(source.store);
  try {
    return await source.snapshot(() => ({
      source: { path: source.path, kind: source.kind, schemaVersion: source.schemaVersion, deviceIds: source.deviceIds, collections: source.collections },
      participants: participants(db),
      adherence: adherence(db),
      sessions: sessionDurations(db),
      affect: affectDays(db),
      responses: responses(db, instruments),
      safeguards: safeguardDays(db),
      incidents: incidents(db),
      completeness: completeness(db),
    }));
  } catch (cause) {
    throw unreadable(source.path, cause);
  }
}

function participants(db: Db): ReportParticipant[] {
  return (db.prepare(`SELECT participant_id, device_id, condition, start_date, tz, status, protocol_id, protocol_hash
    FROM participants ORDER BY participant_id`).all() as Record<string, string | null>[]).map((r) => ({
    participantId: r.participant_id!, deviceId: r.device_id!, condition: r.condition ?? null, startDate: r.start_date!, tz: r.tz!,
    status: r.status!, protocolId: r.protocol_id ?? null, protocolHash: r.protocol_hash ?? null,
  }));
}

/**
 * One cell per participant and study day. From the stored schedule: an instance `completed` is
 * completed; one whose session was interrupted is interrupted; `missed` (never invited) and `expired`
 * (invited, never started) as stored; `scheduled`, `delivered` or `started` is still open. A
 * participant without a stored schedule (a `hearth talk` device) gets cells from its sessions.
 */
export function adherence(db: Db): AdherenceCell[] {
  const rows = db.prepare(`
    SELECT si.participant_id AS participant_id, si.study_day AS study_day,
      CASE
        WHEN si.status = 'completed' THEN 'completed'
        WHEN EXISTS (SELECT 1 FROM sessions s WHERE s.status = 'interrupted'
          AND (s.session_id = si.session_id OR (si.session_id IS NULL AND s.participant_id = si.participant_id AND s.study_day = si.study_day))) THEN 'interrupted'
        WHEN si.status IN ('missed', 'expired') THEN si.status
        ELSE 'open'
      END AS status
    FROM schedule_instances si
    UNION ALL
    SELECT s.participant_id, s.study_day, CASE s.status WHEN 'started' THEN 'open' ELSE s.status END
    FROM sessions s
    WHERE s.study_day IS NOT NULL AND s.status != 'scheduled'
      AND NOT EXISTS (SELECT 1 FROM schedule_instances si WHERE si.participant_id = s.participant_id)
    ORDER BY 1, 2`).all() as { participant_id: string; study_day: number; status: AdherenceStatus }[];
  const cells = new Map<string, AdherenceCell>();
  for (const r of rows) {
    const key = `${r.participant_id}\u0000${r.study_day}`;
    const cell = cells.get(key);
    if (!cell) cells.set(key, { participantId: r.participant_id, studyDay: r.study_day, status: r.status, planned: 1 });
    else {
      cell.planned += 1;
      if (ADHERENCE_STATUSES.indexOf(r.status) < ADHERENCE_STATUSES.indexOf(cell.status)) cell.status = r.status;
    }
  }
  return [...cells.values()];
}

function sessionDurations(db: Db): SessionDuration[] {
  return (db.prepare(`
    SELECT session_id, participant_id, study_day, status,
      (julianday(ended_ts_utc) - julianday(started_ts_utc)) * 1440.0 AS minutes
    FROM sessions
    WHERE status IN ('completed', 'interrupted') AND started_ts_utc IS NOT NULL AND ended_ts_utc IS NOT NULL AND study_day IS NOT NULL
    ORDER BY participant_id, study_day, seq`).all() as { session_id: string; participant_id: string; study_day: number; status: string; minutes: number }[])
    .map((r) => ({ sessionId: r.session_id, participantId: r.participant_id, studyDay: r.study_day, status: r.status, minutes: r.minutes }));
}

/** Samples belong to their session's participant, else to the participant enrolled on their device. */
function affectDays(db: Db): AffectDay[] {
  return (db.prepare(`
    SELECT participant_id, study_day, AVG(valence) AS valence, AVG(arousal) AS arousal, COUNT(*) AS samples
    FROM (
      SELECT COALESCE(s.participant_id,
          (SELECT p.participant_id FROM participants p WHERE p.device_id = a.device_id ORDER BY p.seq DESC LIMIT 1)) AS participant_id,
        a.study_day AS study_day, a.valence AS valence, a.arousal AS arousal
      FROM affect_samples a LEFT JOIN sessions s ON s.session_id = a.session_id
      WHERE a.study_day IS NOT NULL
    )
    WHERE participant_id IS NOT NULL
    GROUP BY participant_id, study_day
    ORDER BY participant_id, study_day`).all() as { participant_id: string; study_day: number; valence: number | null; arousal: number | null; samples: number }[])
    .map((r) => ({ participantId: r.participant_id, studyDay: r.study_day, valence: r.valence, arousal: r.arousal, samples: r.samples }));
}

function responses(db: Db, instruments: readonly string[]): ReportResponse[] {
  return (db.prepare(`
    SELECT s.participant_id, r.session_id, r.study_day, COALESCE(s.condition, p.condition) AS condition,
      r.instrument, r.item, r.value, r.status, r.scoring_version
    FROM responses r
    JOIN sessions s ON s.session_id = r.session_id
    LEFT JOIN participants p ON p.participant_id = s.participant_id
    WHERE r.instrument IN (SELECT value FROM json_each(?)) AND r.study_day IS NOT NULL
    ORDER BY s.participant_id, r.study_day, r.seq`).all(JSON.stringify(instruments)) as Record<string, string | number | null>[])
    .map((r) => ({
      participantId: r.participant_id as string, sessionId: r.session_id as string, studyDay: r.study_day as number,
      condition: (r.condition as string | null) ?? null, instrument: r.instrument as string, item: r.item as string,
      value: (r.value as number | null) ?? null, status: r.status as string, scoringVersion: r.scoring_version as string,
    }));
}

function safeguardDays(db: Db): SafeguardDay[] {
  return (db.prepare('SELECT study_day, decision, COUNT(*) AS checks FROM safeguard_events GROUP BY study_day, decision ORDER BY study_day, decision')
    .all() as { study_day: number | null; decision: string; checks: number }[]).map((r) => ({ studyDay: r.study_day, decision: r.decision, checks: r.checks }));
}

function incidents(db: Db): ReportIncident[] {
  return (db.prepare('SELECT incident_id, participant_id, study_day, kind, severity, event_ts_utc FROM safeguard_incidents ORDER BY event_ts_utc, incident_id')
    .all() as Record<string, string | number | null>[]).map((r) => ({
    incidentId: r.incident_id as string, participantId: (r.participant_id as string | null) ?? null, studyDay: (r.study_day as number | null) ?? null,
    kind: r.kind as string, severity: r.severity as string, eventTsUtc: r.event_ts_utc as string,
  }));
}

function completeness(db: Db): CompletenessCell[] {
  const cells: CompletenessCell[] = [];
  for (const table of COMPLETENESS_TABLES) {
    // Table names come from the constant list above, never from input.
    for (const r of db.prepare(`SELECT study_day, COUNT(*) AS n FROM ${table} GROUP BY study_day ORDER BY study_day`).all() as { study_day: number | null; n: number }[]) {
      cells.push({ table, studyDay: r.study_day, rows: r.n });
    }
  }
  return cells;
}
