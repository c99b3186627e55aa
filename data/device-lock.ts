// An OS-level exclusive lock on a small SQLite file, for "one runtime per device folder".
import Database from 'better-sqlite3';
import { StoreError } from './errors.js';

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
