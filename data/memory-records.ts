import type BetterSqlite3 from 'better-sqlite3';
import { StoreError } from './errors.js';
import { commonColumns } from './sqlite-store.js';
import type { DeviceIdentity } from './store.js';
import type { MemoryRecords } from './ports.js';
import { toMemory, type MemoryRow } from './rows.js';
import { isoUtc } from './time.js';

export type { MemoryRecords } from './ports.js';

/**
 * Longitudinal memory rows (migration 2) on the Hearth SQLite database, for one device (made by `SqliteStore.memories`).
 * Only the type of better-sqlite3 is imported here; `sqlite-store.ts` stays the only module that loads it.
 * Each row carries the common columns with the device's next `seq`, stamped when the memory is stored.
 * Deletion is real: rows are deleted with `secure_delete` on and the WAL is checkpointed, so forgotten text
 * does not linger in free pages of the file.
 */

/** A memory as stored. */
export interface MemoryRecord {
  memoryId: number;
  participantId: string;
  sessionId: string | null;
  /** When the participant said it (epoch ms) and in which zone. */
  saidAtMs: number;
  tz: string;
  saidTsLocal: string;
  studyDay: number | null;
  /** The short summary, in the participant's own words where possible. */
  summary: string;
  people: string[];
  places: string[];
  feelings: string[];
  topics: string[];
  method: 'extractive' | 'model';
  lastRecalledAtMs: number | null;
  recalledCount: number;
}

/** A memory to store. */
export type NewMemoryRecord = Omit<MemoryRecord, 'memoryId' | 'saidTsLocal' | 'lastRecalledAtMs' | 'recalledCount'>;

/** `MemoryRecords` on the Hearth SQLite database, written as `identity`'s device. */
export class SqliteMemoryRecords implements MemoryRecords {
  private readonly db: BetterSqlite3.Database;
  private readonly identity: DeviceIdentity;

  constructor(db: BetterSqlite3.Database, identity: DeviceIdentity) {
    this.db = db;
    this.identity = identity;
    const hasTable = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'memories'").get();
    if (!hasTable) throw new StoreError(`${db.name}: no memories table (database schema older than migration 2; open it with SqliteStore to migrate)`);
    // Forgotten text must not survive in free pages of the file.
    db.pragma('secure_delete = ON');
  }

  /** Store a memory said at `m.saidAtMs`; the row is stamped at that instant in the device's zone. */
  add(m: NewMemoryRecord): MemoryRecord {
    if (!m.summary.trim()) throw new StoreError(`${this.db.name}: memory for ${m.participantId} has an empty summary`);
    if (m.tz !== this.identity.tz) {
      throw new StoreError(`${this.db.name}: memory for ${m.participantId} is in time zone ${m.tz}, but device ${this.identity.deviceId} is in ${this.identity.tz}`);
    }
    const insert = this.db.prepare(`INSERT INTO memories (participant_id, session_id, said_ts_utc, said_ts_local, summary,
        people_json, places_json, feelings_json, topics_json, method, updated_ts_utc, ts_utc, tz, ts_local, study_day, device_id, seq, clock_source)
      VALUES (@participant_id, @session_id, @ts_utc, @ts_local, @summary,
        @people_json, @places_json, @feelings_json, @topics_json, @method, @ts_utc, @ts_utc, @tz, @ts_local, @study_day, @device_id, @seq, @clock_source)`);
    let info: BetterSqlite3.RunResult;
    try {
      // One transaction: a rejected row gives its sequence number back.
      info = this.db.transaction(() => insert.run({
        participant_id: m.participantId, session_id: m.sessionId, summary: m.summary, people_json: JSON.stringify(m.people),
        places_json: JSON.stringify(m.places), feelings_json: JSON.stringify(m.feelings), topics_json: JSON.stringify(m.topics), method: m.method,
        ...commonColumns(this.db, this.identity, m.saidAtMs, m.studyDay),
      }))();
    } catch (cause) {
      throw new StoreError(`${this.db.name}: cannot store a memory for participant ${m.participantId} (${(cause as Error).message})`, { cause });
    }
    return this.get(Number(info.lastInsertRowid))!;
  }

  list(participantId: string): MemoryRecord[] {
    return (this.db.prepare('SELECT * FROM memories WHERE participant_id = ? ORDER BY said_ts_utc, memory_id').all(participantId) as MemoryRow[]).map(toMemory);
  }

  markRecalled(memoryId: number, atMs: number): void {
    // An update in place: the row keeps its `seq`; `updated_ts_utc` records the change.
    this.db.prepare('UPDATE memories SET last_recalled_ts_utc = @at, updated_ts_utc = @at, recalled_count = recalled_count + 1 WHERE memory_id = @id')
      .run({ at: isoUtc(atMs), id: memoryId });
  }

  delete(participantId: string, memoryIds: readonly number[]): number[] {
    const del = this.db.prepare('DELETE FROM memories WHERE participant_id = ? AND memory_id = ? RETURNING memory_id');
    const deleted = this.db.transaction(() => memoryIds.flatMap((id) => (del.all(participantId, id) as { memory_id: number }[]).map((r) => r.memory_id)))();
    this.checkpoint();
    return deleted;
  }

  deleteAll(participantId: string): number[] {
    const rows = this.db.prepare('DELETE FROM memories WHERE participant_id = ? RETURNING memory_id').all(participantId) as { memory_id: number }[];
    this.checkpoint();
    return rows.map((r) => r.memory_id).sort((a, b) => a - b);
  }

  private get(memoryId: number): MemoryRecord | undefined {
    const row = this.db.prepare('SELECT * FROM memories WHERE memory_id = ?').get(memoryId) as MemoryRow | undefined;
    return row ? toMemory(row) : undefined;
  }

  private checkpoint(): void {
    // Old pages with the forgotten text may still be in the WAL; fold it into the main file.
    if ((this.db.pragma('journal_mode', { simple: true }) as string) === 'wal') this.db.pragma('wal_checkpoint(TRUNCATE)');
  }
}

