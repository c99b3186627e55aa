/**
 * `hearth collect`: merge device databases into a study database, a Hearth file with the device schema
 * holding the rows of many devices plus a `collections` table (see data/README.md, "Collecting devices").
 *
 * Rows are identified by `(device_id, seq)`. Each device file is first copied through SQLite's backup
 * API (`snapshotCopy`: one consistent state even while the device writes), the copy is checked (Hearth's,
 * schema version, integrity) and attached to the study connection, and everything it brings is merged in
 * one transaction: a file is collected completely or not at all. SQL runs on the study store's own
 * handle (`sqliteHandle`), so better-sqlite3 is still loaded only by `sqlite-store.ts`.
 */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdtempSync, openSync, readSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import { COLLECTIONS_TABLE } from '../analysis-source.js';
import { StoreError } from '../errors.js';
import { SCHEMA_VERSION } from '../migrations.js';
import { KEPT_TABLES } from '../rows.js';
import { retainedIncidents, retainIncidentsWithoutWords } from '../safeguard-records.js';
import { snapshotCopy, sqliteHandle, SqliteStore } from '../sqlite-store.js';
import { participantScope, userTables, type PurgeCounts } from '../study-records.js';
import { columnsOf, deviceTables, tablesOf } from '../schema.js';
import { isoUtc } from '../time.js';

type Db = BetterSqlite3.Database;

/** Rows per table. */
export type TableCounts = Record<string, number>;

/** A participant's rows removed from the study database because a withdrawal tombstone was collected. */
export interface WithdrawalPurge {
  participantId: string;
  /** The device whose tombstone it is. */
  deviceId: string;
  withdrawnTsUtc: string;
  /** Rows deleted per table (tombstone, consent records and incident records are kept, as on the device). */
  rows: PurgeCounts;
  /** Safeguard incidents kept as records without the participant's words (for the IRB), as on the device. */
  incidentsKept: number;
}

/** What one device of a collected file brought. */
export interface DeviceCollected {
  deviceId: string;
  /** Lowest and highest `seq` among the device's rows in the file (null when it has none left). */
  seqMin: number | null;
  seqMax: number | null;
  /** The device's sequence counter in the file (`device_seq.last_seq`). */
  lastSeq: number;
  /** True when an earlier collection had already seen a later state of this device: nothing was reverted. */
  olderCopy: boolean;
  /** New rows per table. */
  added: TableCounts;
  /** Rows changed in place on the device since they were collected. */
  updated: TableCounts;
  /** Rows deleted on the device since they were collected (forgotten memories, deleted values). */
  deleted: TableCounts;
  /** Withdrawals this collection propagated. */
  purges: WithdrawalPurge[];
}

/** A file collected into the study database. */
export interface FileCollected {
  status: 'collected';
  file: string;
  sha256: string;
  bytes: number;
  schemaVersion: number;
  devices: DeviceCollected[];
  collectedTsUtc: string;
}

/** A file refused: nothing of it was written. */
export interface FileRefused {
  status: 'refused';
  file: string;
  problem: string;
}

/** The outcome for one file. */
export type FileResult = FileCollected | FileRefused;

/** What `collectDevices` did. */
export interface CollectSummary {
  into: string;
  files: FileResult[];
  collected: number;
  refused: number;
  rows: { added: number; updated: number; deleted: number; purged: number };
}

/** Options of `collectDevices`. */
export interface CollectOptions {
  /** Device database files to collect, in order. */
  files: readonly string[];
  /** The study database (created when absent). */
  into: string;
  /** The clock for `collected_ts_utc` (default: the system clock). */
  now?: () => number;
  /** Written into each collection record. */
  hearthVersion?: string;
  /** Called after each file, collected or refused. */
  onFile?: (result: FileResult, index: number, total: number) => void;
}

/** A collection record as stored in the `collections` table. */
export interface CollectionRecord extends DeviceCollected, Pick<FileCollected, 'file' | 'sha256' | 'bytes' | 'schemaVersion' | 'collectedTsUtc'> {
  collectionId: number;
  hearthVersion: string;
}

/** The table that marks a file as an increment (runtime/server/PROTOCOL.md). */
export const INCREMENT_META = 'increment_meta';

