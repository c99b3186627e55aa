/**
 * A first look at an uploaded increment before it is merged: is it a SQLite file with an
 * `increment_meta` table (runtime/server/PROTOCOL.md, "Increments"), and what does that table say.
 * The merge itself (`collectInto`) checks the file again in full; this only lets the server answer
 * "not an increment" or "another device's" with a precise message.
 */
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
    const has = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'increment_meta'").get();
    if (!has) return { ok: false, problem: 'not an increment: the file has no increment_meta table (a whole device database is not accepted here)' };
    const m = new Map((db.prepare('SELECT key, value FROM increment_meta').all() as { key: string; value: string }[]).map((r) => [r.key, String(r.value)]));
    const seqFrom = Number(m.get('seq_from'));
    const seqTo = Number(m.get('seq_to'));
    const deviceId = m.get('device_id');
    if (m.get('kind') !== 'increment' || !deviceId || !Number.isInteger(seqFrom) || !Number.isInteger(seqTo) || seqFrom < 0 || seqTo < seqFrom) {
      return { ok: false, problem: "not an increment: increment_meta needs kind = 'increment', device_id and integer seq_from <= seq_to" };
    }
    return { ok: true, header: { deviceId, seqFrom, seqTo } };
  } catch (e) {
    return { ok: false, problem: `not an increment: ${(e as Error).message}` };
  } finally {
    store.close();
  }
}
