// The only module that imports @duckdb/node-api.
import { DOUBLE, DuckDBDataChunk, DuckDBInstance, INTEGER, VARCHAR, type DuckDBAppender, type DuckDBConnection, type DuckDBType } from '@duckdb/node-api';
import { StoreError } from './errors.js';

/**
 * How a staged column travels from JS to DuckDB: `double` (numbers, including integers up to 2^53 and
 * epoch milliseconds), `int32` (dictionary codes, small integers) or `text`. Numbers go into typed
 * vectors copied in one native call per 2048 rows; only `text` values cross one by one, which is why
 * the exporter turns timestamps and low-cardinality strings into numbers before staging.
 */
export type StagedKind = 'double' | 'int32' | 'text';

/** One column of a staging table. */
export interface StagedColumn {
  name: string;
  kind: StagedKind;
}

const TYPES: Record<StagedKind, DuckDBType> = { double: DOUBLE, int32: INTEGER, text: VARCHAR };
const SQL_TYPES: Record<StagedKind, string> = { double: 'DOUBLE', int32: 'INTEGER', text: 'VARCHAR' };
/** DuckDB's vector size: one data chunk per this many rows. */
const CHUNK_ROWS = 2048;

/** Quote an SQL identifier for DuckDB. */
export function duckIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** Quote a string literal for DuckDB. */
export function duckString(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/**
 * A DuckDB database used as a columnar staging area and Parquet/CSV writer: rows are appended in
 * data chunks, then `COPY (SELECT …) TO` writes the files. File-backed with a memory limit, so a
 * table larger than memory spills to disk instead of growing the process.
 */
export class DuckDb {
  readonly #instance: DuckDBInstance;
  readonly #con: DuckDBConnection;

  private constructor(instance: DuckDBInstance, con: DuckDBConnection) {
    this.#instance = instance;
    this.#con = con;
  }

  /** Open (creating) a database file, or `:memory:`; `memoryLimit` like '256MB'. */
  static async open(file: string, options: { memoryLimit?: string; threads?: number; tempDirectory?: string } = {}): Promise<DuckDb> {
    const config: Record<string, string> = {};
    if (options.memoryLimit) config.memory_limit = options.memoryLimit;
    if (options.threads) config.threads = String(options.threads);
    if (options.tempDirectory) config.temp_directory = options.tempDirectory;
    try {
      const instance = await DuckDBInstance.create(file, config);
      const con = await instance.connect();
      // Timestamps are UTC instants: casts and strftime on TIMESTAMPTZ must not use the machine's zone.
      await con.run("SET TimeZone = 'UTC'");
      return new DuckDb(instance, con);
    } catch (cause) {
      throw new StoreError(`${file}: cannot open DuckDB (${(cause as Error).message})`, { cause });
    }
  }

  /** Run statements that return nothing. */
  async run(sql: string): Promise<void> {
    await this.#con.run(sql);
  }

  /** Rows of a query as plain JS objects (BIGINT as bigint, TIMESTAMPTZ as Date-like JS values). */
  async all(sql: string): Promise<Record<string, unknown>[]> {
    const reader = await this.#con.runAndReadAll(sql);
    return reader.getRowObjectsJS() as Record<string, unknown>[];
  }

  /** Create a staging table and return a writer that appends rows to it. */
  async stage(table: string, columns: readonly StagedColumn[]): Promise<StageWriter> {
    await this.#con.run(`CREATE OR REPLACE TABLE ${duckIdent(table)} (${columns.map((c) => `${duckIdent(c.name)} ${SQL_TYPES[c.kind]}`).join(', ')})`);
    const appender = await this.#con.createAppender(table);
    return new StageWriter(appender, columns);
  }

  /** Close the connection and the database. */
  close(): void {
    this.#con.closeSync();
    this.#instance.closeSync();
  }
}

/** Appends rows column by column; call `close()` to flush the last chunk. */
export class StageWriter {
  readonly #appender: DuckDBAppender;
  readonly #types: DuckDBType[];
  #columns: (number | string | null)[][];
  readonly #chunk: DuckDBDataChunk;
  #rows = 0;
  /** Rows appended so far. */
  total = 0;

  constructor(appender: DuckDBAppender, columns: readonly StagedColumn[]) {
    this.#appender = appender;
    this.#types = columns.map((c) => TYPES[c.kind]);
    this.#columns = columns.map(() => new Array(CHUNK_ROWS));
    this.#chunk = DuckDBDataChunk.create(this.#types, CHUNK_ROWS);
  }

  /** Append one row: `values[i]` for column i (numbers for double/int32 columns, strings for text, null). */
  push(values: readonly (number | string | null)[]): void {
    const r = this.#rows;
    for (let c = 0; c < values.length; c++) this.#columns[c]![r] = values[c]!;
    this.#rows = r + 1;
    this.total++;
    if (this.#rows === CHUNK_ROWS) this.flush();
  }

  private flush(): void {
    if (this.#rows === 0) return;
    // One chunk, reused: a chunk's memory is native and freed only when its JS wrapper is collected,
    // which a small JS heap rarely triggers, so a new chunk per 2048 rows piled up gigabytes.
    const chunk = this.#chunk;
    chunk.reset();
    chunk.rowCount = this.#rows;
    for (let c = 0; c < this.#columns.length; c++) {
      const col = this.#rows === CHUNK_ROWS ? this.#columns[c]! : this.#columns[c]!.slice(0, this.#rows);
      chunk.setColumnValues(c, col as never);
    }
    this.#appender.appendDataChunk(chunk);
    this.#rows = 0;
  }

  /** Flush what is left and close the appender. */
  close(): void {
    this.flush();
    this.#appender.closeSync();
  }
}
