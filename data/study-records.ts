/**
 * The study's records in a Hearth database: allocation registry, schedule instances, consent
 * records, withdrawal purge with its tombstone, and the scan that proves a participant is gone.
 * Operates on `SqliteStore.db`; only the driver's type is imported here.
 */
import type BetterSqlite3 from 'better-sqlite3';
import { StoreError } from './errors.js';
import { stamp, type ClockSource } from './time.js';

type Database = BetterSqlite3.Database;
type Row = Record<string, unknown>;

// ---------------------------------------------------------------------------------------------
// Allocation registry

/** One participant's allocation as recorded. */
export interface AllocationRecord {
  studyId: string;
  participantId: string;
  stratum: string;
  slot: number;
  condition: string;
  method: 'blocked' | 'simple';
  blockIndex: number | null;
  blockSize: number | null;
  seed: string;
  protocolHash: string;
  tsUtc: string;
}

/** The allocation seed of a study, created with `makeSeed()` the first time it is asked for. */
export function allocationSeed(db: Database, studyId: string, makeSeed: () => string, atMs: number): string {
  return db.transaction(() => {
    const row = db.prepare('SELECT seed FROM allocation_seeds WHERE study_id = ?').get(studyId) as { seed: string } | undefined;
    if (row) return row.seed;
    const seed = makeSeed();
    db.prepare('INSERT INTO allocation_seeds (study_id, seed, created_ts_utc) VALUES (?, ?, ?)').run(studyId, seed, new Date(atMs).toISOString());
    return seed;
  }).immediate();
}

/** A participant's allocation in a study, if any. */
export function findAllocation(db: Database, studyId: string, participantId: string): AllocationRecord | undefined {
  const r = db.prepare('SELECT * FROM allocations WHERE study_id = ? AND participant_id = ?').get(studyId, participantId) as Row | undefined;
  return r && toAllocation(r);
}

/** All allocations of a study, in slot order per stratum. */
export function allocationsOf(db: Database, studyId: string): AllocationRecord[] {
  return (db.prepare('SELECT * FROM allocations WHERE study_id = ? ORDER BY stratum, slot').all(studyId) as Row[]).map(toAllocation);
}

/**
 * Allocate atomically: if the participant already has an allocation it is returned unchanged;
 * otherwise `choose(slot)` picks the condition for the stratum's next slot and it is recorded.
 */
