/**
 * The study's records in a Hearth database: allocation registry, schedule instances, consent
 * records, withdrawal purge with its tombstone, and the scan that proves a participant is gone.
 * The SQLite side of `StudyRecords`, `ConsentRecords` and `WithdrawalRecords` (wired by `SqliteStore`);
 * only the driver's type is imported here. Device rows take their
 * common columns (and the device's next `seq`) from `commonColumns`, inside the inserting transaction.
 */
import type BetterSqlite3 from 'better-sqlite3';
import { StoreError } from './errors.js';
import { commonColumns } from './sqlite-store.js';
import { KEPT_TABLES, toAllocation, toConsent, toScheduleInstance, type Row } from './rows.js';
import type { DeviceIdentity } from './store.js';

export { KEPT_TABLES } from './rows.js';
import { stamp, studyDay, type ClockSource } from './time.js';

type Database = BetterSqlite3.Database;

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

/** When and where a registry row is written: the provisioning time, the participant's zone, the clock used. */
export interface RegistryStamp {
  atMs: number;
  tz: string;
  clockSource: ClockSource;
}

/**
 * The allocation seed of a study, created with `makeSeed()` the first time it is asked for. Registry
 * rows carry UTC/zone/local time but no device `seq`: the registry is a staff file, not a device.
 */