/** The study database's own table: one row per device per collected file. */
const COLLECTIONS_DDL = `
  CREATE TABLE IF NOT EXISTS ${COLLECTIONS_TABLE} (
    collection_id INTEGER PRIMARY KEY,
    file TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    bytes INTEGER NOT NULL,
    schema_version INTEGER NOT NULL,
    device_id TEXT NOT NULL,
    seq_min INTEGER,
    seq_max INTEGER,
    last_seq INTEGER NOT NULL,
    older_copy INTEGER NOT NULL CHECK (older_copy IN (0, 1)),
    rows_added_json TEXT NOT NULL,
    rows_updated_json TEXT NOT NULL,
    rows_deleted_json TEXT NOT NULL,
    purged_json TEXT NOT NULL,
    collected_ts_utc TEXT NOT NULL CHECK (collected_ts_utc LIKE '____-__-__T__:__:__%Z'),
    hearth_version TEXT NOT NULL
  );
  CREATE INDEX IF NOT EXISTS collections_by_device ON ${COLLECTIONS_TABLE} (device_id, collection_id);`;

/**
 * Tables whose rows change in place without a version column (data/README.md, "Known gaps"): a row is
 * updated when its content differs, unless the file is an older copy than one already collected.
 */
const CONTENT_COMPARED = new Set(['devices', 'participants']);
/** Columns that move when a row changes in place; the newer value wins. */
const VERSION_COLUMNS = ['updated_ts_utc', 'last_activity_ms'];

/** A problem with one device file: refused with this message (the file name is added by the caller). */
class FileProblem extends Error {}

/**
 * Merge device databases into a study database. Idempotent and incremental: a file adds the rows the
 * study does not have yet (`seq` above the device's last collected `seq`), updates rows changed in
 * place (a newer `updated_ts_utc`, `last_activity_ms` or, for devices and participants, new content),
 * deletes rows the device deleted, and propagates withdrawals. A file that is missing, not SQLite,
 * truncated or corrupt, not Hearth's, of a newer schema version, or that cannot be merged is refused
 * with the problem, and the study database is not changed for it. Throws `StoreError` only for a
 * problem with the study database itself.
 */
export async function collectDevices(o: CollectOptions): Promise<CollectSummary> {
  const into = resolve(o.into);
  const store = openStudyStore(into);
  const results: FileResult[] = [];
  try {
    for (const [i, file] of o.files.entries()) {
      const result = await collectInto(store, file, { ...(o.now ? { now: o.now } : {}), ...(o.hearthVersion ? { hearthVersion: o.hearthVersion } : {}) });
      results.push(result);
      o.onFile?.(result, i, o.files.length);
    }
  } finally {
    store.close();
  }
  const collected = results.filter((r): r is FileCollected => r.status === 'collected');
  const sum = (pick: (d: DeviceCollected) => number) => collected.reduce((n, f) => n + f.devices.reduce((m, d) => m + pick(d), 0), 0);
  const total = (c: TableCounts) => Object.values(c).reduce((a, b) => a + b, 0);
  return {
    into, files: results, collected: collected.length, refused: results.length - collected.length,
    rows: {
      added: sum((d) => total(d.added)), updated: sum((d) => total(d.updated)), deleted: sum((d) => total(d.deleted)),
      purged: sum((d) => d.purges.reduce((n, p) => n + total(p.rows), 0)),
    },
  };
}

/** The collections recorded in a study database, oldest first. */
export function collectionsOf(study: SqliteStore): CollectionRecord[] {
  const db = sqliteHandle(study);
  const exists = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(COLLECTIONS_TABLE);
  if (!exists) return [];
  return (db.prepare(`SELECT * FROM ${COLLECTIONS_TABLE} ORDER BY collection_id`).all() as Record<string, unknown>[]).map((r) => ({
    collectionId: r.collection_id as number, file: r.file as string, sha256: r.sha256 as string, bytes: r.bytes as number,
    schemaVersion: r.schema_version as number, deviceId: r.device_id as string, seqMin: r.seq_min as number | null, seqMax: r.seq_max as number | null,
    lastSeq: r.last_seq as number, olderCopy: r.older_copy === 1, added: JSON.parse(r.rows_added_json as string) as TableCounts,
    updated: JSON.parse(r.rows_updated_json as string) as TableCounts, deleted: JSON.parse(r.rows_deleted_json as string) as TableCounts,
    purges: JSON.parse(r.purged_json as string) as WithdrawalPurge[], collectedTsUtc: r.collected_ts_utc as string, hearthVersion: r.hearth_version as string,
  }));
}

/** Options of `collectInto`. */
export interface CollectIntoOptions {
  /** The clock for `collected_ts_utc` (default: the system clock). */
  now?: () => number;
  /** Written into each collection record. */
  hearthVersion?: string;
  /** Recorded as the collection's `file` instead of the path (e.g. `uplink:D01:100-200` for an upload). */
  label?: string;
  /**
   * The file is private to the caller (an upload written to a temporary file): attach it directly
   * instead of copying a snapshot first, since nothing else is writing it.
   */
  private?: boolean;
  /** Refuse the file unless every row in it belongs to this device (an upload under a device's token). */
  onlyDevice?: string;
}

