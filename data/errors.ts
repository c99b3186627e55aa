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