export function allocateOnce(
  db: Database,
  a: { studyId: string; participantId: string; stratum: string; seed: string; protocolHash: string; tz: string; atMs: number },
  choose: (slot: number) => { condition: string; method: 'blocked' | 'simple'; blockIndex: number | null; blockSize: number | null },
): { record: AllocationRecord; created: boolean } {
  return db.transaction(() => {
    const existing = findAllocation(db, a.studyId, a.participantId);
    if (existing) return { record: existing, created: false };
    const { next } = db.prepare('SELECT COALESCE(MAX(slot) + 1, 0) AS next FROM allocations WHERE study_id = ? AND stratum = ?').get(a.studyId, a.stratum) as { next: number };
    const c = choose(next);
    const s = stamp(a.atMs, a.tz);
    db.prepare(`INSERT INTO allocations (study_id, participant_id, stratum, slot, condition, method, block_index, block_size, seed, protocol_hash, ts_utc, tz, ts_local)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(a.studyId, a.participantId, a.stratum, next, c.condition, c.method, c.blockIndex, c.blockSize, a.seed, a.protocolHash, s.ts_utc, s.tz, s.ts_local);
    return { record: findAllocation(db, a.studyId, a.participantId)!, created: true };
  }).immediate();
}

function toAllocation(r: Row): AllocationRecord {
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

// ---------------------------------------------------------------------------------------------
// Schedule instances

/** Status of a schedule instance row. */
export type InstanceRowStatus = 'scheduled' | 'delivered' | 'started' | 'completed' | 'missed' | 'expired';

/** A schedule instance as stored. */
export interface ScheduleInstanceRecord {
  participantId: string;
  instanceId: string;
  deviceId: string;
  slot: string;
  studyDay: number;
  localDate: string;
  templateId: string;
  tz: string;
  windowStartUtc: string;
  windowEndUtc: string;
  windowStartLocal: string;
  windowEndLocal: string;
  status: InstanceRowStatus;
  statusReason: string | null;
  invitations: number;
  lastInvitedTsUtc: string | null;
  sessionId: string | null;
  protocolHash: string;
  updatedTsUtc: string;
}

/** Fields written when an instance is first stored. */
export type NewScheduleInstance = Omit<ScheduleInstanceRecord, 'updatedTsUtc' | 'status' | 'statusReason' | 'invitations' | 'lastInvitedTsUtc' | 'sessionId'>;

/** Store instances not stored yet (existing ones keep their status). Returns how many were added. */
export function saveScheduleInstances(db: Database, instances: readonly NewScheduleInstance[], atMs: number): number {
  const insert = db.prepare(`INSERT OR IGNORE INTO schedule_instances (participant_id, instance_id, device_id, slot, study_day, local_date, template_id, tz,
      window_start_utc, window_end_utc, window_start_local, window_end_local, status, protocol_hash, updated_ts_utc)
    VALUES (@participantId, @instanceId, @deviceId, @slot, @studyDay, @localDate, @templateId, @tz,
      @windowStartUtc, @windowEndUtc, @windowStartLocal, @windowEndLocal, 'scheduled', @protocolHash, @updatedTsUtc)`);
  const updated = new Date(atMs).toISOString();
  return db.transaction(() => instances.reduce((n, i) => n + insert.run({ ...i, updatedTsUtc: updated }).changes, 0))();
}

/** A participant's stored instances, by window start. */
export function loadScheduleInstances(db: Database, participantId: string): ScheduleInstanceRecord[] {
  return (db.prepare('SELECT * FROM schedule_instances WHERE participant_id = ? ORDER BY window_start_utc, slot').all(participantId) as Row[]).map((r) => ({
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
  }));
}

/** Record an instance's new status (and invitation count, session id). Throws when the instance is unknown. */
export function updateScheduleInstance(
  db: Database,
  participantId: string,
  instanceId: string,
  change: { status: InstanceRowStatus; statusReason: string | null; invitations?: number; lastInvitedMs?: number | null; sessionId?: string | null },
  atMs: number,
): void {
  const info = db.prepare(`UPDATE schedule_instances SET status = @status, status_reason = @statusReason,
      invitations = COALESCE(@invitations, invitations),
      last_invited_ts_utc = COALESCE(@lastInvited, last_invited_ts_utc),
      session_id = COALESCE(@sessionId, session_id), updated_ts_utc = @updated
    WHERE participant_id = @participantId AND instance_id = @instanceId`).run({
    status: change.status,
    statusReason: change.statusReason,
    invitations: change.invitations ?? null,
    lastInvited: change.lastInvitedMs === undefined || change.lastInvitedMs === null ? null : new Date(change.lastInvitedMs).toISOString(),
    sessionId: change.sessionId ?? null,
    updated: new Date(atMs).toISOString(),
    participantId,
    instanceId,
  });
  if (info.changes === 0) throw new StoreError(`schedule instance ${instanceId} of participant ${participantId} not found`);
}

// ---------------------------------------------------------------------------------------------
// Consent

/** One consent decision to record; `prompt` is a snapshot of exactly what was asked. */
export interface NewConsentRecord {
  participantId: string;
  deviceId: string | null;
  consentVersion: number;
  modality: string;
  granted: boolean;
  method: 'voice' | 'staff';
  prompt: string;
  protocolHash: string;
  tz: string;
  clockSource: ClockSource;
}

/** A stored consent decision. */
export interface ConsentRecordRow extends Omit<NewConsentRecord, 'clockSource'> {
  id: number;
  atMs: number;
  tsUtc: string;
  tsLocal: string;
  clockSource: ClockSource;
}

/** Append consent decisions in one transaction (decisions are never updated: later rows win). */
export function recordConsent(db: Database, records: readonly NewConsentRecord[], atMs: number): void {
  const insert = db.prepare(`INSERT INTO consent_records (participant_id, device_id, consent_version, modality, granted, method, prompt, protocol_hash, ts_utc, tz, ts_local, clock_source)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  try {
    db.transaction(() => {
      for (const r of records) {
        const s = stamp(atMs, r.tz);
        insert.run(r.participantId, r.deviceId, r.consentVersion, r.modality, r.granted ? 1 : 0, r.method, r.prompt, r.protocolHash, s.ts_utc, s.tz, s.ts_local, r.clockSource);
      }
    })();
  } catch (cause) {
    throw new StoreError(`cannot record consent: ${(cause as Error).message}`, { cause });
  }
}

/** A participant's consent decisions, oldest first. */
export function consentRecords(db: Database, participantId: string): ConsentRecordRow[] {
  return (db.prepare('SELECT * FROM consent_records WHERE participant_id = ? ORDER BY consent_record_id').all(participantId) as Row[]).map((r) => ({
    id: r.consent_record_id as number,
    participantId: r.participant_id as string,
    deviceId: (r.device_id as string | null) ?? null,
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
  }));
}

// ---------------------------------------------------------------------------------------------
// Withdrawal

/** Tables a withdrawal keeps: the tombstone, the consent record, and bookkeeping without personal data. */
export const KEPT_TABLES: readonly string[] = ['tombstones', 'consent_records', 'device_seq', 'allocation_seeds'];

/** Whose data to purge or look for: the participant, their sessions, the devices only they used. */
export interface ParticipantScope {
  participantId: string;
  sessionIds: string[];
  /** Devices where this participant is the only one enrolled: every row of these devices is theirs. */
  deviceIds: string[];
}

/** Collect a participant's session ids and sole-use devices from every table that names them. */
export function participantScope(db: Database, participantId: string, extraDeviceIds: readonly string[] = []): ParticipantScope {
  const tables = userTables(db);
  const sessionIds = new Set<string>();
  const devices = new Set<string>(extraDeviceIds);
  for (const t of tables) {
    const cols = columnsOf(db, t);
    if (!cols.includes('participant_id')) continue;
    if (cols.includes('session_id')) {
      for (const r of db.prepare(`SELECT DISTINCT session_id FROM "${t}" WHERE participant_id = ? AND session_id IS NOT NULL`).all(participantId) as { session_id: string }[]) sessionIds.add(r.session_id);
    }
    if (cols.includes('device_id') && !KEPT_TABLES.includes(t)) {
      for (const r of db.prepare(`SELECT DISTINCT device_id FROM "${t}" WHERE participant_id = ? AND device_id IS NOT NULL`).all(participantId) as { device_id: string }[]) devices.add(r.device_id);
    }
  }
  // A device also used by someone else keeps its device-level rows; only rows naming this participant or their sessions go.
  const soleUse = [...devices].filter((d) => {
    for (const t of tables) {
      const cols = columnsOf(db, t);
      if (KEPT_TABLES.includes(t) || !cols.includes('participant_id') || !cols.includes('device_id')) continue;
      const other = db.prepare(`SELECT 1 FROM "${t}" WHERE device_id = ? AND participant_id <> ? LIMIT 1`).get(d, participantId);
      if (other) return false;
    }
    return true;
  });
  return { participantId, sessionIds: [...sessionIds].sort(), deviceIds: soleUse.sort() };
}

/** Rows purged per table. */
export type PurgeCounts = Record<string, number>;

/**
 * Delete every row of the participant from every table that has a `participant_id`,
 * `session_id` or `device_id` column (discovered from the schema, so tables added later are
 * covered), except `KEPT_TABLES`; write the tombstone; then VACUUM so deleted bytes leave the
 * file, and checkpoint the WAL. `secure_delete` zeroes freed pages as they are freed.
 */
export function purgeParticipant(
  db: Database,
  scope: ParticipantScope,
  tombstone: { studyId: string | null; protocolHash: string | null; deviceId: string | null; tz: string; atMs: number; filesPurged: number },
): PurgeCounts {
  const counts: PurgeCounts = {};
  db.pragma('secure_delete = ON');
  const sessionList = JSON.stringify(scope.sessionIds);
  const deviceList = JSON.stringify(scope.deviceIds);
  try {
    db.transaction(() => {
      db.pragma('defer_foreign_keys = ON');
      for (const t of userTables(db)) {
        if (KEPT_TABLES.includes(t)) continue;
        const cols = columnsOf(db, t);
        const where: string[] = [];
        if (cols.includes('participant_id')) where.push('participant_id = @p');
        if (cols.includes('session_id')) where.push('session_id IN (SELECT value FROM json_each(@sessions))');
        if (cols.includes('device_id')) where.push('device_id IN (SELECT value FROM json_each(@devices))');
        if (where.length === 0) continue;
        const n = db.prepare(`DELETE FROM "${t}" WHERE ${where.join(' OR ')}`).run({ p: scope.participantId, sessions: sessionList, devices: deviceList }).changes;
        if (n > 0) counts[t] = n;
      }
      const s = stamp(tombstone.atMs, tombstone.tz);
      db.prepare(`INSERT OR REPLACE INTO tombstones (participant_id, device_id, study_id, protocol_hash, withdrawn_ts_utc, tz, withdrawn_ts_local, rows_purged_json, files_purged)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(scope.participantId, tombstone.deviceId, tombstone.studyId, tombstone.protocolHash, s.ts_utc, s.tz, s.ts_local, JSON.stringify(counts), tombstone.filesPurged);
    })();
  } catch (cause) {
    throw new StoreError(`withdrawal of ${scope.participantId} failed and nothing was deleted: ${(cause as Error).message}`, { cause });
  }
  db.exec('VACUUM');
  db.pragma('wal_checkpoint(TRUNCATE)');
  return counts;
}

/** Update the tombstone's file count after files were removed. */
export function setTombstoneFiles(db: Database, participantId: string, filesPurged: number): void {
  db.prepare('UPDATE tombstones SET files_purged = ? WHERE participant_id = ?').run(filesPurged, participantId);
}

/** The tombstone of a withdrawn participant, if any. */
export function tombstoneOf(db: Database, participantId: string): Row | undefined {
  return db.prepare('SELECT * FROM tombstones WHERE participant_id = ?').get(participantId) as Row | undefined;
}

/** What a scan found in one table. */
export interface TableScan {
  table: string;
  /** Rows naming the participant, one of their sessions, or (for sole-use devices) the device. */
  rows: number;
  /** True for tables a withdrawal keeps on purpose (tombstone, consent record). */
  kept: boolean;
}

/**
 * Look in every column of every table for the participant id (as a whole token), any of their
 * session ids, and rows of their sole-use devices. After a withdrawal only kept tables may match.
 */
export function scanParticipant(db: Database, scope: ParticipantScope): TableScan[] {
  const token = new RegExp(`(^|[^A-Za-z0-9])${escapeRe(scope.participantId)}($|[^A-Za-z0-9])`);
  const needles = [scope.participantId, ...scope.sessionIds];
  const out: TableScan[] = [];
  for (const t of userTables(db)) {
    const cols = columnsOf(db, t);
    const kept = KEPT_TABLES.includes(t);
    const conds = cols.flatMap((c) => needles.map((_, i) => `instr(CAST("${c}" AS TEXT), @n${i}) > 0`));
    if (cols.includes('device_id') && scope.deviceIds.length > 0 && !kept) conds.push('device_id IN (SELECT value FROM json_each(@devices))');
    const params: Record<string, string> = { devices: JSON.stringify(scope.deviceIds) };
    needles.forEach((n, i) => (params[`n${i}`] = n));
    const candidates = db.prepare(`SELECT * FROM "${t}" WHERE ${conds.join(' OR ')}`).all(params) as Row[];
    const rows = candidates.filter((r) => Object.values(r).some((v) => {
      if (v === null || v === undefined) return false;
      const text = Buffer.isBuffer(v) ? v.toString('latin1') : String(v);
      return token.test(text) || scope.sessionIds.some((s) => text.includes(s)) || (!kept && scope.deviceIds.includes(text) && r.device_id === text);
    })).length;
    out.push({ table: t, rows, kept });
  }
  return out;
}

/** Names of the database's own tables (not SQLite's). */
export function userTables(db: Database): string[] {
  return (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all() as { name: string }[]).map((r) => r.name);
}

function columnsOf(db: Database, table: string): string[] {
  return (db.prepare(`PRAGMA table_info("${table.replace(/"/g, '""')}")`).all() as { name: string }[]).map((c) => c.name);
}

const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
