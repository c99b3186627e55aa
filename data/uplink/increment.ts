/**
 * Data increments for the uplink (runtime/server/PROTOCOL.md, "Increments"): a small SQLite file with
 * the device schema holding one slice of a device's rows, which the study server merges with the same
 * function as `hearth collect` (`collectInto`).
 *
 * The increment is its own `SqliteStore` (so it has exactly the device's migrations), and the device
 * file is ATTACHed to the increment's connection rather than the other way round: foreign keys can be
 * off there without touching the device's connection (a slice holds turns whose session is in an
 * earlier slice), the device connection never joins a write transaction of ours, and every read of the
 * device happens in one read transaction, so the slice is one consistent state even while the robot
 * writes. The device file is only read.
 */
import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import type BetterSqlite3 from 'better-sqlite3';
import { INCREMENT_META } from '../collect/collect.js';
import { StoreError } from '../errors.js';
import type { Store } from '../ports.js';
import { sqliteHandle, SqliteStore } from '../sqlite-store.js';
import { columnsOf, deviceTables } from '../schema.js';
import { isoUtc } from '../time.js';

type Db = BetterSqlite3.Database;

/**
 * Device tables sent whole (every row with `seq <= seqTo`) in each increment: small tables whose rows
 * are deleted (forgotten memories, deleted or replaced values) or changed without a version column
 * (devices, participants). The server infers deletions only in these.
 */
export const COMPLETE_TABLES: readonly string[] = ['devices', 'participants', 'memories', 'participant_values'];

/** Columns that move when a row changes in place (ISO text or epoch ms), as the merge compares them. */
const VERSION_COLUMNS: Readonly<Record<string, 'iso' | 'ms'>> = { updated_ts_utc: 'iso', last_activity_ms: 'ms' };

/**
 * Rows of `seq <= seqFrom` changed at most this long before `changedSince` are sent again: a row is
 * stamped with the time its change was decided (`atMs`), which can be a little before it commits.
 * Sending a row twice is harmless (the merge updates only on a newer version with other content).
 */
export const CHANGED_SLACK_MS = 60_000;

/** What to put in one increment. */
export interface IncrementOptions {
  deviceId: string;
  /** The server's cursor: rows with `seq` above it are new to the server. */
  seqFrom: number;
  /** About how many new rows one increment holds (the new rows never exceed it, unless one is bigger). */
  maxRows: number;
  /**
   * Device-clock ms since which rows of `seq <= seqFrom` may have changed in place (when the last
   * acknowledged increment was built); null sends every row with a version column.
   */
  changedSince: number | null;
  /** Folder for the file (default: the system's temporary folder). */
  dir?: string;
}

/** One increment, written and gzipped. */
export interface Increment {
  /** The gzip-compressed SQLite file (the caller deletes it once sent). */
  file: string;
  deviceId: string;
  seqFrom: number;
  seqTo: number;
  /** New rows: every row with `seqFrom < seq <= seqTo`. */
  rows: number;
  /** Rows of `seq <= seqFrom` changed in place since `changedSince`. */
  changedRows: number;
  /** Rows of `seq <= seqFrom` sent because a row in the file names their integer key. */
  referencedRows: number;
  /** Rows of the complete tables with `seq <= seqFrom`. */
  completeRows: number;
  /** The device's counter when the increment was built: `seqTo` equals it once the backlog is sent. */
  deviceLastSeq: number;
  sqliteBytes: number;
  gzipBytes: number;
}

/** How many of a device's rows the server does not have yet. */
export interface Backlog {
  /** Rows with `seq` above the cursor. */
  rows: number;
  /** The device's counter (`device_seq.last_seq`), 0 before its first row. */
  lastSeq: number;
}

/**
 * Write the increment of `deviceId` after `seqFrom` from a device database: new rows up to a `seqTo`
 * chosen so they number about `maxRows`, rows changed in place since `changedSince`, rows those rows
 * reference by integer key, the complete tables, `device_seq` at `seqTo`, and `increment_meta`. Then
 * gzip it (on libuv's thread pool). The SQLite part is synchronous; keep `maxRows` small.
 * Throws `StoreError` naming the device file.
 */
export async function buildIncrement(store: Store, o: IncrementOptions): Promise<Increment> {
  const device = deviceFile(store);
  if (!Number.isInteger(o.seqFrom) || o.seqFrom < 0) throw new StoreError(`${device}: increment seqFrom must be an integer >= 0, got ${o.seqFrom}`);
  if (!Number.isInteger(o.maxRows) || o.maxRows < 1) throw new StoreError(`${device}: increment maxRows must be an integer >= 1, got ${o.maxRows}`);
  const base = join(o.dir ?? tmpdir(), `hearth-increment-${safeName(o.deviceId)}-${o.seqFrom}-${randomUUID().slice(0, 8)}.sqlite`);
  let built: Omit<Increment, 'file' | 'sqliteBytes' | 'gzipBytes'>;
  try {
    built = writeSlice(device, base, o);
  } catch (cause) {
    removeSqlite(base);
    if (cause instanceof StoreError) throw cause;
    throw new StoreError(`${device}: cannot build the increment of ${o.deviceId} after seq ${o.seqFrom} (${(cause as Error).message})`, { cause });
  }
  const gz = `${base}.gz`;
  try {
    const sqliteBytes = statSync(base).size;
    await pipeline(createReadStream(base), createGzip(), createWriteStream(gz));
    return { file: gz, ...built, sqliteBytes, gzipBytes: statSync(gz).size };
  } catch (cause) {
    rmSync(gz, { force: true });
    throw new StoreError(`${base}: cannot compress the increment (${(cause as Error).message})`, { cause });
  } finally {
    removeSqlite(base);
  }
}

