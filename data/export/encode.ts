/**
 * How each exported column travels: the SQLite expressions that read it, the staged DuckDB columns
 * that hold it, and the DuckDB expressions that decode it into the export's types. Strings with few
 * distinct values become dictionary codes and times become epoch milliseconds before they leave
 * SQLite, so the JS loop moves numbers, not strings (see data/README.md, "Export: the writer").
 */
import { duckIdent, duckString, type StagedColumn } from '../duckdb.js';
import type { ColumnSpec, ColumnType } from './tables.js';

/** What the row loop does with one selected SQLite value. */
export const Op = {
  /** A number (or null) staged as is. */
  Number: 0,
  /** A string from a small set: staged as its dictionary code. */
  Category: 1,
  /** Text staged as is. */
  Text: 2,
  /** Epoch milliseconds: the participant's date shift is added. */
  Instant: 3,
  /** A local date YYYY-MM-DD: shifted by whole days. */
  Date: 4,
  /** A local time string that is not in Hearth's layout: kept as text, dropped when dates are shifted. */
  LocalOverride: 5,
  /** Read for the date-shift key only, not staged. */
  Hidden: 6,
} as const;
/** One of `Op`. */
export type Op = (typeof Op)[keyof typeof Op];

/**
 * How `planColumn` plans: `packed` categories travel inside the row's context key (one string per row
 * for all of a table's categories, see `contextSql`); `localAsText` local times travel as their text.
 */
export interface PlanOptions {
  packed?: boolean;
  localAsText?: boolean;
}

/** Separates the values in a context key. */
export const CONTEXT_SEPARATOR = '\u001f';

/**
 * The SQLite expression of a row's context key: every category value of the row, each `=value` or
 * empty for NULL, joined by U+001F. One string per row replaces one string per category column, which
 * is what reading millions of rows costs (better-sqlite3 creates a JS value per column per row). A
 * value holding U+001F itself makes the key split into too many parts; `splitContext` says so and the
 * table is read again column by column.
 */
export function contextSql(sqls: readonly string[]): string {
  return sqls.map((x) => `ifnull('=' || ${x}, '')`).join(` || char(31) || `);
}

/** The values of a context key, or null when it does not split into `n` parts (a value held U+001F). */
export function splitContext(key: string, n: number): (string | null)[] | null {
  const parts = key.split(CONTEXT_SEPARATOR);
  if (parts.length !== n) return null;
  return parts.map((p) => (p === '' ? null : p.slice(1)));
}

/** One value selected from SQLite. */
export interface Selected {
  sql: string;
  op: Op;
  /** Staged column name (absent for Hidden). */
  staged?: string;
}

/** The plan of one column: what to select, what to stage, how to decode for Parquet and CSV. */
export interface ColumnPlan {
  spec: ColumnSpec;
  selects: Selected[];
  staged: StagedColumn[];
  /** DuckDB expression over the staged table giving the column's export value and type. */
  decode: string;
}

const ms = (x: string): string => `CAST(round(unixepoch(${x}, 'subsec') * 1000) AS INTEGER)`;

/** DuckDB: epoch milliseconds (double) → UTC instant. */
const instantOf = (c: string): string => `CAST(epoch_ms(CAST(${c} AS BIGINT)) AS TIMESTAMPTZ)`;

/**
 * The SQLite selects, staged columns and decoding of one column. `dict(name)` names a column's
 * dictionary variable. `zone`, a DuckDB expression for the row's IANA zone, is given when dates are
 * shifted: a shifted local time then takes the zone's offset at its new instant (a shift of whole weeks
 * can move a time across a daylight-saving change), instead of the offset it had on the real date.
 */
