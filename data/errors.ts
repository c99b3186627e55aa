/** A problem with the Hearth database: the message names the file and what is wrong. */
export class StoreError extends Error {
  override readonly name = 'StoreError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/**
 * A failure reading a database file, as one line naming it: locked by another process (a device still
 * writing in exclusive mode, an open `sqlite3` shell), or not readable as a Hearth database.
 */
export function unreadable(path: string, cause: unknown): StoreError {
  if (cause instanceof StoreError) return cause;
  const code = (cause as { code?: string }).code;
  if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') {
    return new StoreError(`${path}: the database is locked by another process; try again when it is done`, { cause });
  }
  return new StoreError(`${path}: not a readable Hearth database (${(cause as Error).message})`, { cause });
}

/**
 * The disk holding a database is full (SQLite's `SQLITE_FULL`, or `ENOSPC` from the file system). The
 * message names the file; `released` says whether the store gave back its reserve (see `SqliteStore.open`).
 */
export class DiskFullError extends StoreError {
  readonly code = 'disk-full' as const;
  constructor(readonly path: string, readonly released: boolean, options?: { cause?: unknown }) {
    super(`${path}: the disk is full (${(options?.cause as Error | undefined)?.message ?? 'database or disk is full'}); free space on it, then start again`, options);
  }
}

/** Whether `e` (or its cause) is a full disk: `SQLITE_FULL`, `ENOSPC` or `EDQUOT`. */
export function isDiskFull(e: unknown): boolean {
  for (let x = e as { code?: unknown; cause?: unknown } | undefined, i = 0; x && i < 5; x = x.cause as typeof x, i++) {
    if (x instanceof DiskFullError || x.code === 'SQLITE_FULL' || x.code === 'ENOSPC' || x.code === 'EDQUOT') return true;
  }
  return false;
}
