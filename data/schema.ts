/**
 * Reading a SQLite schema through a connection: the tables, their columns, and which of them hold
 * device rows. Shared by `hearth collect` (the merge) and the uplink's increment builder, which both
 * work on attached files.
 */
import type BetterSqlite3 from 'better-sqlite3';

type Db = BetterSqlite3.Database;

/** The table names of one schema (`main`, or an attached one). */
export function tablesOf(db: Db, schema: string): Set<string> {
  return new Set((db.prepare(`SELECT name FROM ${schema}.sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`).all() as { name: string }[]).map((r) => r.name));
}

/** A table's columns: name, declared type, and position in the primary key (0 when not in it). */
export function columnsOf(db: Db, schema: string, table: string): { name: string; type: string; pk: number }[] {
  return db.prepare('SELECT name, type, pk FROM pragma_table_info(?, ?)').all(table, schema) as { name: string; type: string; pk: number }[];
}

/** Tables holding device rows (a `device_id` and a `seq` column), in creation order. */
export function deviceTables(db: Db, schema: string): string[] {
  const names = (db.prepare(`SELECT name FROM ${schema}.sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY rowid`).all() as { name: string }[]).map((r) => r.name);
  return names.filter((t) => {
    const cols = columnsOf(db, schema, t).map((c) => c.name);
    return cols.includes('device_id') && cols.includes('seq');
  });
}