export function planColumn(spec: ColumnSpec, dict: (staged: string) => string, zone?: string, how: PlanOptions = {}): ColumnPlan {
  const sql = spec.sql!;
  const n = spec.name;
  const id = duckIdent(n);
  switch (spec.type) {
    case 'category':
      // Packed: not selected on its own, but staged and decoded the same (its code comes from the context).
      if (how.packed) return { spec, selects: [], staged: [{ name: n, kind: 'int32' }], decode: `getvariable(${duckString(dict(n))})[${id} + 1]` };
      return { spec, selects: [{ sql, op: Op.Category, staged: n }], staged: [{ name: n, kind: 'int32' }], decode: `getvariable(${duckString(dict(n))})[${id} + 1]` };
    case 'text':
    case 'json':
      return { spec, selects: [{ sql, op: Op.Text, staged: n }], staged: [{ name: n, kind: 'text' }], decode: id };
    case 'int':
    case 'bigint':
    case 'double':
    case 'bool':
      return { spec, selects: [{ sql, op: Op.Number, staged: n }], staged: [{ name: n, kind: 'double' }], decode: numberDecode(spec.type, id) };
    case 'date':
      return { spec, selects: [{ sql, op: Op.Date, staged: n }], staged: [{ name: n, kind: 'text' }], decode: `CAST(${id} AS DATE)` };
    case 'instant':
      return { spec, selects: [{ sql: ms(sql), op: Op.Instant, staged: n }], staged: [{ name: n, kind: 'double' }], decode: instantOf(id) };
    case 'local': {
      // Not shifting: the text is exported as stored (Hearth's layout or not), so it travels as is.
      if (how.localAsText) return { spec, selects: [{ sql, op: Op.Text, staged: n }], staged: [{ name: n, kind: 'text' }], decode: id };
      // Hearth writes local times as YYYY-MM-DDTHH:MM:SS.mmm±HH:MM (29 characters): staged as the
      // instant and the offset in minutes, and rebuilt in the same layout. Anything else is kept as text.
      const [m, off, raw] = [`${n}__ms`, `${n}__off`, `${n}__raw`].map(duckIdent) as [string, string, string];
      const offSql = `CAST(round((julianday(substr(${sql}, 1, 23)) - julianday(${sql})) * 1440) AS INTEGER)`;
      const rawSql = `CASE WHEN ${sql} IS NULL OR (length(${sql}) = 29 AND unixepoch(${sql}) IS NOT NULL) THEN NULL ELSE ${sql} END`;
      return {
        spec,
        selects: [
          { sql: ms(sql), op: Op.Instant, staged: `${n}__ms` },
          { sql: offSql, op: Op.Number, staged: `${n}__off` },
          { sql: rawSql, op: Op.LocalOverride, staged: `${n}__raw` },
        ],
        staged: [{ name: `${n}__ms`, kind: 'double' }, { name: `${n}__off`, kind: 'int32' }, { name: `${n}__raw`, kind: 'text' }],
        decode: localDecode(m, off, raw, zone),
      };
    }
  }
}

/**
 * DuckDB: a local time rebuilt in Hearth's layout (YYYY-MM-DDTHH:MM:SS.mmm±HH:MM) from `m`, the
 * (shifted) instant in epoch milliseconds, and `off`, its stored offset in minutes; `raw`, when not
 * NULL, is a value not in that layout, kept as is. With `zone` (the row's IANA zone), the offset is
 * ICU's for the zone at the instant (a shift of whole weeks can cross a daylight-saving change).
 */
function localDecode(m: string, off: string, raw: string, zone?: string): string {
  const offset = zone === undefined ? off
    : `coalesce(TRY(CAST(date_diff('minute', epoch_ms(CAST(${m} AS BIGINT)), timezone(${zone}, CAST(epoch_ms(CAST(${m} AS BIGINT)) AS TIMESTAMPTZ))) AS INTEGER)), ${off})`;
  return `CASE WHEN ${raw} IS NOT NULL THEN ${raw} WHEN ${m} IS NULL OR ${off} IS NULL THEN NULL ELSE `
    + `strftime(epoch_ms(CAST(${m} + ${offset} * 60000 AS BIGINT)), '%Y-%m-%dT%H:%M:%S.%g') || CASE WHEN ${offset} < 0 THEN '-' ELSE '+' END `
    + `|| lpad(CAST(abs(${offset}) // 60 AS VARCHAR), 2, '0') || ':' || lpad(CAST(abs(${offset}) % 60 AS VARCHAR), 2, '0') END`;
}

/** The plan of one column for the native stager: what it selects and stages, and the decoding. */
export interface NativeColumnPlan {
  spec: ColumnSpec;
  /** SQLite expression, staged as `spec.name`. */
  sql: string;
  /** `d` a double, `t` text, `c` a category code (the stager keeps the values in a dictionary table). */
  kind: 'd' | 't' | 'c';
  /** DuckDB expression over the staged table giving the column's export value and type. */
  decode: string;
  /** When dates are shifted: a DuckDB condition true for a local time not in Hearth's layout (dropped). */
  dropped?: string;
}

