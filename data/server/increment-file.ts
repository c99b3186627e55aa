/**
 * A first look at an uploaded increment before it is merged: is it a SQLite file with an
 * `increment_meta` table (runtime/server/PROTOCOL.md, "Increments"), and what does that table say.
 * The merge itself (`collectInto`) checks the file again in full; this only lets the server answer
 * "not an increment" or "another device's" with a precise message.
 */
import { INCREMENT_META, parseIncrementMeta } from '../collect/collect.js';
import { StoreError } from '../errors.js';
import Database from 'better-sqlite3';
import { SCHEMA_VERSION } from '../migrations.js';
import { sqliteHandle, SqliteStore } from '../sqlite-store.js';

/** What an increment says about itself. */
export interface IncrementHeader {
  deviceId: string;
  seqFrom: number;
  seqTo: number;
}

/** The header of an increment (a file, or its bytes as inflated, which may be changed), or the reason it is not one (a line for the device's log). */
export function readIncrementHeader(source: string | Buffer): { ok: true; header: IncrementHeader } | { ok: false; problem: string } {
  let db: Database.Database;
  let store: SqliteStore | null = null;
  try {
    if (typeof source === 'string') {
      store = SqliteStore.open(source, { create: false, readonly: true });
      db = sqliteHandle(store);
    } else {
      // An in-memory copy of the bytes: nothing touches the disk, and SqliteStore's version check is done here.
      // A file last written in WAL mode (bytes 18-19 of its header are 2) cannot be opened from memory:
      // mark the copy as a rollback-journal file, which changes nothing that is read here.
      if (source.length >= 100 && source[18] === 2 && source[19] === 2) source[18] = source[19] = 1;
      db = new Database(source, { readonly: true });
    }
  } catch (e) {
    return { ok: false, problem: `not an increment: ${e instanceof StoreError ? e.message.replace(/^[^:]*: /, '') : String(e)}` };
  }
  try {
    if (typeof source !== 'string') {
      const version = db.pragma('user_version', { simple: true }) as number;
      if (version > SCHEMA_VERSION) return { ok: false, problem: `not an increment this server can read: schema version ${version} is newer than this Hearth supports (${SCHEMA_VERSION})` };
    }
    const has = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(INCREMENT_META);
    if (!has) return { ok: false, problem: `not an increment: the file has no ${INCREMENT_META} table (a whole device database is not accepted here)` };
    const meta = parseIncrementMeta(db.prepare(`SELECT key, value FROM ${INCREMENT_META}`).all() as { key: string; value: unknown }[]);
    if (typeof meta === 'string') return { ok: false, problem: `not an increment: its ${INCREMENT_META} table is malformed: ${meta}` };
    return { ok: true, header: { deviceId: meta.deviceId, seqFrom: meta.seqFrom, seqTo: meta.seqTo } };
  } catch (e) {
    return { ok: false, problem: `not an increment: ${(e as Error).message}` };
  } finally {
    if (store) store.close();
    else db.close();
  }
}
