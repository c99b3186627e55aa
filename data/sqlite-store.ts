// The only module that imports better-sqlite3.
import Database from 'better-sqlite3';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, rmSync, statfsSync, statSync, writeSync } from 'node:fs';
import { open as openFile, type FileHandle } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { DiskFullError, isDiskFull, StoreError, unreadable } from './errors.js';
import { MIGRATIONS, SCHEMA_VERSION } from './migrations.js';
import { SqliteMemoryRecords } from './memory-records.js';
import type {
  AffectSampleRecord, ConsentRecords, DeviceLog, EventRecord, LatestEvent, MemoryRecords, ResponseRecord, SafeguardEventRecord, SafeguardRecords,
  Store, StoreStats, StudyRecords, WithdrawalRecords,
} from './ports.js';
import { alreadyEnrolled, toAffectSample, toEvent, toParticipant, toResponse, toSafeguardEvent, toSession, toTurn, type Row } from './rows.js';
import { incidentOutbox, retainedIncidents, retainIncidentsWithoutWords, SqliteSafeguardRecords } from './safeguard-records.js';
import type {
  DeviceIdentity, NewAffectSample, NewParticipant, NewResponse, NewSafeguardEvent, NewSession,
  NewTurn, ParticipantRecord, SessionRecord, SessionStatus, TurnRecord,
} from './store.js';
import {
  allocateOnce, allocationSeed, allocationsOf, consentRecords, findAllocation, loadScheduleInstances, participantScope, purgeParticipant,
  recordConsent, saveScheduleInstances, scanParticipant, setTombstoneFiles, tombstoneOf, updateScheduleInstance,
} from './study-records.js';
import { stamp, studyDay as studyDayOf } from './time.js';

type Db = Database.Database;

/**
 * A Hearth database file. WAL journal with `synchronous = FULL`: every commit is fsynced to the WAL
 * before it returns, so a committed turn survives a power cut, not just a process crash (NORMAL
 * would keep the file consistent but may lose the last commits on power loss; rosbag2's
 * "resilient" preset makes the same trade for high-rate data). Hearth's writes are a few per
 * minute plus affect samples batched once a second, so the fsync per commit costs little.
 */
/** The better-sqlite3 handle of each open store: private to `data/` (see `sqliteHandle`). */
const handles = new WeakMap<SqliteStore, Db>();

/**
 * The handle of an open store, for `data/`'s own record modules and tests only: not exported through
 * `index.ts`, so no other folder reaches the driver.
 */
export function sqliteHandle(store: SqliteStore): Db {
  const db = handles.get(store);
  if (!db) throw new StoreError(`${store.path}: not an open SqliteStore`);
  return db;
}

/**
 * What a store does when its disk fills up. A write that fails with `SQLITE_FULL` first gives back the
 * store's reserve (a file of zeros made when the store opened, `FILE-reserve`), so the runtime has room
 * to close the open session and record the fault; a whole transaction is then tried once more. Every
 * listener hears of the first full disk once; after that, writes that still fail throw `DiskFullError`.
 */
class DiskGuard {
  full: DiskFullError | null = null;
  private readonly listeners: ((e: DiskFullError) => void)[] = [];

  constructor(readonly path: string, private readonly db: Db, readonly reserveFile: string | null) {}

  onDiskFull(listener: (e: DiskFullError) => void): void {
    this.listeners.push(listener);
    if (this.full) listener(this.full);
  }

  /** Run a write; on a full disk, release the reserve and retry once when `fn` is a whole transaction (not nested in another). */
  run<T>(fn: () => T, retryable: boolean): T {
    const topLevel = retryable && !this.db.inTransaction;
    try {
      return fn();
    } catch (cause) {
      if (!isDiskFull(cause)) throw cause;
      const released = this.releaseReserve();
      const error = cause instanceof DiskFullError ? cause : new DiskFullError(this.path, released, { cause });
      if (!this.full) {
        this.full = error;
        for (const l of this.listeners) {
          try {
            l(error);
          } catch {
            // A listener's own failure must not hide the fault from the others.
          }
        }
      }
      if (released && topLevel) {
        try {
          return fn();
        } catch (again) {
          if (isDiskFull(again)) throw again instanceof DiskFullError ? again : new DiskFullError(this.path, true, { cause: again });
          throw again;
        }
      }
      throw error;
    }
  }

  /** Delete the reserve file; true when there was one to give back. */
  private releaseReserve(): boolean {
    if (!this.reserveFile || !existsSync(this.reserveFile)) return false;
    try {
      rmSync(this.reserveFile, { force: true });
      return true;
    } catch {
      return false;
    }
  }
}