/**
 * How a column travels through the native stager (data/export/native-stage.ts): numbers as doubles,
 * instants as epoch milliseconds (SQLite's unixepoch, as the JS reader), categories as codes into a
 * dictionary the stager builds, everything else as text; DuckDB does the rest of the decoding.
 * `dict(column)` names the DuckDB variable holding a category's values in code order. `shift`, when
 * dates are shifted: `shiftDays`, a DuckDB expression of the row's shift in whole days, and `zone`, of
 * its IANA zone.
 */
export function planNativeColumn(spec: ColumnSpec, dict: (column: string) => string, shift?: { shiftDays: string; zone?: string }): NativeColumnPlan {
  const sql = spec.sql!;
  const id = duckIdent(spec.name);
  switch (spec.type) {
    case 'category':
      return { spec, sql, kind: 'c', decode: `getvariable(${duckString(dict(spec.name))})[${id} + 1]` };
    case 'text':
    case 'json':
      return { spec, sql, kind: 't', decode: id };
    case 'int':
    case 'bigint':
    case 'double':
    case 'bool':
      return { spec, sql, kind: 'd', decode: numberDecode(spec.type, id) };
    case 'date':
      return { spec, sql, kind: 't', decode: shift ? `CAST(${id} AS DATE) + CAST(${shift.shiftDays} AS INTEGER)` : `CAST(${id} AS DATE)` };
    case 'instant':
      return { spec, sql: ms(sql), kind: 'd', decode: instantOf(shift ? `${id} + CAST(${shift.shiftDays} AS BIGINT) * 86400000` : id) };
    case 'local': {
      if (!shift) return { spec, sql, kind: 't', decode: id };
      const inLayout = `(length(${id}) = 29 AND TRY_CAST(${id} AS TIMESTAMPTZ) IS NOT NULL)`;
      const m = `(CASE WHEN ${inLayout} THEN epoch_ms(TRY_CAST(${id} AS TIMESTAMPTZ)) + CAST(${shift.shiftDays} AS BIGINT) * 86400000 END)`;
      const off = `(CASE WHEN ${inLayout} THEN (CASE WHEN substr(${id}, 24, 1) = '-' THEN -1 ELSE 1 END) * `
        + `(TRY_CAST(substr(${id}, 25, 2) AS INTEGER) * 60 + TRY_CAST(substr(${id}, 28, 2) AS INTEGER)) END)`;
      return { spec, sql, kind: 't', decode: localDecode(m, off, 'NULL', shift.zone), dropped: `${id} IS NOT NULL AND NOT ${inLayout}` };
    }
  }
}

function numberDecode(type: 'int' | 'bigint' | 'double' | 'bool', id: string): string {
  if (type === 'int') return `CAST(${id} AS INTEGER)`;
  if (type === 'bigint') return `CAST(${id} AS BIGINT)`;
  if (type === 'bool') return `CAST(${id} <> 0 AS BOOLEAN)`;
  return id;
}

/** The DuckDB type a column has in the export (what Parquet readers see). */
export function duckType(type: ColumnType): string {
  switch (type) {
    case 'int': return 'INTEGER';
    case 'bigint': return 'BIGINT';
    case 'double': return 'DOUBLE';
    case 'bool': return 'BOOLEAN';
    case 'instant': return 'TIMESTAMPTZ';
    case 'date': return 'DATE';
    default: return 'VARCHAR';
  }
}

/** The Parquet physical and logical type, for the codebook. */
export function parquetType(type: ColumnType): string {
  switch (type) {
    case 'int': return 'INT32';
    case 'bigint': return 'INT64';
    case 'double': return 'DOUBLE';
    case 'bool': return 'BOOLEAN';
    case 'instant': return 'INT64 TIMESTAMP(isAdjustedToUTC=true, MICROS)';
    case 'date': return 'INT32 DATE';
    case 'json': return 'BYTE_ARRAY STRING (JSON text)';
    default: return 'BYTE_ARRAY STRING';
  }
}

/** The DuckDB expression writing a column of a decoded view to CSV: instants as ISO-8601 with Z. */
export function csvExpression(spec: ColumnSpec): string {
  const id = duckIdent(spec.name);
  if (spec.type === 'instant') return `strftime(${id}, '%Y-%m-%dT%H:%M:%S.%gZ') AS ${id}`;
  return id;
}
