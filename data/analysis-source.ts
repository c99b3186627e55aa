/**
 * Opening a Hearth file for analysis: a device database (`hearth.sqlite`, or `hearth simulate`'s output)
 * or a study database (`hearth collect --into`), which has the same schema plus a `collections` table.
 * Read-only; the file is never migrated or written. `hearth export --db` and `hearth report --db`
 * take either kind through `openForAnalysis`.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { StoreError, unreadable } from './errors.js';
import { SCHEMA_VERSION } from './migrations.js';
import { sqliteHandle, SqliteStore } from './sqlite-store.js';

/** The table only a study database has: one row per device file collected into it. */
export const COLLECTIONS_TABLE = 'collections';

/** A Hearth file opened read-only for analysis. */
export interface AnalysisSource {
  /** `study` when the file has a `collections` table (made by `hearth collect`), else `device`. */
  kind: 'device' | 'study';
  /** Absolute path of the file. */
  path: string;
  /** The store, opened read-only (`data/` modules reach SQL through `sqliteHandle(source.store)`). */
  store: SqliteStore;
  /** `PRAGMA user_version` of the file (always `SCHEMA_VERSION`: other versions are refused). */
  schemaVersion: number;
  /** Device ids with rows in the file, sorted. */
  deviceIds: string[];
  /** Rows of `collections`: one per device of each file collected (0 for a device file). */
  collections: number;
  /**
   * Run `fn` inside one read transaction, so every query it makes sees the same snapshot of the file,
   * even while a device or `hearth collect` is writing to it. `fn` may be async.
   */
  snapshot<T>(fn: () => T | Promise<T>): Promise<T>;
  /** Close the file. */
  close(): void;
}

/**
 * Open a device or study database read-only and say which it is. Throws `StoreError` naming the file
 * and the problem when it is missing, not SQLite, not Hearth's, from another schema version (newer:
 * upgrade Hearth; older: open it once with this Hearth), or holds no device data (an allocation registry).
 */
export function openForAnalysis(file: string): AnalysisSource {
  const path = resolve(file);
  if (!existsSync(path)) throw new StoreError(`${path}: database not found`);
  // SqliteStore.open refuses newer versions and files that are not SQLite before opening them.
  const store = SqliteStore.open(path, { create: false, readonly: true });
  try {
    const db = sqliteHandle(store);
    let tables: Set<string>;
    try {
      tables = new Set((db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map((r) => r.name));
    } catch (cause) {
      throw unreadable(path, cause);
    }
    const version = store.schemaVersion;
    if (version === 0 || !tables.has('devices') || !tables.has('device_seq')) {
      throw new StoreError(`${path}: not a Hearth database (no Hearth tables${version === 0 ? ', schema version 0' : ''})`);
    }
    if (version < SCHEMA_VERSION) {
      throw new StoreError(
        `${path}: database schema version ${version} is older than this Hearth's (${SCHEMA_VERSION}); ` +
          'collect it into a study database with `hearth collect` (which reads older versions), or let the device upgrade it (its next `hearth run` or `hearth talk`)',
      );
    }
    const deviceIds = (db.prepare('SELECT device_id FROM device_seq UNION SELECT device_id FROM devices ORDER BY 1').all() as { device_id: string }[])
      .map((r) => r.device_id);
    if (deviceIds.length === 0) throw new StoreError(`${path}: holds no device data (an allocation registry or a new, empty file?)`);
    const kind = tables.has(COLLECTIONS_TABLE) ? 'study' : 'device';
    const collections = kind === 'study' ? (db.prepare(`SELECT COUNT(*) AS n FROM ${COLLECTIONS_TABLE}`).get() as { n: number }).n : 0;
    return {
      kind, path, store, schemaVersion: version, deviceIds, collections,
      snapshot: async <T>(fn: () => T | Promise<T>): Promise<T> => {
        db.exec('BEGIN');
        try {
          // A deferred transaction takes its snapshot at the first read.
          db.prepare('SELECT COUNT(*) FROM sqlite_master').get();
          return await fn();
        } finally {
          if (db.inTransaction) db.exec('COMMIT');
        }
      },
      close: () => store.close(),
    };
  } catch (e) {
    store.close();
    throw e;
  }
}