/** Make (or top up) the reserve file of `bytes` zeros beside a database; on a disk already too full, none (returns null). */
function makeReserve(file: string, bytes: number): string | null {
  try {
    if (existsSync(file) && statSync(file).size >= bytes) return file;
    const fd = openSync(file, 'w', 0o600);
    try {
      const chunk = Buffer.alloc(Math.min(bytes, 64 * 1024));
      for (let written = 0; written < bytes; ) written += writeSync(fd, chunk, 0, Math.min(chunk.length, bytes - written));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    return file;
  } catch {
    rmSync(file, { force: true });
    return null;
  }
}

export class SqliteStore implements Store {
  readonly path: string;
  readonly #db: Db;
  readonly #guard: DiskGuard;
  private readonly logs = new Map<string, SqliteDeviceLog>();
  readonly study: StudyRecords;
  readonly consent: ConsentRecords;
  readonly withdrawal: WithdrawalRecords;
  readonly stats: StoreStats;

  private constructor(path: string, db: Db, reserveFile: string | null) {
    this.path = path;
    this.#db = db;
    this.#guard = new DiskGuard(path, db, reserveFile);
    handles.set(this, db);
    const guarded = <T>(fn: () => T) => this.#guard.run(fn, false);
    this.study = {
      allocationSeed: (studyId, makeSeed, at) => guarded(() => allocationSeed(db, studyId, makeSeed, at)),
      findAllocation: (studyId, participantId) => findAllocation(db, studyId, participantId),
      allocationsOf: (studyId) => allocationsOf(db, studyId),
      allocateOnce: (a, choose) => guarded(() => allocateOnce(db, a, choose)),
      saveScheduleInstances: (identity, instances, atMs) => guarded(() => saveScheduleInstances(db, identity, instances, atMs)),
      loadScheduleInstances: (participantId) => loadScheduleInstances(db, participantId),
      updateScheduleInstance: (participantId, instanceId, change, atMs) => guarded(() => updateScheduleInstance(db, participantId, instanceId, change, atMs)),
    };
    this.consent = {
      record: (identity, records, atMs) => guarded(() => recordConsent(db, identity, records, atMs)),
      list: (participantId) => consentRecords(db, participantId),
    };
    this.withdrawal = {
      participantScope: (participantId, extra) => participantScope(db, participantId, extra),
      retainIncidentsWithoutWords: (scope, atMs) => retainIncidentsWithoutWords(db, scope, atMs),
      purgeParticipant: (scope, tombstone) => purgeParticipant(db, scope, tombstone),
      setTombstoneFiles: (participantId, filesPurged, atMs) => setTombstoneFiles(db, participantId, filesPurged, atMs),
      tombstoneOf: (participantId) => tombstoneOf(db, participantId),
      scanParticipant: (scope) => scanParticipant(db, scope),
      retainedIncidents: (participantId, deviceIds) => retainedIncidents(db, participantId, deviceIds),
    };
    this.stats = new SqliteStoreStats(db, this);
  }

  /**
   * Open (creating when absent) and migrate a database file. Refuses newer schema versions untouched.
   * `reserveBytes` keeps that much disk aside in `FILE-reserve`, given back when the disk fills so the
   * runtime can still close its session (see `DiskGuard`); none when the disk is already too full for it.
   */
  static open(file: string, options: { create?: boolean; readonly?: boolean; durability?: 'power-loss' | 'crash'; reserveBytes?: number } = {}): SqliteStore {
    const path = resolve(file);
    const exists = existsSync(path);
    if (!exists && options.create === false) throw new StoreError(`${path}: database not found`);
    if (exists) checkVersion(path);
    else {
      try {
        mkdirSync(dirname(path), { recursive: true });
      } catch (cause) {
        throw new StoreError(`${path}: cannot create the database folder (${(cause as Error).message})`, { cause });
      }
    }
    let db: Db;
    try {
      db = new Database(path, { readonly: options.readonly ?? false });
      if (!options.readonly) {
        db.pragma('journal_mode = WAL');
        // 'crash' (synchronous NORMAL) is for re-runnable jobs such as `hearth simulate`: still
        // consistent after a crash, but the last commits may be lost on power loss.
        db.pragma(options.durability === 'crash' ? 'synchronous = NORMAL' : 'synchronous = FULL');
      }
      db.pragma('foreign_keys = ON');
      db.pragma('busy_timeout = 5000');
    } catch (cause) {
      throw fullDisk(path, cause) ?? new StoreError(`${path}: cannot open database (${(cause as Error).message})`, { cause });
    }
    if (!options.readonly) {
      try {
        // The WAL is copied back and emptied at every start, and kept to a few MiB after checkpoints: a
        // WAL left large by a kill (or one a long reader kept from being reset) needs room in the database
        // file to be checkpointed, and on a full disk that room is gone.
        db.pragma(`journal_size_limit = ${WAL_SIZE_LIMIT}`);
        db.pragma('wal_checkpoint(TRUNCATE)');
      } catch {
        // Busy (another reader) or a full disk: the WAL stays as it is, and the next start tries again.
      }
    }
    const reserve = !options.readonly && options.reserveBytes ? makeReserve(`${path}-reserve`, options.reserveBytes) : null;
    const store = new SqliteStore(path, db, reserve);
    if (!options.readonly) store.migrate();
    return store;
  }

  /** The schema version stored in the file. */
  get schemaVersion(): number {
    return this.#db.pragma('user_version', { simple: true }) as number;
  }

  private migrate(): void {
    const from = this.schemaVersion;
    for (let v = from; v < SCHEMA_VERSION; v++) {
      this.#db.transaction(() => {
        this.#db.exec(MIGRATIONS[v]!);
        this.#db.pragma(`user_version = ${v + 1}`);
      })();
    }
  }

  /** Call `listener` once when a write first finds the disk full (at once if it already has). */
  onDiskFull(listener: (e: DiskFullError) => void): void {
    this.#guard.onDiskFull(listener);
  }

  /** The first full-disk failure of this store, or null. */
  get diskFull(): DiskFullError | null {
    return this.#guard.full;
  }

  /** The log of one device in this file. */
  forDevice(identity: DeviceIdentity): DeviceLog {
    let log = this.logs.get(identity.deviceId);
    if (!log || log.identity.tz !== identity.tz || log.identity.clockSource !== identity.clockSource) {
      log = new SqliteDeviceLog(this.#db, identity, this.#guard);
      this.logs.set(identity.deviceId, log);
    }
    return log;
  }

  memories(identity: DeviceIdentity): MemoryRecords {
    return guardMethods(new SqliteMemoryRecords(this.#db, identity), this.#guard);
  }

  safeguards(log: DeviceLog): SafeguardRecords {
    return guardMethods(new SqliteSafeguardRecords(this.#db, log), this.#guard);
  }

  transaction<T>(fn: () => T): T {
    try {
      return this.#guard.run(() => this.#db.transaction(fn).immediate(), true);
    } catch (cause) {
      if (cause instanceof StoreError) throw cause;
      throw new StoreError(`${this.path}: transaction failed (${(cause as Error).message})`, { cause });
    }
  }

  /** Result of `PRAGMA integrity_check` ("ok" when healthy). */
  integrityCheck(): string {
    return (this.#db.pragma('integrity_check') as { integrity_check: string }[]).map((r) => r.integrity_check).join('; ');
  }

  close(): void {
    if (this.#db.open) this.#db.close();
  }
}

/** `StoreStats` over every device in the file. */
class SqliteStoreStats implements StoreStats {
  private readonly db: Db;
  private readonly store: SqliteStore;

  constructor(db: Db, store: SqliteStore) {
    this.db = db;
    this.store = store;
  }

  get schemaVersion(): number {
    return this.store.schemaVersion;
  }

  integrityCheck(): string {
    return this.store.integrityCheck();
  }

  sessionsByStatus(): Record<string, number> {
    return Object.fromEntries(
      (this.db.prepare('SELECT status, COUNT(*) AS n FROM sessions GROUP BY status').all() as { status: string; n: number }[]).map((r) => [r.status, r.n]),
    );
  }

  counts(deviceId?: string): { devices: number; participants: number; sessions: number; turns: number; responses: number } {
    const count = (t: string) => deviceId === undefined
      ? (this.db.prepare(`SELECT COUNT(*) AS n FROM ${t}`).get() as { n: number }).n
      : (this.db.prepare(`SELECT COUNT(*) AS n FROM ${t} WHERE device_id = ?`).get(deviceId) as { n: number }).n;
    return { devices: count('devices'), participants: count('participants'), sessions: count('sessions'), turns: count('turns'), responses: count('responses') };
  }

  lastEventTsUtc(): string | null {
    const last = this.db.prepare('SELECT ts_utc FROM events ORDER BY ts_utc DESC LIMIT 1').get() as { ts_utc: string } | undefined;
    return last?.ts_utc ?? null;
  }

  latestEvent(kinds: readonly string[]): LatestEvent | null {
    const r = this.db
      .prepare('SELECT kind, detail_json, ts_utc FROM events WHERE kind IN (SELECT value FROM json_each(?)) ORDER BY ts_utc DESC, event_id DESC LIMIT 1')
      .get(JSON.stringify(kinds)) as { kind: string; detail_json: string | null; ts_utc: string } | undefined;
    return r ? { kind: r.kind, detail: r.detail_json ? JSON.parse(r.detail_json) : null, tsUtc: r.ts_utc } : null;
  }

  instancesByStatus(participantId: string, throughStudyDay: number): Record<string, number> {
    const rows = this.db
      .prepare('SELECT status, COUNT(*) AS n FROM schedule_instances WHERE participant_id = ? AND study_day <= ? GROUP BY status')
      .all(participantId, throughStudyDay) as { status: string; n: number }[];
    return Object.fromEntries(rows.map((r) => [r.status, r.n]));
  }

  incidentOutbox() {
    return incidentOutbox(this.db);
  }

  lastSeq(deviceId: string): number | null {
    const r = this.db.prepare('SELECT last_seq FROM device_seq WHERE device_id = ?').get(deviceId) as { last_seq: number } | undefined;
    return r?.last_seq ?? null;
  }
}

/** `records` with every method run through the disk guard (no retry: a method may be several transactions). */
function guardMethods<T extends object>(records: T, guard: DiskGuard): T {
  return new Proxy(records, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => guard.run(() => (value as (...a: unknown[]) => unknown).apply(target, args), false);
    },
  });
}

/** The columns every Hearth row carries. */
export interface CommonColumns {
  ts_utc: string;
  tz: string;
  ts_local: string;
  study_day: number | null;
  device_id: string;
  seq: number;
  clock_source: string;
}

/**
 * The common columns for a new row of `identity`'s device at `atMs`, taking the device's next
 * sequence number from `device_seq`. Call it inside the transaction that inserts the row, so a
 * rolled-back row gives its number back. Every module that writes rows uses this, so the sequence
 * is one monotonic order across all tables and writers of a device.
 */
export function commonColumns(db: Database.Database, identity: DeviceIdentity, atMs: number, studyDay: number | null): CommonColumns {
  db.prepare('INSERT OR IGNORE INTO device_seq (device_id, last_seq) VALUES (?, 0)').run(identity.deviceId);
  const { last_seq: seq } = db.prepare('UPDATE device_seq SET last_seq = last_seq + 1 WHERE device_id = ? RETURNING last_seq').get(identity.deviceId) as { last_seq: number };
  return { ...stamp(atMs, identity.tz), study_day: studyDay, device_id: identity.deviceId, seq, clock_source: identity.clockSource };
}

/** The WAL is truncated to this after a checkpoint (`journal_size_limit`). */
const WAL_SIZE_LIMIT = 4 * 1024 * 1024;

function checkVersion(path: string): void {
  let probe: Db | undefined;
  try {
    probe = new Database(path, { readonly: true, fileMustExist: true });
    const version = probe.pragma('user_version', { simple: true }) as number;
    if (version > SCHEMA_VERSION) {
      throw new StoreError(
        `${path}: database schema version ${version} is newer than this Hearth supports (${SCHEMA_VERSION}); ` +
          'upgrade Hearth to open it (the file was not modified)',
      );
    }
  } catch (cause) {
    throw fullDisk(path, cause) ?? unreadable(path, cause);
  } finally {
    probe?.close();
  }
}

/**
 * Opening a WAL database makes its `-wal` and `-shm` files; on a full disk that fails as a bare
 * "disk I/O error". Say what it is when the disk holding `path` has (almost) no room left.
 */
function fullDisk(path: string, cause: unknown): DiskFullError | null {
  if (isDiskFull(cause)) return new DiskFullError(path, false, { cause });
  if (!/^SQLITE_(IOERR|CANTOPEN)/.test(String((cause as { code?: unknown }).code ?? ''))) return null;
  try {
    const s = statfsSync(dirname(path));
    return Number(s.bavail) * Number(s.bsize) < 64 * 1024 ? new DiskFullError(path, false, { cause }) : null;
  } catch {
    return null;
  }
}

class SqliteDeviceLog implements DeviceLog {
  readonly identity: DeviceIdentity;
  private readonly db: Db;
  private readonly sessionDays = new Map<string, number | null>();
  private participantStart: string | null | undefined;
  private readonly stmt: Record<string, Database.Statement>;

  constructor(db: Db, identity: DeviceIdentity, private readonly guard: DiskGuard) {
    this.db = db;
    this.identity = identity;
    const common = 'ts_utc, tz, ts_local, study_day, device_id, seq, clock_source';
    const commonValues = '@ts_utc, @tz, @ts_local, @study_day, @device_id, @seq, @clock_source';
    this.stmt = {
      device: db.prepare(`INSERT INTO devices (hardware, hearth_version, ${common}) VALUES (@hardware, @hearth_version, ${commonValues})
        ON CONFLICT (device_id) DO UPDATE SET hardware = excluded.hardware, hearth_version = excluded.hearth_version`),
      participantInsert: db.prepare(`INSERT INTO participants (participant_id, start_date, condition, protocol_id, protocol_version, protocol_hash, ${common})
        VALUES (@participant_id, @start_date, @condition, @protocol_id, @protocol_version, @protocol_hash, ${commonValues})`),
      participantGet: db.prepare('SELECT * FROM participants WHERE participant_id = ?'),
      participantActive: db.prepare("SELECT start_date FROM participants WHERE device_id = ? AND status = 'active' ORDER BY seq DESC LIMIT 1"),
      sessionInsert: db.prepare(`INSERT INTO sessions (session_id, participant_id, status, protocol_hash, condition, started_ts_utc, last_activity_ms, ${common})
        VALUES (@session_id, @participant_id, 'started', @protocol_hash, @condition, @ts_utc, @last_activity_ms, ${commonValues})`),
      sessionGet: db.prepare('SELECT * FROM sessions WHERE session_id = ?'),
      sessionProgress: db.prepare('UPDATE sessions SET step = ?, progress_json = ?, last_activity_ms = ? WHERE session_id = ?'),
      sessionStory: db.prepare('UPDATE sessions SET story_id = ?, last_activity_ms = ? WHERE session_id = ?'),
      sessionResumed: db.prepare('UPDATE sessions SET resumed_count = resumed_count + 1, last_activity_ms = ? WHERE session_id = ?'),
      sessionFinish: db.prepare("UPDATE sessions SET status = ?, status_reason = ?, ended_ts_utc = ?, last_activity_ms = ? WHERE session_id = ? AND status = 'started'"),
      sessionsOpen: db.prepare("SELECT * FROM sessions WHERE device_id = ? AND status = 'started' ORDER BY seq"),
      sessionsOf: db.prepare('SELECT * FROM sessions WHERE participant_id = ? ORDER BY study_day, seq'),
      turnInsert: db.prepare(`INSERT INTO turns (session_id, speaker, text, step, start_ts_utc, end_ts_utc, start_ts_local, end_ts_local, ${common})
        VALUES (@session_id, @speaker, @text, @step, @start_ts_utc, @end_ts_utc, @start_ts_local, @end_ts_local, ${commonValues})`),
      turnsOf: db.prepare('SELECT * FROM turns WHERE session_id = ? ORDER BY seq'),
      touch: db.prepare('UPDATE sessions SET last_activity_ms = ? WHERE session_id = ?'),
      event: db.prepare(`INSERT INTO events (session_id, kind, detail_json, ${common}) VALUES (@session_id, @kind, @detail_json, ${commonValues})`),
      response: db.prepare(`INSERT INTO responses (session_id, instrument, item, value, raw_text, status, scoring_version, ${common})
        VALUES (@session_id, @instrument, @item, @value, @raw_text, @status, @scoring_version, ${commonValues})`),
      affect: db.prepare(`INSERT INTO affect_samples (session_id, valence, arousal, label, confidence, sources_json, ${common})
        VALUES (@session_id, @valence, @arousal, @label, @confidence, @sources_json, ${commonValues})`),
      safeguard: db.prepare(`INSERT INTO safeguard_events (session_id, turn_id, direction, check_name, check_version, score, threshold, decision, evidence,
        fired_parts, model_score, model_threshold, model_via, ${common})
        VALUES (@session_id, @turn_id, @direction, @check_name, @check_version, @score, @threshold, @decision, @evidence,
        @fired_parts, @model_score, @model_threshold, @model_via, ${commonValues})`),
      missedInsert: db.prepare(`INSERT INTO sessions (session_id, participant_id, status, status_reason, protocol_hash, condition, last_activity_ms, ${common})
        VALUES (@session_id, @participant_id, 'missed', @reason, @protocol_hash, @condition, @last_activity_ms, ${commonValues})`),
      recentLines: db.prepare(`SELECT t.text FROM turns t JOIN sessions s ON s.session_id = t.session_id
        WHERE s.participant_id = ? AND t.speaker = 'robot' AND t.step != 'story' ORDER BY t.seq DESC LIMIT ?`),
      lastEvent: db.prepare('SELECT detail_json FROM events WHERE device_id = ? AND kind = ? ORDER BY seq DESC LIMIT 1'),
      heard: db.prepare("SELECT story_id FROM sessions WHERE participant_id = ? AND story_id IS NOT NULL ORDER BY seq"),
      participantProtocol: db.prepare('UPDATE participants SET protocol_version = ?, protocol_hash = ? WHERE participant_id = ?'),
      eventsOf: db.prepare(`SELECT * FROM events WHERE device_id = @device AND (@kind IS NULL OR kind = @kind)
        AND (@session IS NULL OR session_id = @session) ORDER BY seq`),
      responsesOf: db.prepare('SELECT * FROM responses WHERE device_id = @device AND (@session IS NULL OR session_id = @session) ORDER BY seq'),
      affectOf: db.prepare('SELECT * FROM affect_samples WHERE device_id = ? ORDER BY seq'),
      safeguardOf: db.prepare('SELECT * FROM safeguard_events WHERE device_id = ? ORDER BY seq'),
    };
  }

  /** Common columns for a row at `atMs`; takes the device's next sequence number (call inside `write`). */
  private common(atMs: number, studyDay: number | null): Row {
    return { ...commonColumns(this.db, this.identity, atMs, studyDay) };
  }

  /** Run `fn` in one transaction: its rows and their sequence numbers commit together or not at all. */
  private write<T>(fn: () => T): T {
    try {
      return this.guard.run(() => this.db.transaction(fn).immediate(), true);
    } catch (cause) {
      if (cause instanceof DiskFullError) throw cause;
      throw new StoreError(`database write failed: ${(cause as Error).message}`, { cause });
    }
  }

  private dayOfDevice(atMs: number): number | null {
    if (this.participantStart === undefined) {
      const row = this.stmt.participantActive!.get(this.identity.deviceId) as { start_date: string } | undefined;
      this.participantStart = row?.start_date ?? null;
    }
    return this.participantStart === null ? null : studyDayOf(atMs, this.participantStart, this.identity.tz);
  }

  private dayOfSession(sessionId: string | null | undefined, atMs: number): number | null {
    if (!sessionId) return this.dayOfDevice(atMs);
    if (!this.sessionDays.has(sessionId)) {
      const row = this.stmt.sessionGet!.get(sessionId) as { study_day: number | null } | undefined;
      this.sessionDays.set(sessionId, row?.study_day ?? null);
    }
    return this.sessionDays.get(sessionId) ?? null;
  }

  registerDevice(info: { hardware: string; hearthVersion: string }, atMs: number): void {
    this.write(() => this.stmt.device!.run({ hardware: info.hardware, hearth_version: info.hearthVersion, ...this.common(atMs, null) }));
  }

  enrollParticipant(p: NewParticipant, atMs: number): ParticipantRecord {
    const existing = alreadyEnrolled(this.participant(p.participantId), p.participantId, this.identity.deviceId);
    if (existing) return existing;
    this.write(() =>
      this.stmt.participantInsert!.run({
        participant_id: p.participantId,
        start_date: p.startDate,
        condition: p.condition,
        protocol_id: p.protocolId,
        protocol_version: p.protocolVersion,
        protocol_hash: p.protocolHash,
        ...this.common(atMs, studyDayOf(atMs, p.startDate, this.identity.tz)),
      }),
    );
    this.participantStart = undefined;
    return this.participant(p.participantId)!;
  }

  participant(participantId: string): ParticipantRecord | undefined {
    const r = this.stmt.participantGet!.get(participantId) as Row | undefined;
    return r && toParticipant(r);
  }

  updateParticipantProtocol(participantId: string, protocolVersion: string, protocolHash: string): void {
    this.write(() => this.stmt.participantProtocol!.run(protocolVersion, protocolHash, participantId));
  }


  startSession(s: NewSession, atMs: number): SessionRecord {
    this.write(() => {
      this.stmt.sessionInsert!.run({
        session_id: s.sessionId,
        participant_id: s.participantId,
        protocol_hash: s.protocolHash,
        condition: s.condition,
        last_activity_ms: atMs,
        ...this.common(atMs, s.studyDay),
      });
      this.stmt.event!.run({ session_id: s.sessionId, kind: 'session.started', detail_json: null, ...this.common(atMs, s.studyDay) });
    });
    this.sessionDays.set(s.sessionId, s.studyDay);
    return this.session(s.sessionId)!;
  }

  saveProgress(sessionId: string, step: string, progress: unknown, atMs: number): void {
    this.write(() => this.stmt.sessionProgress!.run(step, JSON.stringify(progress), atMs, sessionId));
  }

  setSessionStory(sessionId: string, storyId: string, atMs: number): void {
    this.write(() => this.stmt.sessionStory!.run(storyId, atMs, sessionId));
  }

  markResumed(sessionId: string, atMs: number): void {
    this.write(() => {
      this.stmt.sessionResumed!.run(atMs, sessionId);
      this.stmt.event!.run({ session_id: sessionId, kind: 'session.resumed', detail_json: null, ...this.common(atMs, this.dayOfSession(sessionId, atMs)) });
    });
  }

  finishSession(sessionId: string, status: Exclude<SessionStatus, 'started' | 'scheduled'>, reason: string | null, atMs: number): void {
    this.write(() => {
      const { ts_utc } = stamp(atMs, this.identity.tz);
      const changed = this.stmt.sessionFinish!.run(status, reason, ts_utc, atMs, sessionId).changes;
      if (changed === 0) throw new Error(`session ${sessionId} is not open`);
      this.stmt.event!.run({
        session_id: sessionId,
        kind: `session.${status}`,
        detail_json: reason === null ? null : JSON.stringify({ reason }),
        ...this.common(atMs, this.dayOfSession(sessionId, atMs)),
      });
    });
  }

  session(sessionId: string): SessionRecord | undefined {
    const r = this.stmt.sessionGet!.get(sessionId) as Row | undefined;
    return r && toSession(r);
  }

  openSessions(): SessionRecord[] {
    return (this.stmt.sessionsOpen!.all(this.identity.deviceId) as Row[]).map(toSession);
  }

  sessions(participantId: string): SessionRecord[] {
    return (this.stmt.sessionsOf!.all(participantId) as Row[]).map(toSession);
  }

  recordTurn(t: NewTurn): number {
    return this.write(() => {
      const start = stamp(t.startMs, this.identity.tz);
      const end = stamp(t.endMs, this.identity.tz);
      const info = this.stmt.turnInsert!.run({
        session_id: t.sessionId,
        speaker: t.speaker,
        text: t.text,
        step: t.step,
        start_ts_utc: start.ts_utc,
        end_ts_utc: end.ts_utc,
        start_ts_local: start.ts_local,
        end_ts_local: end.ts_local,
        ...this.common(t.endMs, this.dayOfSession(t.sessionId, t.endMs)),
      });
      this.stmt.touch!.run(t.endMs, t.sessionId);
      return Number(info.lastInsertRowid);
    });
  }

  turns(sessionId: string): TurnRecord[] {
    return (this.stmt.turnsOf!.all(sessionId) as Row[]).map(toTurn);
  }


  recordEvent(kind: string, detail: unknown, atMs: number, sessionId: string | null = null): void {
    this.write(() =>
      this.stmt.event!.run({
        session_id: sessionId,
        kind,
        detail_json: detail === undefined || detail === null ? null : JSON.stringify(detail),
        ...this.common(atMs, this.dayOfSession(sessionId, atMs)),
      }),
    );
  }

  lastEvent(kind: string): unknown {
    const row = this.stmt.lastEvent!.get(this.identity.deviceId, kind) as { detail_json: string | null } | undefined;
    return row?.detail_json ? JSON.parse(row.detail_json) : null;
  }

  events(filter: { kind?: string; sessionId?: string } = {}): EventRecord[] {
    return (this.stmt.eventsOf!.all({ device: this.identity.deviceId, kind: filter.kind ?? null, session: filter.sessionId ?? null }) as Row[]).map(toEvent);
  }

  responses(sessionId?: string): ResponseRecord[] {
    return (this.stmt.responsesOf!.all({ device: this.identity.deviceId, session: sessionId ?? null }) as Row[]).map(toResponse);
  }

  affectSamples(): AffectSampleRecord[] {
    return (this.stmt.affectOf!.all(this.identity.deviceId) as Row[]).map(toAffectSample);
  }

  safeguardEvents(): SafeguardEventRecord[] {
    return (this.stmt.safeguardOf!.all(this.identity.deviceId) as Row[]).map(toSafeguardEvent);
  }

  recordResponse(r: NewResponse, atMs: number): void {
    this.write(() =>
      this.stmt.response!.run({
        session_id: r.sessionId,
        instrument: r.instrument,
        item: r.item,
        value: r.value,
        raw_text: r.rawText,
        status: r.status,
        scoring_version: r.scoringVersion,
        ...this.common(atMs, this.dayOfSession(r.sessionId, atMs)),
      }),
    );
  }

  recordAffectSamples(samples: readonly NewAffectSample[]): void {
    if (samples.length === 0) return;
    this.write(() => {
      for (const s of samples) {
        this.stmt.affect!.run({
          session_id: s.sessionId,
          valence: s.valence,
          arousal: s.arousal,
          label: s.label,
          confidence: s.confidence,
          sources_json: JSON.stringify(s.sources),
          ...this.common(s.atMs, this.dayOfSession(s.sessionId, s.atMs)),
        });
      }
    });
  }

  recordSafeguardEvents(events: readonly NewSafeguardEvent[]): void {
    if (events.length === 0) return;
    this.write(() => {
      for (const e of events) {
        this.stmt.safeguard!.run({
          session_id: e.sessionId,
          turn_id: e.turnId,
          direction: e.direction,
          check_name: e.checkName,
          check_version: e.checkVersion,
          score: e.score,
          threshold: e.threshold,
          decision: e.decision,
          evidence: e.evidence,
          fired_parts: e.firedParts ?? null,
          model_score: e.modelScore ?? null,
          model_threshold: e.modelThreshold ?? null,
          model_via: e.modelVia ?? null,
          ...this.common(e.atMs, this.dayOfSession(e.sessionId, e.atMs)),
        });
      }
    });
  }

  recordMissedSession(s: NewSession, reason: string, atMs: number): void {
    this.write(() => {
      this.stmt.missedInsert!.run({
        session_id: s.sessionId,
        participant_id: s.participantId,
        reason,
        protocol_hash: s.protocolHash,
        condition: s.condition,
        last_activity_ms: atMs,
        ...this.common(atMs, s.studyDay),
      });
      this.stmt.event!.run({ session_id: s.sessionId, kind: 'session.missed', detail_json: JSON.stringify({ reason }), ...this.common(atMs, s.studyDay) });
    });
    this.sessionDays.set(s.sessionId, s.studyDay);
  }

  recentRobotLines(participantId: string, limit: number): string[] {
    return (this.stmt.recentLines!.all(participantId, limit) as { text: string }[]).map((r) => r.text);
  }

  storiesHeard(participantId: string): string[] {
    return (this.stmt.heard!.all(participantId) as { story_id: string }[]).map((r) => r.story_id);
  }
}


/**
 * Copy the database `source` to the new file `dest` through SQLite's backup API, from a read-only
 * connection. The copy is one consistent state of the source even while another connection or process
 * writes to it (SQLite restarts a backup step the source changed under; the rest is copied in one step,
 * under one read lock). The source is never written. Throws `StoreError` naming the source.
 */
export async function snapshotCopy(source: string, dest: string): Promise<void> {
  let db: Db | undefined;
  try {
    db = new Database(source, { readonly: true, fileMustExist: true });
    db.pragma('busy_timeout = 5000');
    await db.backup(dest, { progress: () => 0x7fffffff });
  } catch (cause) {
    throw new StoreError(`${source}: not a readable SQLite database (${(cause as Error).message})`, { cause });
  } finally {
    db?.close();
  }
}

/**
 * fsync a WAL database's log: every transaction committed before the call survives a power cut
 * once it resolves (what `synchronous = FULL` does at each commit; a connection at NORMAL leaves it
 * to the next checkpoint). On libuv's thread pool, not the caller's thread. A transaction already
 * checkpointed was synced into the database then; with no log file there is nothing to sync.
 */
export async function syncWal(file: string): Promise<void> {
  let fh: FileHandle;
  try {
    fh = await openFile(`${resolve(file)}-wal`, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

// An OS-level exclusive lock on a small SQLite file, for "one runtime per device folder" (runtime/device-lock.ts).

/** A held lock; `release()` is idempotent. The kernel drops it too when the process dies (even `kill -9`). */
export interface HeldFileLock {
  readonly path: string;
  release(): void;
}

/**
 * Take an exclusive lock on `path` (created when absent), or return null when another process holds it.
 * SQLite's `locking_mode = EXCLUSIVE` with an open `BEGIN EXCLUSIVE` keeps a POSIX advisory lock on the
 * file for as long as this connection is open; the kernel releases it on any exit, so a lock left by a
 * killed process is never stale and no process id has to be trusted.
 */
export function tryExclusiveFileLock(path: string): HeldFileLock | null {
  let db: Database.Database;
  try {
    // timeout 0: a held lock answers SQLITE_BUSY at once instead of after better-sqlite3's default 5 s.
    db = new Database(path, { timeout: 0 });
  } catch (cause) {
    throw new StoreError(`${path}: cannot open the device lock (${(cause as Error).message})`, { cause });
  }
  try {
    // Nothing is ever written, so no journal file is needed beside the lock.
    db.pragma('journal_mode = MEMORY');
    db.pragma('locking_mode = EXCLUSIVE');
    db.exec('BEGIN EXCLUSIVE');
  } catch (cause) {
    db.close();
    if ((cause as { code?: string }).code === 'SQLITE_BUSY') return null;
    throw new StoreError(`${path}: cannot take the device lock (${(cause as Error).message})`, { cause });
  }
  let held = true;
  return {
    path,
    release: () => {
      if (!held) return;
      held = false;
      db.close();
    },
  };
}