export function allocationSeed(db: Database, studyId: string, makeSeed: () => string, at: RegistryStamp): string {
  return db.transaction(() => {
    const row = db.prepare('SELECT seed FROM allocation_seeds WHERE study_id = ?').get(studyId) as { seed: string } | undefined;
    if (row) return row.seed;
    const seed = makeSeed();
    const s = stamp(at.atMs, at.tz);
    db.prepare('INSERT INTO allocation_seeds (study_id, seed, ts_utc, tz, ts_local, clock_source) VALUES (?, ?, ?, ?, ?, ?)')
      .run(studyId, seed, s.ts_utc, s.tz, s.ts_local, at.clockSource);
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
  a: { studyId: string; participantId: string; stratum: string; seed: string; protocolHash: string } & RegistryStamp,
  choose: (slot: number) => { condition: string; method: 'blocked' | 'simple'; blockIndex: number | null; blockSize: number | null },
): { record: AllocationRecord; created: boolean } {
  return db.transaction(() => {
    const existing = findAllocation(db, a.studyId, a.participantId);
    if (existing) return { record: existing, created: false };
    const { next } = db.prepare('SELECT COALESCE(MAX(slot) + 1, 0) AS next FROM allocations WHERE study_id = ? AND stratum = ?').get(a.studyId, a.stratum) as { next: number };
    const c = choose(next);
    const s = stamp(a.atMs, a.tz);
    db.prepare(`INSERT INTO allocations (study_id, participant_id, stratum, slot, condition, method, block_index, block_size, seed, protocol_hash, ts_utc, tz, ts_local, clock_source)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(a.studyId, a.participantId, a.stratum, next, c.condition, c.method, c.blockIndex, c.blockSize, a.seed, a.protocolHash, s.ts_utc, s.tz, s.ts_local, a.clockSource);
    return { record: findAllocation(db, a.studyId, a.participantId)!, created: true };
  }).immediate();
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

/** Fields written when an instance is first stored (device and zone come from the device identity). */
export type NewScheduleInstance = Omit<
  ScheduleInstanceRecord,
  'deviceId' | 'tz' | 'updatedTsUtc' | 'status' | 'statusReason' | 'invitations' | 'lastInvitedTsUtc' | 'sessionId'
>;

/**
 * Store instances not stored yet (existing ones keep their status and their `seq`). Returns how many
 * were added. Each new row is stamped at `atMs` with the device's next `seq`; its `study_day` is the
 * instance's own day (the day the session is for), as for `sessions`.
 */
export function saveScheduleInstances(db: Database, identity: DeviceIdentity, instances: readonly NewScheduleInstance[], atMs: number): number {
  const exists = db.prepare('SELECT 1 FROM schedule_instances WHERE participant_id = ? AND instance_id = ?');
  const insert = db.prepare(`INSERT INTO schedule_instances (participant_id, instance_id, slot, local_date, template_id,
      window_start_utc, window_end_utc, window_start_local, window_end_local, status, protocol_hash, updated_ts_utc,
      ts_utc, tz, ts_local, study_day, device_id, seq, clock_source)
    VALUES (@participantId, @instanceId, @slot, @localDate, @templateId,
      @windowStartUtc, @windowEndUtc, @windowStartLocal, @windowEndLocal, 'scheduled', @protocolHash, @ts_utc,
      @ts_utc, @tz, @ts_local, @study_day, @device_id, @seq, @clock_source)`);
  try {
    return db.transaction(() => {
      let added = 0;
      for (const i of instances) {
        // Checked first so an instance already stored does not use up a sequence number.
        if (exists.get(i.participantId, i.instanceId)) continue;
        insert.run({ ...i, ...commonColumns(db, identity, atMs, i.studyDay) });
        added++;
      }
      return added;
    })();
  } catch (cause) {
    throw new StoreError(`cannot store schedule instances on device ${identity.deviceId}: ${(cause as Error).message}`, { cause });
  }
}

/** A participant's stored instances, by window start. */
export function loadScheduleInstances(db: Database, participantId: string): ScheduleInstanceRecord[] {
  return (db.prepare('SELECT * FROM schedule_instances WHERE participant_id = ? ORDER BY window_start_utc, slot').all(participantId) as Row[]).map(toScheduleInstance);
}

/**
 * Record an instance's new status (and invitation count, session id), stamping `updated_ts_utc`.
 * The row keeps its `seq` and `ts_utc` (when it was stored); each status change is a row update,
 * not a new fact. Throws when the instance is unknown.
 */
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
  consentVersion: number;
  modality: string;
  granted: boolean;
  method: 'voice' | 'staff';
  prompt: string;
  protocolHash: string;
}

/** A stored consent decision. */
export interface ConsentRecordRow extends NewConsentRecord {
  id: number;
  deviceId: string;
  tz: string;
  atMs: number;
  tsUtc: string;
  tsLocal: string;
  clockSource: ClockSource;
  /** Study day of the decision (null when the participant is not enrolled in this database). */
  studyDay: number | null;
  seq: number;
}

/**
 * Append consent decisions of `identity`'s device in one transaction. Decisions are never updated:
 * a change of mind is a new row with the next `seq`, and the latest row per modality wins.
 */
export function recordConsent(db: Database, identity: DeviceIdentity, records: readonly NewConsentRecord[], atMs: number): void {
  const insert = db.prepare(`INSERT INTO consent_records (participant_id, consent_version, modality, granted, method, prompt, protocol_hash,
      ts_utc, tz, ts_local, study_day, device_id, seq, clock_source)
    VALUES (@participantId, @consentVersion, @modality, @granted, @method, @prompt, @protocolHash,
      @ts_utc, @tz, @ts_local, @study_day, @device_id, @seq, @clock_source)`);
  try {
    db.transaction(() => {
      for (const r of records) {
        const day = participantStudyDay(db, r.participantId, atMs, identity.tz);
        insert.run({ ...r, granted: r.granted ? 1 : 0, ...commonColumns(db, identity, atMs, day) });
      }
    })();
  } catch (cause) {
    throw new StoreError(`cannot record consent: ${(cause as Error).message}`, { cause });
  }
}

/** A participant's consent decisions, oldest first. */
export function consentRecords(db: Database, participantId: string): ConsentRecordRow[] {
  return (db.prepare('SELECT * FROM consent_records WHERE participant_id = ? ORDER BY seq, consent_record_id').all(participantId) as Row[]).map(toConsent);
}

/** The study day of `atMs` for a participant enrolled in this database, or null when they are not. */
function participantStudyDay(db: Database, participantId: string, atMs: number, tz: string): number | null {
  const row = db.prepare('SELECT start_date FROM participants WHERE participant_id = ?').get(participantId) as { start_date: string } | undefined;
  return row ? studyDay(atMs, row.start_date, tz) : null;
}

// ---------------------------------------------------------------------------------------------
// Withdrawal

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
  tombstone: { studyId: string | null; protocolHash: string | null; identity: DeviceIdentity; atMs: number; filesPurged: number },
): PurgeCounts {
  const counts: PurgeCounts = {};
  db.pragma('secure_delete = ON');
  const sessionList = JSON.stringify(scope.sessionIds);
  const deviceList = JSON.stringify(scope.deviceIds);
  try {
    db.transaction(() => {
      db.pragma('defer_foreign_keys = ON');
      // Read before the participants row goes: the tombstone's study day.
      const day = participantStudyDay(db, scope.participantId, tombstone.atMs, tombstone.identity.tz);
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
      // device_seq is kept, so the tombstone's seq follows every purged row's and is never reused.
      const c = commonColumns(db, tombstone.identity, tombstone.atMs, day);
      db.prepare(`INSERT OR REPLACE INTO tombstones (participant_id, study_id, protocol_hash, withdrawn_ts_utc, withdrawn_ts_local, rows_purged_json, files_purged,
          updated_ts_utc, ts_utc, tz, ts_local, study_day, device_id, seq, clock_source)
        VALUES (@participant_id, @study_id, @protocol_hash, @ts_utc, @ts_local, @rows_purged_json, @files_purged,
          @ts_utc, @ts_utc, @tz, @ts_local, @study_day, @device_id, @seq, @clock_source)`).run({
        participant_id: scope.participantId, study_id: tombstone.studyId, protocol_hash: tombstone.protocolHash,
        rows_purged_json: JSON.stringify(counts), files_purged: tombstone.filesPurged, ...c,
      });
    })();
  } catch (cause) {
    throw new StoreError(`withdrawal of ${scope.participantId} failed and nothing was deleted: ${(cause as Error).message}`, { cause });
  }
  db.exec('VACUUM');
  db.pragma('wal_checkpoint(TRUNCATE)');
  return counts;
}

/** Update the tombstone's file count after files were removed (stamps `updated_ts_utc`). */
export function setTombstoneFiles(db: Database, participantId: string, filesPurged: number, atMs: number): void {
  db.prepare('UPDATE tombstones SET files_purged = ?, updated_ts_utc = ? WHERE participant_id = ?').run(filesPurged, new Date(atMs).toISOString(), participantId);
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
