import Database from 'better-sqlite3';

/**
 * Read a Hearth file as a researcher does: SQL on the tables `data/README.md` documents, over a separate
 * read-only connection (the runtime's own store keeps its handle private). For end-to-end assertions only.
 */
export function queryFile<T = Record<string, unknown>>(file: string, sql: string, ...params: unknown[]): T[] {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return db.prepare(sql).all(...params) as T[];
  } finally {
    db.close();
  }
}

/** The first row of a query on a Hearth file (undefined when none). */
export function queryFileRow<T = Record<string, unknown>>(file: string, sql: string, ...params: unknown[]): T | undefined {
  return queryFile<T>(file, sql, ...params)[0];
}
