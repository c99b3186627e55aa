/**
 * The native stager (data/native/hearth-stage.cc, built by scripts/build-native.sh): runs the
 * exporter's SELECTs with SQLite's C API and appends the values to DuckDB's C appender, so no value
 * becomes a JS object. On the bench study (5 million affect samples) this is what brings `hearth
 * export` under the by-hand path (data/README.md, "Export: the native stager"). The exporter plans
 * the queries and decodes the staged columns; the stager only moves values.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../package-root.js';
import { StoreError } from '../errors.js';

/**
 * One staged column: `d` DOUBLE (numbers), `t` VARCHAR (text as stored), `c` INTEGER codes of a
 * category, whose values the stager writes to `<table>__dict__<column>` (k, v).
 */
export interface NativeColumn {
  name: string;
  kind: 'd' | 't' | 'c';
}

/** One table to stage: its DuckDB name, columns, and the SQLite query selecting them in order. */
export interface NativeJob {
  table: string;
  columns: NativeColumn[];
  sql: string;
}

/** What the stager did. */
export interface NativeResult {
  rows: Map<string, number>;
  /** The stager process's peak resident memory. */
  peakRssKb: number;
}

/** The stager binary, or undefined when it was not built (no compiler at setup). */
export function nativeStager(): string | undefined {
  const bin = join(packageRoot(), 'data', 'native', 'build', 'hearth-stage');
  return existsSync(bin) ? bin : undefined;
}

/** The jobs in the stager's stdin format (see hearth-stage.cc). */
export function jobsText(jobs: readonly NativeJob[]): string {
  return jobs.map((j) => {
    for (const c of j.columns) if (/[\t\n]/.test(c.name)) throw new Error(`column name ${JSON.stringify(c.name)} holds a tab or newline`);
    if (/\n/.test(j.table)) throw new Error(`table name ${JSON.stringify(j.table)} holds a newline`);
    return `TABLE ${j.table}\nCOLS ${j.columns.length}\n${j.columns.map((c) => `${c.name}\t${c.kind}\n`).join('')}SQL ${Buffer.byteLength(j.sql)}\n${j.sql}\n`;
  }).join('');
}

/**
 * Stage `jobs` from `sqliteFile` into a new DuckDB file `duckFile`, in one read transaction of the
 * SQLite file. `onRows(table, rows)` reports progress every 65,536 rows. Throws `StoreError` naming
 * the SQLite file with the stager's one-line reason.
 */
export function runNativeStage(
  bin: string,
  sqliteFile: string,
  duckFile: string,
  o: { memoryLimit: string; tempDirectory: string; since?: string; onRows?: (table: string, rows: number) => void },
  jobs: readonly NativeJob[],
): Promise<NativeResult> {
  return new Promise((resolvePromise, reject) => {
    const env = { ...process.env };
    if (o.since !== undefined) env.HEARTH_STAGE_SINCE = o.since;
    else delete env.HEARTH_STAGE_SINCE;
    const child = spawn(bin, [sqliteFile, duckFile, o.memoryLimit, o.tempDirectory], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    const rows = new Map<string, number>();
    let peakRssKb = 0;
    let pending = '';
    let stderr = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      pending += chunk;
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        const m = /^rows (.+) (\d+)$/.exec(line);
        if (m) {
          rows.set(m[1]!, Number(m[2]));
          o.onRows?.(m[1]!, Number(m[2]));
        } else if (line.startsWith('rss_kb ')) peakRssKb = Number(line.slice(7));
      }
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.on('error', (e) => reject(new StoreError(`${sqliteFile}: cannot run the export stager ${bin} (${e.message})`, { cause: e })));
    child.on('close', (code, signal) => {
      if (code === 0) return resolvePromise({ rows, peakRssKb });
      const why = stderr.trim().split('\n').pop()?.replace(/^hearth-stage: /, '') || (signal ? `stager killed by ${signal}` : `stager exit ${code}`);
      if (/database is locked|database table is locked|SQLITE_BUSY/i.test(why)) {
        return reject(new StoreError(`${sqliteFile}: the database is locked by another process; try again when it is done`));
      }
      if (/malformed|not a database|disk I\/O error|short read/i.test(why)) {
        return reject(new StoreError(`${sqliteFile}: the database is damaged or truncated (${why}); copy it again from the device`));
      }
      reject(new StoreError(`${sqliteFile}: cannot read the database (${why})`));
    });
    child.stdin.on('error', () => {
      // the stager exited early; its exit status says why
    });
    child.stdin.end(jobsText(jobs));
  });
}