/** The rows of `deviceId` with `seq` above `afterSeq`, and its counter: what an uplink still has to send. */
export function uplinkBacklog(store: Store, deviceId: string, afterSeq: number): Backlog {
  const db = handleOf(store);
  const lastSeq = (db.prepare('SELECT last_seq FROM main.device_seq WHERE device_id = ?').get(deviceId) as { last_seq: number } | undefined)?.last_seq ?? 0;
  if (lastSeq <= afterSeq) return { rows: 0, lastSeq };
  const union = deviceTables(db, 'main').map((t) => `SELECT COUNT(*) AS n FROM main."${t}" WHERE device_id = @d AND seq > @after`).join(' UNION ALL ');
  const { rows } = db.prepare(`SELECT COALESCE(SUM(n), 0) AS rows FROM (${union})`).get({ d: deviceId, after: afterSeq }) as { rows: number };
  return { rows, lastSeq };
}

/**
 * How many rows of `deviceId` with `seq <= uptoSeq` changed in place at or after `sinceMs` (device
 * clock): whether an increment is worth sending when no row is new (a schedule instance's status moves
 * without a new row).
 */
export function changedRowsSince(store: Store, deviceId: string, uptoSeq: number, sinceMs: number): number {
  const db = handleOf(store);
  const parts: string[] = [];
  for (const t of deviceTables(db, 'main')) {
    const version = versionColumn(db, 'main', t);
    if (version) parts.push(`SELECT COUNT(*) AS n FROM main."${t}" WHERE device_id = @d AND seq <= @upto AND "${version}" >= @${VERSION_COLUMNS[version]}`);
  }
  if (parts.length === 0) return 0;
  const { n } = db.prepare(`SELECT COALESCE(SUM(n), 0) AS n FROM (${parts.join(' UNION ALL ')})`).get({ d: deviceId, upto: uptoSeq, iso: isoUtc(sinceMs), ms: sinceMs }) as { n: number };
  return n;
}

function writeSlice(device: string, file: string, o: IncrementOptions): Omit<Increment, 'file' | 'sqliteBytes' | 'gzipBytes'> {
  const inc = SqliteStore.open(file, { durability: 'crash' });
  const db = sqliteHandle(inc);
  try {
    // A throwaway file rebuilt on any failure: no fsync, and no foreign keys (a slice holds turns whose
    // session went in an earlier increment; the server checks keys against its whole database).
    db.pragma('main.synchronous = OFF');
    db.pragma('foreign_keys = OFF');
    db.prepare('ATTACH ? AS dev').run(device);
    let out: Omit<Increment, 'file' | 'sqliteBytes' | 'gzipBytes'>;
    try {
      db.exec('BEGIN');
      out = copySlice(db, device, o);
      db.exec('COMMIT');
    } catch (e) {
      if (db.inTransaction) db.exec('ROLLBACK');
      throw e;
    } finally {
      db.exec('DETACH dev');
    }
    // One self-contained file (no -wal beside it) for the server to read. Only `main`: dev is detached.
    db.pragma('main.journal_mode = DELETE');
    return out;
  } finally {
    inc.close();
  }
}

