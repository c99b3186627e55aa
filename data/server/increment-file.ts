/**
 * A first look at an uploaded increment before it is merged: is it a SQLite file with an
 * `increment_meta` table (runtime/server/PROTOCOL.md, "Increments"), and what does that table say.
 * The merge itself (`collectInto`) checks the file again in full; this only lets the server answer
 * "not an increment" or "another device's" with a precise message.
 */
import { INCREMENT_META, parseIncrementMeta } from '../collect/collect.js';
import { StoreError } from '../errors.js';
import { sqliteHandle, SqliteStore } from '../sqlite-store.js';

/** What an increment says about itself. */
export interface IncrementHeader {
  deviceId: string;
  seqFrom: number;
  seqTo: number;
}

/** The header of an increment file, or the reason it is not one (a line for the device's log). */
export function readIncrementHeader(file: string): { ok: true; header: IncrementHeader } | { ok: false; problem: string } {
  let store: SqliteStore;
  try {
    store = SqliteStore.open(file, { create: false, readonly: true });
  } catch (e) {
    return { ok: false, problem: `not an increment: ${e instanceof StoreError ? e.message.replace(/^[^:]*: /, '') : String(e)}` };
  }
  try {
    const db = sqliteHandle(store);
    const has = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(INCREMENT_META);
    if (!has) return { ok: false, problem: `not an increment: the file has no ${INCREMENT_META} table (a whole device database is not accepted here)` };
    const meta = parseIncrementMeta(db.prepare(`SELECT key, value FROM ${INCREMENT_META}`).all() as { key: string; value: unknown }[]);
    if (typeof meta === 'string') return { ok: false, problem: `not an increment: its ${INCREMENT_META} table is malformed: ${meta}` };
    return { ok: true, header: { deviceId: meta.deviceId, seqFrom: meta.seqFrom, seqTo: meta.seqTo } };
  } catch (e) {
    return { ok: false, problem: `not an increment: ${(e as Error).message}` };
  } finally {
    store.close();
  }
}