/** Per study store, the collection running now: `collectInto` calls on one store run one after another. */
const running = new WeakMap<SqliteStore, Promise<unknown>>();

/**
 * Merge one device file or increment (runtime/server/PROTOCOL.md, "Increments") into an open study
 * database: the one merge behind `hearth collect` and the study server. Calls on the same store are
 * queued, since a merge attaches the file under one name for its whole transaction.
 */
export function collectInto(study: SqliteStore, file: string, o: CollectIntoOptions = {}): Promise<FileResult> {
  const previous = running.get(study) ?? Promise.resolve();
  const next = previous.then(
    () => collectFile(sqliteHandle(study), study.path, file, o),
    () => collectFile(sqliteHandle(study), study.path, file, o),
  );
  running.set(study, next.catch(() => undefined));
  return next;
}

/** Open (creating when absent) the study database; refuse a file that is not one. */
export function openStudyStore(into: string): SqliteStore {
  if (existsSync(into) && statSync(into).isFile() && statSync(into).size > 0) {
    // Probed read-only first, so a device file or another program's database is never migrated.
    const probe = SqliteStore.open(into, { create: false, readonly: true });
    try {
      const pdb = sqliteHandle(probe);
      const tables = tablesOf(pdb, 'main');
      if (probe.schemaVersion === 0 && tables.size > 0) {
        throw new StoreError(`${into}: not a Hearth study database (its tables are another program's); choose a new file for --into`);
      }
      if (!tables.has(COLLECTIONS_TABLE) && tables.has('device_seq') && pdb.prepare('SELECT 1 FROM device_seq LIMIT 1').get()) {
        throw new StoreError(`${into}: is a device database, not a study database; choose a new file for --into (device files are only read)`);
      }
    } finally {
      probe.close();
    }
  }
  // synchronous = NORMAL: a study database is rebuilt from the device files, and every collection is
  // idempotent, so a power cut costs at most the last collections, which the next run redoes; the file
  // stays consistent either way. FULL would fsync every file's commit (a fifth of the time, measured).
  const store = SqliteStore.open(into, { durability: 'crash' });
  const db = sqliteHandle(store);
  try {
    db.exec(COLLECTIONS_DDL);
    // The study's own key: one row per (device, seq) in every device table.
    for (const t of deviceTables(db, 'main')) db.exec(`CREATE UNIQUE INDEX IF NOT EXISTS "study_${t}_device_seq" ON "${t}" (device_id, seq)`);
    // Deleted rows (withdrawals, forgotten memories) are overwritten on disk, as on the device.
    db.pragma('secure_delete = ON');
    // Attached files come from devices (and, through the server, from the network): their schema's
    // views, triggers and defaults must not call functions with side effects.
    db.pragma('trusted_schema = OFF');
  } catch (cause) {
    store.close();
    throw new StoreError(`${into}: cannot prepare the study database (${(cause as Error).message})`, { cause });
  }
  return store;
}