function copySlice(db: Db, device: string, o: IncrementOptions): Omit<Increment, 'file' | 'sqliteBytes' | 'gzipBytes'> {
  const d = o.deviceId;
  const lastSeq = (db.prepare('SELECT last_seq FROM dev.device_seq WHERE device_id = ?').get(d) as { last_seq: number } | undefined)?.last_seq;
  if (lastSeq === undefined) throw new StoreError(`${device}: no rows of device ${d}`);
  if (o.seqFrom > lastSeq) throw new StoreError(`${device}: device ${d} has rows only up to seq ${lastSeq}, not past ${o.seqFrom} (was the database re-created?)`);
  const tables = deviceTables(db, 'dev').filter((t) => deviceTables(db, 'main').includes(t));
  const cols = new Map(tables.map((t) => [t, columnsOf(db, 'main', t).map((c) => `"${c.name}"`).join(', ')]));
  const seqTo = chooseSeqTo(db, tables, d, o.seqFrom, o.maxRows, lastSeq);
  const copy = (t: string, where: string, params: Record<string, unknown>, orIgnore = false) =>
    db.prepare(`INSERT ${orIgnore ? 'OR IGNORE ' : ''}INTO main."${t}" (${cols.get(t)}) SELECT ${cols.get(t)} FROM dev."${t}" WHERE device_id = @d AND ${where}`)
      .run({ d, ...params }).changes;

  let rows = 0;
  for (const t of tables) rows += copy(t, 'seq > @from AND seq <= @to', { from: o.seqFrom, to: seqTo });
  let completeRows = 0;
  let changedRows = 0;
  for (const t of tables) {
    if (COMPLETE_TABLES.includes(t)) {
      completeRows += copy(t, 'seq <= @from', { from: o.seqFrom });
      continue;
    }
    const version = versionColumn(db, 'dev', t);
    if (!version) continue;
    const since = o.changedSince === null ? null : o.changedSince - CHANGED_SLACK_MS;
    changedRows += since === null
      ? copy(t, 'seq <= @from', { from: o.seqFrom })
      : copy(t, `seq <= @from AND "${version}" >= @since`, { from: o.seqFrom, since: VERSION_COLUMNS[version] === 'iso' ? isoUtc(since) : since });
  }
  // Rows naming another table's integer key (safeguard_events.turn_id → turns): the server translates
  // the key through the named row's (device_id, seq), so that row must be in the file too.
  let referencedRows = 0;
  for (const [target, key] of integerKeys(db, tables)) {
    const users = tables.filter((t) => t !== target && columnsOf(db, 'main', t).some((c) => c.name === key));
    if (users.length === 0) continue;
    const named = users.map((t) => `SELECT "${key}" FROM main."${t}" WHERE "${key}" IS NOT NULL`).join(' UNION ');
    referencedRows += copy(target, `seq <= @from AND "${key}" IN (${named})`, { from: o.seqFrom }, true);
  }
  db.prepare('INSERT INTO main.device_seq (device_id, last_seq) VALUES (?, ?)').run(d, seqTo);
  db.exec(`CREATE TABLE main.${INCREMENT_META} (key TEXT PRIMARY KEY, value TEXT)`);
  const meta = db.prepare(`INSERT INTO main.${INCREMENT_META} (key, value) VALUES (?, ?)`);
  const entries: [string, string][] = [
    ['kind', 'increment'], ['device_id', d], ['seq_from', String(o.seqFrom)], ['seq_to', String(seqTo)],
    ['complete_tables', JSON.stringify(COMPLETE_TABLES.filter((t) => tables.includes(t)))],
    ['changed_since_utc', o.changedSince === null ? '' : isoUtc(o.changedSince)],
  ];
  for (const [k, v] of entries) meta.run(k, v);
  return { deviceId: d, seqFrom: o.seqFrom, seqTo, rows, changedRows, referencedRows, completeRows, deviceLastSeq: lastSeq };
}

/**
 * The end of the slice: the `seq` of the `maxRows`-th row after `seqFrom` across every table, or the
 * device's counter when fewer rows are left (so the last slice also covers numbers given back by
 * rolled-back inserts). Looked for first within `4 × maxRows` numbers, so a long backlog is not scanned
 * whole for every slice; past a long run of deleted rows (a withdrawal) the search is not bounded.
 */
function chooseSeqTo(db: Db, tables: readonly string[], d: string, seqFrom: number, maxRows: number, lastSeq: number): number {
  if (lastSeq - seqFrom <= maxRows) return lastSeq;
  const nth = (bound: number | null): number | null => {
    const union = tables.map((t) => `SELECT seq FROM dev."${t}" WHERE device_id = @d AND seq > @from${bound === null ? '' : ' AND seq <= @bound'}`).join(' UNION ALL ');
    const r = db.prepare(`SELECT seq FROM (${union}) ORDER BY seq LIMIT 1 OFFSET @skip`)
      .get({ d, from: seqFrom, skip: maxRows - 1, ...(bound === null ? {} : { bound }) }) as { seq: number } | undefined;
    return r?.seq ?? null;
  };
  return nth(seqFrom + 4 * maxRows) ?? nth(null) ?? lastSeq;
}

/** Tables with a single INTEGER primary key, and that key's name (`turns` → `turn_id`). */
function integerKeys(db: Db, tables: readonly string[]): Map<string, string> {
  const keys = new Map<string, string>();
  for (const t of tables) {
    const pk = columnsOf(db, 'main', t).filter((c) => c.pk > 0);
    if (pk.length === 1 && pk[0]!.type.toUpperCase() === 'INTEGER') keys.set(t, pk[0]!.name);
  }
  return keys;
}

function versionColumn(db: Db, schema: string, table: string): string | null {
  const names = new Set(columnsOf(db, schema, table).map((c) => c.name));
  return Object.keys(VERSION_COLUMNS).find((v) => names.has(v)) ?? null;
}


function deviceFile(store: Store): string {
  if (!(store instanceof SqliteStore)) throw new StoreError('increments are built from a SQLite device database, not an in-memory store');
  return store.path;
}

function handleOf(store: Store): Db {
  if (!(store instanceof SqliteStore)) throw new StoreError('the uplink backlog is read from a SQLite device database, not an in-memory store');
  return sqliteHandle(store);
}

function removeSqlite(file: string): void {
  for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(`${file}${suffix}`, { force: true });
}

/** A device id as part of a file name. */
function safeName(id: string): string {
  return id.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 64);
}