async function collectFile(db: Db, into: string, file: string, o: CollectIntoOptions): Promise<FileResult> {
  const path = resolve(file);
  const name = o.label ?? path;
  const refused = (problem: string): FileRefused => ({ status: 'refused', file: name, problem });
  if (!existsSync(path)) return refused('file not found');
  if (statSync(path).isDirectory()) return refused(`is a folder, not a database file${existsSync(join(path, 'hearth.sqlite')) ? ` (did you mean ${join(path, 'hearth.sqlite')}?)` : ''}`);
  if (path === into) return refused('is the study database itself');
  const { sha256, bytes } = hashFile(path);
  if (bytes === 0) return refused('empty file, not a Hearth database');
  const short = truncation(path, bytes);
  if (short) return refused(short);
  const dir = o.private ? null : mkdtempSync(join(tmpdir(), 'hearth-collect-'));
  const copy = dir ? join(dir, 'snapshot.sqlite') : path;
  try {
    if (dir) {
      try {
        await snapshotCopy(path, copy);
      } catch (e) {
        const why = ((e as Error).cause as Error | undefined)?.message ?? (e as Error).message;
        return refused(/malformed|corrupt/i.test(why) ? `corrupt (${why})` : `not a SQLite database (${why})`);
      }
    }
    try {
      db.prepare('ATTACH ? AS src').run(copy);
    } catch (e) {
      return refused(`cannot be opened (${(e as Error).message})`);
    }
    let result: FileResult;
    try {
      const { version: schemaVersion, increment } = checkSnapshot(db);
      if (o.onlyDevice !== undefined) checkOnlyDevice(db, o.onlyDevice, increment);
      const devices = merge(db, increment);
      const collectedTsUtc = isoUtc((o.now ?? Date.now)());
      record(db, { path: name, sha256, bytes, schemaVersion, devices, collectedTsUtc, hearthVersion: o.hearthVersion ?? 'dev' });
      result = { status: 'collected', file: name, sha256, bytes, schemaVersion, devices, collectedTsUtc };
    } catch (e) {
      if (db.inTransaction) db.exec('ROLLBACK');
      result = refused(e instanceof FileProblem ? e.message : `cannot be merged, nothing of it was written (${(e as Error).message})`);
    } finally {
      db.exec('DETACH src');
    }
    if (result.status === 'collected') tidy(db, result.devices);
    return result;
  } finally {
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}

/** Refuse an attached file holding rows of any device but `deviceId` (an upload can only speak for its own device). */
function checkOnlyDevice(db: Db, deviceId: string, meta: IncrementMeta | null): void {
  for (const t of [...deviceTables(db, 'src'), 'device_seq']) {
    const other = cached(db, `SELECT device_id FROM src."${t}" WHERE device_id IS NOT ? LIMIT 1`).get(deviceId) as { device_id: string | null } | undefined;
    if (other) throw new FileProblem(`holds rows of device ${other.device_id ?? '(none)'} in ${t}, but may only hold device ${deviceId}'s`);
  }
  if (meta && meta.deviceId !== deviceId) throw new FileProblem(`is an increment of device ${meta.deviceId}, but may only hold device ${deviceId}'s`);
}

/** What an increment file says about itself (runtime/server/PROTOCOL.md, "Increments"). */
export interface IncrementMeta {
  deviceId: string;
  seqFrom: number;
  seqTo: number;
  /** Tables holding every current row of the device: the only ones where a missing row means deleted. */
  complete: Set<string>;
}

/**
 * Read an increment's `increment_meta` rows: the description, or what is wrong with it. The one
 * reading of the table, for the merge and for the study server's first look at an upload.
 */
export function parseIncrementMeta(rows: readonly { key: string; value: unknown }[]): IncrementMeta | string {
  const m = new Map(rows.map((r) => [r.key, String(r.value)]));
  if (m.get('kind') !== 'increment') return "it does not say kind = 'increment'";
  let complete: unknown;
  try {
    complete = JSON.parse(m.get('complete_tables') ?? 'null');
  } catch {
    complete = null;
  }
  const seqFrom = Number(m.get('seq_from'));
  const seqTo = Number(m.get('seq_to'));
  const deviceId = m.get('device_id');
  if (!Array.isArray(complete) || !complete.every((t) => typeof t === 'string') || !deviceId || !Number.isInteger(seqFrom) || !Number.isInteger(seqTo)
    || seqFrom < 0 || seqTo < seqFrom) {
    return 'it needs device_id, integers 0 <= seq_from <= seq_to and complete_tables as a JSON array of names';
  }
  return { deviceId, seqFrom, seqTo, complete: new Set(complete as string[]) };
}

/** The attached file's increment description; null for a whole device file. */
function incrementMeta(db: Db): IncrementMeta | null {
  if (!tablesOf(db, 'src').has(INCREMENT_META)) return null;
  const meta = parseIncrementMeta(cached(db, `SELECT key, value FROM src.${INCREMENT_META}`).all() as { key: string; value: unknown }[]);
  if (typeof meta === 'string') throw new FileProblem(`its ${INCREMENT_META} table is malformed: ${meta}`);
  return meta;
}

/**
 * Check the attached copy: SQLite, Hearth's, a supported version, intact, a device file. Returns its
 * version and, for an increment, its description (a malformed one is refused before anything is merged).
 */
function checkSnapshot(db: Db): { version: number; increment: IncrementMeta | null } {
  let version: number;
  let tables: Set<string>;
  try {
    version = db.pragma('src.user_version', { simple: true }) as number;
    tables = tablesOf(db, 'src');
  } catch (e) {
    throw new FileProblem(`not a SQLite database (${(e as Error).message})`);
  }
  if (version > SCHEMA_VERSION) {
    throw new FileProblem(`database schema version ${version} is newer than this Hearth supports (${SCHEMA_VERSION}); upgrade Hearth to collect it`);
  }
  if (version === 0 || !tables.has('devices') || !tables.has('device_seq')) {
    throw new FileProblem(`not a Hearth database (${tables.size === 0 ? 'it has no tables' : "its tables are another program's"})`);
  }
  if (tables.has(COLLECTIONS_TABLE)) throw new FileProblem('is a study database, not a device database');
  const increment = incrementMeta(db);
  let check: string[];
  try {
    check = (db.pragma('src.quick_check(5)') as { quick_check: string }[]).map((r) => r.quick_check);
  } catch (e) {
    throw new FileProblem(`corrupt (${(e as Error).message})`);
  }
  if (check.length !== 1 || check[0] !== 'ok') throw new FileProblem(`corrupt (integrity check: ${check.slice(0, 2).join('; ')})`);
  if (!cached(db, 'SELECT 1 FROM src.device_seq LIMIT 1').get()) throw new FileProblem('holds no device data (an allocation registry, or a device never started?)');
  return { version, increment };
}

/**
 * A statement prepared once per study connection and SQL text. The merge runs the same few hundred
 * statements for every file; SQLite re-prepares one by itself when the attached file's schema
 * changes, so keeping them is only saving the parse (a sixth of a small increment's merge, measured).
 */
function cached(db: Db, sql: string): BetterSqlite3.Statement {
  let statements = statementCache.get(db);
  if (!statements) statementCache.set(db, (statements = new Map()));
  let st = statements.get(sql);
  if (!st) {
    if (statements.size >= 1000) statements.clear();
    st = db.prepare(sql);
    statements.set(sql, st);
  }
  return st;
}

const statementCache = new WeakMap<Db, Map<string, BetterSqlite3.Statement>>();

/** How one table is copied: the columns both files have, with integer ids left to the study and references translated. */
interface TablePlan {
  table: string;
  columns: string[];
  /** SQL reading each column from the device row `d`. */
  values: string[];
  version: string | null;
  contentCompared: boolean;
}

/**
 * The copy plan of every device table present in both files. Integer primary keys (`turn_id`,
 * `event_id`, …) are each file's own row numbers, so the study gives its rows its own; a column that
 * names another table's integer key (`safeguard_events.turn_id`) is translated through that row's
 * `(device_id, seq)`.
 */
function plans(db: Db): TablePlan[] {
  // Planning reads every table's columns in both files (~7 ms); the study server merges many small
  // increments of the same schema, so plans are kept per pair of schemas (their full DDL text).
  const key = schemaText(db, 'main') + '\u0000' + schemaText(db, 'src');
  let cached = planCache.get(db);
  if (cached?.key !== key) {
    cached = { key, plans: planTables(db) };
    planCache.set(db, cached);
  }
  return cached.plans;
}

/** The last plans made on a study connection, with the schemas they were made for. */
const planCache = new WeakMap<Db, { key: string; plans: TablePlan[] }>();

/** Every table's DDL in one schema, as one string (one query: a cheap signature of the schema). */
function schemaText(db: Db, schema: string): string {
  return (db.prepare(`SELECT group_concat(name || ' ' || ifnull(sql, ''), char(10)) AS s FROM (SELECT name, sql FROM ${schema}.sqlite_master WHERE type = 'table' ORDER BY name)`).get() as { s: string | null }).s ?? '';
}

function planTables(db: Db): TablePlan[] {
  const srcTables = tablesOf(db, 'src');
  const main = deviceTables(db, 'main');
  const integerKey = new Map<string, string>();
  for (const t of main) {
    const pk = columnsOf(db, 'main', t).filter((c) => c.pk > 0);
    if (pk.length === 1 && pk[0]!.type.toUpperCase() === 'INTEGER') integerKey.set(t, pk[0]!.name);
  }
  const keyTable = new Map([...integerKey].map(([t, c]) => [c, t]));
  return main.filter((t) => srcTables.has(t)).map((t) => {
    const srcCols = new Set(columnsOf(db, 'src', t).map((c) => c.name));
    const columns = columnsOf(db, 'main', t).map((c) => c.name).filter((c) => srcCols.has(c) && c !== integerKey.get(t));
    const values = columns.map((c) => {
      const target = keyTable.get(c);
      if (!target || target === t || !srcTables.has(target)) return `d."${c}"`;
      return `(SELECT mu."${c}" FROM main."${target}" mu WHERE mu.device_id = d.device_id
        AND mu.seq = (SELECT du.seq FROM src."${target}" du WHERE du."${c}" = d."${c}"))`;
    });
    const version = VERSION_COLUMNS.find((v) => columns.includes(v)) ?? null;
    return { table: t, columns, values, version, contentCompared: version !== null || CONTENT_COMPARED.has(t) };
  });
}

/** Merge the attached copy into the study database in one transaction. */
function merge(db: Db, increment: IncrementMeta | null): DeviceCollected[] {
  const tablePlans = plans(db);
  const devices = cached(db, 'SELECT device_id, last_seq FROM src.device_seq ORDER BY device_id').all() as { device_id: string; last_seq: number }[];
  // IMMEDIATE: the write lock is taken before anything is read. The study server writes the same
  // database from its own connection (heartbeats, alerts); a deferred transaction that read first
  // would get SQLITE_BUSY at its first write, without waiting, whenever that one committed in between.
  db.exec('BEGIN IMMEDIATE');
  db.pragma('defer_foreign_keys = ON');
  const out: DeviceCollected[] = [];
  for (const { device_id: deviceId, last_seq: srcLast } of devices) {
    const studyLast = (cached(db, 'SELECT last_seq FROM main.device_seq WHERE device_id = ?').get(deviceId) as { last_seq: number } | undefined)?.last_seq ?? 0;
    if (increment && increment.deviceId === deviceId && increment.seqFrom > studyLast) {
      // Rows studyLast < seq <= seqFrom would never arrive: the sender must start from the study's cursor.
      throw new FileProblem(`is an increment of device ${deviceId} from seq ${increment.seqFrom}, but the study holds it only up to seq ${studyLast}; resend from ${studyLast}`);
    }
    const olderCopy = srcLast < studyLast;
    // Each table's seq range in the file first: a table the file holds nothing of for this device, or
    // only rows above (below) the study's cursor, needs no lineage check or update (no insert). An
    // increment touches a few tables, so most statements are skipped.
    const ranges = new Map(tablePlans.map((p) => [p.table, cached(db, `SELECT MIN(seq) AS lo, MAX(seq) AS hi FROM src."${p.table}" WHERE device_id = ?`)
      .get(deviceId) as { lo: number | null; hi: number | null }]));
    const commonLast = Math.min(srcLast, studyLast);
    checkLineage(db, deviceId, tablePlans.filter((p) => (ranges.get(p.table)!.lo ?? Infinity) <= commonLast), commonLast);
    const added: TableCounts = {};
    const updated: TableCounts = {};
    let seqMin: number | null = null;
    let seqMax: number | null = null;
    for (const p of tablePlans) {
      const range = ranges.get(p.table)!;
      if (range.lo === null || range.hi === null) continue;
      if (seqMin === null || range.lo < seqMin) seqMin = range.lo;
      if (seqMax === null || range.hi > seqMax) seqMax = range.hi;
      const cols = p.columns.map((c) => `"${c}"`).join(', ');
      if (range.hi > studyLast) {
        const n = cached(db, `INSERT INTO main."${p.table}" (${cols}) SELECT ${p.values.join(', ')} FROM src."${p.table}" AS d
          WHERE d.device_id = @dev AND d.seq > @last ORDER BY d.seq`).run({ dev: deviceId, last: studyLast }).changes;
        if (n > 0) added[p.table] = n;
      }
      if (p.contentCompared && range.lo <= studyLast) {
        const differs = p.columns.map((c, i) => `m."${c}" IS NOT ${p.values[i]}`).join(' OR ');
        const newer = p.version === null ? '@fresh' : `(d."${p.version}" > m."${p.version}" OR (d."${p.version}" = m."${p.version}" AND @fresh))`;
        const u = cached(db, `UPDATE main."${p.table}" AS m SET (${cols}) = (${p.values.join(', ')}) FROM src."${p.table}" AS d
          WHERE d.device_id = @dev AND d.seq <= @last AND m.device_id = d.device_id AND m.seq = d.seq AND ${newer} AND (${differs})`)
          .run({ dev: deviceId, last: studyLast, fresh: olderCopy ? 0 : 1 }).changes;
        if (u > 0) updated[p.table] = u;
      }
    }
    cached(db, `INSERT INTO main.device_seq (device_id, last_seq) VALUES (?, ?)
      ON CONFLICT (device_id) DO UPDATE SET last_seq = MAX(last_seq, excluded.last_seq)`).run(deviceId, srcLast);
    out.push({ deviceId, seqMin, seqMax, lastSeq: srcLast, olderCopy, added, updated, deleted: {}, purges: [] });
  }
  const purges = propagateWithdrawals(db);
  // Deletions on the device since an earlier collection: rows the file's counter has passed that it no
  // longer holds. An increment holds only some rows of most tables, so only its complete ones count.
  for (const d of out) {
    for (const p of tablePlans) {
      if (increment && !increment.complete.has(p.table)) continue;
      const n = cached(db, `DELETE FROM main."${p.table}" WHERE device_id = @dev AND seq <= @last
        AND seq NOT IN (SELECT seq FROM src."${p.table}" WHERE device_id = @dev)`).run({ dev: d.deviceId, last: d.lastSeq }).changes;
      if (n > 0) d.deleted[p.table] = n;
    }
  }
  // Each purge is recorded with the device whose tombstone it is (or the file's first device).
  for (const purge of purges) (out.find((d) => d.deviceId === purge.deviceId) ?? out[0]!).purges.push(purge);
  return out;
}

/**
 * Refuse a file whose rows are not the ones collected before under the same device id and `seq`: a
 * device database re-created (its `devices` row differs), or another device given the same id (the
 * last row both hold of each append-only table differs).
 */
function checkLineage(db: Db, deviceId: string, tablePlans: readonly TablePlan[], commonLast: number): void {
  const q = (schema: string) => cached(db, `SELECT ts_utc, seq FROM ${schema}.devices WHERE device_id = ?`).get(deviceId) as { ts_utc: string; seq: number } | undefined;
  const before = q('main');
  const now = q('src');
  if (before && now && (before.seq !== now.seq || before.ts_utc !== now.ts_utc)) {
    throw new FileProblem(
      `device ${deviceId} was registered at ${now.ts_utc} (seq ${now.seq}) in this file but at ${before.ts_utc} (seq ${before.seq}) in the one ` +
        'collected before: the device database was re-created, so its rows cannot be matched by seq; collect it into a new study database',
    );
  }
  for (const p of tablePlans) {
    if (p.contentCompared) continue;
    const differs = p.columns.map((c, i) => `m."${c}" IS NOT ${p.values[i]}`).join(' OR ');
    const clash = cached(db, `SELECT d.seq FROM src."${p.table}" AS d JOIN main."${p.table}" AS m ON m.device_id = d.device_id AND m.seq = d.seq
      WHERE d.device_id = @dev AND d.seq = (SELECT MAX(seq) FROM main."${p.table}" WHERE device_id = @dev AND seq <= @last) AND (${differs})`)
      .get({ dev: deviceId, last: commonLast }) as { seq: number } | undefined;
    if (clash) {
      throw new FileProblem(
        `device ${deviceId}: its ${p.table} row seq ${clash.seq} differs from the one collected before under the same device id and seq ` +
          '(another device with the same id, or a re-created database); collect it into a new study database',
      );
    }
  }
}

/**
 * For every withdrawal tombstone in the study database, delete the participant's rows the study still
 * holds, as the device's withdrawal did: every row naming them or one of their sessions, and the rows of a
 * device only they used written before the tombstone; the tombstone, consent records and incidents
 * (turned into records without their words, `retainIncidentsWithoutWords`) stay. Runs on every
 * collection, so an older copy collected after a withdrawal cannot bring their rows back.
 */
function propagateWithdrawals(db: Db): WithdrawalPurge[] {
  const tombstones = db.prepare('SELECT participant_id, device_id, seq, withdrawn_ts_utc FROM main.tombstones ORDER BY seq').all() as
    { participant_id: string; device_id: string; seq: number; withdrawn_ts_utc: string }[];
  const purges: WithdrawalPurge[] = [];
  const kept = new Set([...KEPT_TABLES, COLLECTIONS_TABLE]);
  for (const t of tombstones) {
    const scope = participantScope(db, t.participant_id, [t.device_id]);
    const params = {
      p: t.participant_id, sessions: JSON.stringify(scope.sessionIds), dev: t.device_id, tseq: t.seq,
      sole: scope.deviceIds.includes(t.device_id) ? 1 : 0, others: JSON.stringify(scope.deviceIds.filter((d) => d !== t.device_id)),
    };
    const { n: toRetain } = db.prepare(`SELECT COUNT(*) AS n FROM main.safeguard_incidents WHERE retained_ts_utc IS NULL AND (participant_id = @p
      OR session_id IN (SELECT value FROM json_each(@sessions)) OR (@sole AND device_id = @dev) OR device_id IN (SELECT value FROM json_each(@others)))`)
      .get(params) as { n: number };
    if (toRetain > 0) retainIncidentsWithoutWords(db, scope, Date.parse(t.withdrawn_ts_utc));
    const rows: PurgeCounts = {};
    for (const table of userTables(db)) {
      if (kept.has(table)) continue;
      const cols = new Set(columnsOf(db, 'main', table).map((c) => c.name));
      const where: string[] = [];
      if (cols.has('participant_id')) where.push('participant_id = @p');
      if (cols.has('session_id')) where.push('session_id IN (SELECT value FROM json_each(@sessions))');
      if (cols.has('device_id') && cols.has('seq')) where.push('(@sole AND device_id = @dev AND seq < @tseq)', 'device_id IN (SELECT value FROM json_each(@others))');
      if (where.length === 0) continue;
      const used = Object.fromEntries(Object.entries(params).filter(([k]) => where.some((w) => w.includes(`@${k}`))));
      const n = db.prepare(`DELETE FROM main."${table}" WHERE ${where.join(' OR ')}`).run(used).changes;
      if (n > 0) rows[table] = n;
    }
    if (Object.keys(rows).length > 0 || toRetain > 0) {
      const incidentsKept = retainedIncidents(db, t.participant_id, scope.deviceIds).filter((i) => i.withoutWords).length;
      purges.push({ participantId: t.participant_id, deviceId: t.device_id, withdrawnTsUtc: t.withdrawn_ts_utc, rows, incidentsKept });
    }
  }
  return purges;
}

/** Write the collection records (one per device) and commit. */
function record(
  db: Db,
  c: { path: string; sha256: string; bytes: number; schemaVersion: number; devices: DeviceCollected[]; collectedTsUtc: string; hearthVersion: string },
): void {
  const insert = cached(db, `INSERT INTO main.${COLLECTIONS_TABLE} (file, sha256, bytes, schema_version, device_id, seq_min, seq_max, last_seq, older_copy,
      rows_added_json, rows_updated_json, rows_deleted_json, purged_json, collected_ts_utc, hearth_version)
    VALUES (@file, @sha256, @bytes, @schema_version, @device_id, @seq_min, @seq_max, @last_seq, @older_copy,
      @added, @updated, @deleted, @purged, @at, @version)`);
  for (const d of c.devices) {
    insert.run({
      file: c.path, sha256: c.sha256, bytes: c.bytes, schema_version: c.schemaVersion, device_id: d.deviceId, seq_min: d.seqMin, seq_max: d.seqMax,
      last_seq: d.lastSeq, older_copy: d.olderCopy ? 1 : 0, added: JSON.stringify(d.added), updated: JSON.stringify(d.updated),
      deleted: JSON.stringify(d.deleted), purged: JSON.stringify(d.purges), at: c.collectedTsUtc, version: c.hearthVersion,
    });
  }
  db.exec('COMMIT');
}

/**
 * After deletions, as on the device: a withdrawal rewrites the file (VACUUM) so the deleted text leaves
 * the disk; any deletion is checkpointed out of the WAL (`secure_delete` already zeroed the freed pages).
 */
function tidy(db: Db, devices: readonly DeviceCollected[]): void {
  const purged = devices.some((d) => d.purges.length > 0);
  if (purged) db.exec('VACUUM');
  if (purged || devices.some((d) => Object.keys(d.deleted).length > 0)) db.pragma('wal_checkpoint(TRUNCATE)');
}

/**
 * Whether a SQLite file is shorter than its header says (a copy cut off, a full SD card), in words.
 * The header's page count is trusted only when valid (bytes 92–95 equal the change counter, 24–27).
 */
function truncation(path: string, bytes: number): string | null {
  const header = Buffer.alloc(100);
  const fd = openSync(path, 'r');
  try {
    if (readSync(fd, header, 0, 100, 0) < 100) return null;
  } finally {
    closeSync(fd);
  }
  if (header.toString('latin1', 0, 16) !== 'SQLite format 3\0') return null;
  const pageSize = header.readUInt16BE(16) === 1 ? 65536 : header.readUInt16BE(16);
  const pages = header.readUInt32BE(28);
  if (header.readUInt32BE(92) !== header.readUInt32BE(24) || pages === 0) return null;
  const expected = pageSize * pages;
  return bytes < expected ? `truncated: ${bytes} bytes, but its header says ${pages} pages of ${pageSize} bytes (${expected} bytes)` : null;
}

/** sha256 and size of a file's bytes, read in chunks. */
function hashFile(path: string): { sha256: string; bytes: number } {
  const hash = createHash('sha256');
  const fd = openSync(path, 'r');
  let bytes = 0;
  try {
    const buf = Buffer.alloc(1 << 20);
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      hash.update(buf.subarray(0, n));
      bytes += n;
    }
  } finally {
    closeSync(fd);
  }
  return { sha256: hash.digest('hex'), bytes };
}
