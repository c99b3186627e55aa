/**
 * `hearth export`: tidy tables from a device or study database, as CSV and/or Parquet, with a
 * codebook and a JSON sidecar per table. Rows stream from SQLite (one read transaction) into a
 * DuckDB staging file with a memory limit, and DuckDB writes the files; everything goes to a
 * temporary folder next to the output that is renamed into place at the end.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import type Database from 'better-sqlite3';
import { openForAnalysis, type AnalysisSource } from '../analysis-source.js';
import { DuckDb, duckIdent, duckString, type StagedColumn, type StageWriter } from '../duckdb.js';
import { StoreError } from '../errors.js';
import { sqliteHandle } from '../sqlite-store.js';
import { addDays } from '../time.js';
import { codebookCsv, sidecar } from './codebook.js';
import { contextSql, csvExpression, duckType, Op, planColumn, planNativeColumn, splitContext, type ColumnPlan, type Selected } from './encode.js';
import { nativeStager, runNativeStage, type NativeJob } from './native-stage.js';
import { TABLE_NAMES, TABLES, type ColumnSpec, type TableSpec } from './tables.js';

/** Output formats. */
export const EXPORT_FORMATS = ['csv', 'parquet'] as const;
/** One output format. */
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** A mistake in the export's options or output folder: one line, exit code 2. */
export class ExportError extends Error {
  override readonly name = 'ExportError';
  readonly exitCode = 2;
}

/** How one score of an instrument is computed (from the protocol; `data/` does not read protocols). */
export interface ScoringRule {
  instrument: string;
  scoringVersion: string;
  score: string;
  method: 'sum' | 'mean' | 'prorated_sum';
  /** Items with their scale and reverse key. */
  items: readonly { code: string; min: number; max: number; reverse: boolean }[];
  /** Items that must be answered; default: all for `sum`, 1 otherwise (as `scoreInstrument`). */
  minAnswered?: number;
}

/** Progress of an export, for a progress bar. */
export interface ExportProgress {
  table: string;
  phase: 'read' | 'write';
  done: number;
  total: number;
}

/** What to export and how. */
export interface ExportOptions {
  db: string;
  out: string;
  formats?: readonly string[];
  /** Table names (default: all). */
  tables?: readonly string[];
  deidentify?: boolean;
  keepText?: boolean;
  /** Seed of the per-participant date shift; never written to the export. */
  dateShiftSeed?: string;
  /** Only rows on or after this local date (YYYY-MM-DD). */
  since?: string;
  partition?: 'participant';
  force?: boolean;
  /** Scoring rules for `survey_scores` (without them the table is empty and a warning says so). */
  scoring?: readonly ScoringRule[];
  /** Written into export.json, e.g. "hearth 0.1.0". */
  generator?: string;
  onProgress?: (p: ExportProgress) => void;
  /**
   * How rows leave SQLite: `native`, the stager (native-stage.ts; refused when it is not built), `js`,
   * better-sqlite3 (portable, several times slower on big tables), or `auto` (default): native when built.
   */
  reader?: 'auto' | 'native' | 'js';
  /** DuckDB memory limit (default 128MB: DuckDB's own buffers, so the process stays under 500 MB with SQLite and V8; measured 449 MB peak on the 5-million-sample bench database, 636 MB at 256MB). */
  memoryLimit?: string;
}

/** What was written. */
export interface ExportSummary {
  db: string;
  kind: 'device' | 'study';
  out: string;
  formats: ExportFormat[];
  partition: 'participant' | null;
  deidentified: boolean;
  keepText: boolean;
  dateShifted: boolean;
  since: string | null;
  tables: { name: string; rows: number; columns: number; files: string[] }[];
  warnings: string[];
  seconds: number;
  /** How rows were read: `native` (the stager; with its peak memory) or `js` (better-sqlite3). */
  reader: { kind: 'native' | 'js'; peakRssMb?: number };
}

/** Tables the daily summary is computed from. */
const SUMMARY_INPUTS = ['participants', 'sessions', 'schedule_instances', 'turns', 'affect_samples', 'survey_scores', 'safeguard_events', 'safeguard_incidents'];
const DAY_MS = 86_400_000;

/** Check the options; throws `ExportError` listing the valid values. */
export function checkExportOptions(o: ExportOptions): { formats: ExportFormat[]; tables: string[] } {
  const formats = [...new Set(o.formats ?? ['csv', 'parquet'])];
  const badFormat = formats.filter((f) => !(EXPORT_FORMATS as readonly string[]).includes(f));
  if (badFormat.length || formats.length === 0) {
    throw new ExportError(`unknown format ${badFormat.map((f) => `"${f}"`).join(', ') || '(none)'}; valid formats: ${EXPORT_FORMATS.join(', ')}`);
  }
  const tables = o.tables?.length ? [...new Set(o.tables)] : [...TABLE_NAMES];
  const badTable = tables.filter((t) => !TABLE_NAMES.includes(t));
  if (badTable.length) throw new ExportError(`unknown table ${badTable.map((t) => `"${t}"`).join(', ')}; valid tables: ${TABLE_NAMES.join(', ')}`);
  if (o.since !== undefined && (!/^\d{4}-\d{2}-\d{2}$/.test(o.since) || Number.isNaN(Date.parse(o.since)))) {
    throw new ExportError(`option --since: expected a date YYYY-MM-DD, got "${o.since}"`);
  }
  if (o.dateShiftSeed !== undefined && o.dateShiftSeed.length === 0) throw new ExportError('option --date-shift: the seed must not be empty');
  if (o.partition !== undefined && o.partition !== 'participant') throw new ExportError(`option --partition: expected "participant", got "${String(o.partition)}"`);
  return { formats: formats as ExportFormat[], tables };
}

/**
 * The date shift of one participant: whole weeks (so weekdays, intervals and study days stay),
 * between 52 and 260 weeks back, from an HMAC of the seed and the participant id.
 */
export function dateShiftDays(seed: string, key: string): number {
  const h = createHmac('sha256', seed).update(key).digest();
  return -7 * (52 + (h.readUInt32BE(0) % 209));
}

/** Export a device or study database. Throws `StoreError` for a bad database and `ExportError` for bad options. */
export async function exportData(o: ExportOptions): Promise<ExportSummary> {
  const t0 = performance.now();
  const { formats, tables: wanted } = checkExportOptions(o);
  const out = resolve(o.out);
  if (existsSync(out)) {
    if (!o.force) throw new ExportError(`${out}: already exists; choose another --out or add --force to replace it`);
    if (!statSync(out).isDirectory()) throw new ExportError(`${out}: exists and is not a folder; --force only replaces an earlier export`);
  }
  const source = openSource(o.db);
  const tmp = join(dirname(out), `.${basename(out)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  let duck: DuckDb | undefined;
  try {
    mkdirSync(tmp, { recursive: true });
    // Threads: the CPUs this process may use (taskset, cgroups), not the machine's: extra DuckDB threads on one allowed core contend.
    duck = await DuckDb.open(join(tmp, '.staging.duckdb'), { memoryLimit: o.memoryLimit ?? '128MB', tempDirectory: join(tmp, '.staging.tmp'), threads: availableParallelism() });
    const run = new ExportRun(o, source, duck, tmp, formats, wanted);
    const tables = await source.snapshot(() => run.all());
    duck.close();
    duck = undefined;
    rmSync(join(tmp, '.staging.duckdb'), { force: true });
    rmSync(join(tmp, '.staging.duckdb.wal'), { force: true });
    rmSync(join(tmp, '.native.duckdb'), { force: true });
    rmSync(join(tmp, '.native.duckdb.wal'), { force: true });
    rmSync(join(tmp, '.staging.tmp'), { recursive: true, force: true });
    const summary: ExportSummary = {
      db: source.path, kind: source.kind, out, formats, partition: o.partition ?? null, deidentified: o.deidentify ?? false,
      keepText: o.keepText ?? false, dateShifted: o.dateShiftSeed !== undefined, since: o.since ?? null, tables, warnings: run.warnings,
      seconds: 0, reader: run.reader,
    };
    writeFileSync(join(tmp, 'export.json'), `${JSON.stringify(manifest(summary, o, source), null, 2)}\n`);
    replaceDir(tmp, out);
    summary.seconds = Number(((performance.now() - t0) / 1000).toFixed(2));
    return summary;
  } catch (e) {
    try {
      duck?.close();
    } catch {
      // the staging database goes with the temporary folder
    }
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  } finally {
    source.close();
  }
}

/** Open the database read-only, refusing a truncated file and turning "locked" into one clear line. */
function openSource(file: string): AnalysisSource {
  const source = openForAnalysis(file);
  try {
    const db = sqliteHandle(source.store);
    // A second process holding a write lock: wait a little, then say so (not 5 s per statement).
    db.pragma('busy_timeout = 1000');
    const pageSize = db.pragma('page_size', { simple: true }) as number;
    const pages = db.pragma('page_count', { simple: true }) as number;
    const wal = `${source.path}-wal`;
    const walBytes = existsSync(wal) ? statSync(wal).size : 0;
    const bytes = statSync(source.path).size;
    if (walBytes === 0 && bytes < pageSize * pages) {
      throw new StoreError(`${source.path}: the file is truncated (${bytes} bytes, the database says ${pageSize * pages}); copy it again from the device`);
    }
  } catch (e) {
    source.close();
    throw sqliteProblem(source.path, e);
  }
  return source;
}

/** A SQLite failure while reading, as a `StoreError` naming the file and the problem. */
function sqliteProblem(path: string, e: unknown): unknown {
  if (e instanceof StoreError || e instanceof ExportError) return e;
  const err = e as { code?: string; message?: string };
  if (err.code === 'SQLITE_BUSY' || err.code === 'SQLITE_LOCKED') {
    return new StoreError(`${path}: the database is locked by another process; try again when it is done`, { cause: e });
  }
  if (err.code === 'SQLITE_CORRUPT' || err.code === 'SQLITE_NOTADB' || err.code === 'SQLITE_IOERR_SHORT_READ') {
    return new StoreError(`${path}: the database is damaged or truncated (${err.message}); copy it again from the device`, { cause: e });
  }
  if (typeof err.code === 'string' && err.code.startsWith('SQLITE_')) {
    return new StoreError(`${path}: cannot read the database (${err.message})`, { cause: e });
  }
  return e;
}

/** Move the finished folder into place; an existing export is moved aside first and removed after. */
function replaceDir(tmp: string, out: string): void {
  if (!existsSync(out)) {
    renameSync(tmp, out);
    return;
  }
  const old = `${tmp}.old`;
  renameSync(out, old);
  try {
    renameSync(tmp, out);
  } catch (e) {
    renameSync(old, out);
    throw e;
  }
  rmSync(old, { recursive: true, force: true });
}

function manifest(s: ExportSummary, o: ExportOptions, source: AnalysisSource): Record<string, unknown> {
  return {
    generator: o.generator ?? 'hearth', source: basename(s.db), source_kind: s.kind, schema_version: source.schemaVersion,
    devices: source.deviceIds.length, formats: s.formats, partition: s.partition, deidentified: s.deidentified, keep_text: s.keepText,
    date_shifted: s.dateShifted, since: s.since,
    missing_values: 'CSV: an empty field is a missing value (NA); an empty string is written as "". Parquet: null.',
    time_columns: 'ts_utc and *_ts_utc: UTC instants (Parquet TIMESTAMP UTC micros; CSV ISO-8601 with Z). ts_local and *_local: local time with offset as text. tz: IANA zone.',
    tables: Object.fromEntries(s.tables.map((t) => [t.name, { rows: t.rows, files: t.files, description: TABLES.find((x) => x.name === t.name)!.description }])),
    warnings: s.warnings,
  };
}

/** One export in progress: stages the tables, derives the summaries, writes files and docs. */
class ExportRun {
  readonly warnings: string[] = [];
  reader: ExportSummary['reader'] = { kind: 'js' };
  private readonly db: Database.Database;
  private readonly shifts = new Map<string, number>();
  private readonly staged = new Map<string, { columns: ColumnSpec[]; rows: number }>();

  constructor(
    private readonly o: ExportOptions,
    private readonly source: AnalysisSource,
    private readonly duck: DuckDb,
    private readonly tmp: string,
    private readonly formats: ExportFormat[],
    private readonly wanted: string[],
  ) {
    this.db = sqliteHandle(source.store);
  }

  async all(): Promise<ExportSummary['tables']> {
    const needed = new Set(this.wanted);
    if (needed.has('daily_summary')) for (const t of SUMMARY_INPUTS) needed.add(t);
    if (needed.has('survey_scores')) needed.add('survey_responses');
    const specs = TABLES.filter((spec) => needed.has(spec.name) && spec.from);
    const stager = this.o.reader === 'js' ? undefined : nativeStager();
    if (!stager && this.o.reader === 'native') throw new ExportError('--reader native: the native stager is not built (run scripts/setup.sh on a machine with g++)');
    if (!stager && (this.o.reader ?? 'auto') === 'auto') {
      this.warnings.push('the native stager is not built (scripts/build-native.sh needs g++): rows were read through better-sqlite3, several times slower');
    }
    if (stager) await this.stageNative(stager, specs);
    for (const spec of stager ? [] : specs) {
      try {
        await this.stageTable(spec);
      } catch (e) {
        throw sqliteProblem(this.source.path, e);
      }
    }
    if (needed.has('survey_scores')) await this.scores();
    if (needed.has('daily_summary')) await this.dailySummary();
    const written: ExportSummary['tables'] = [];
    for (const name of this.wanted) written.push(await this.write(name));
    this.docs(written);
    if (this.o.deidentify && this.o.dateShiftSeed === undefined) this.warnings.push('--deidentify without --date-shift: dates and times are the real ones');
    return written;
  }

  /** The columns of a table that this export writes (identifiers and free text dropped when de-identifying). */
  private kept(spec: TableSpec): ColumnSpec[] {
    return spec.columns.filter((c) => !(this.o.deidentify && (c.identifier || (c.freeText && !this.o.keepText))));
  }

  private shiftMs(participant: unknown, device: unknown): number {
    if (this.o.dateShiftSeed === undefined) return 0;
    const key = participant != null ? `participant:${String(participant)}` : `device:${String(device)}`;
    let days = this.shifts.get(key);
    if (days === undefined) {
      days = dateShiftDays(this.o.dateShiftSeed, key);
      this.shifts.set(key, days);
    }
    return days * DAY_MS;
  }

  /** The table's filter (`spec.where`, `--since`) as SQL and its parameters. */
  private filter(spec: TableSpec): { whereSql: string; params: Record<string, string> } {
    const where = [spec.where, spec.sinceDate && this.o.since ? `${spec.sinceDate} >= @since` : undefined].filter(Boolean).map((w) => `(${w})`);
    return { whereSql: where.length ? ` WHERE ${where.join(' AND ')}` : '', params: this.o.since && spec.sinceDate ? { since: this.o.since } : {} };
  }

  /**
   * Stage every table through the native stager (one process, one read transaction: one snapshot),
   * into its own DuckDB file attached read-only, and define each table's decoded view over it. Values
   * leave SQLite as stored; DuckDB decodes times, shifts dates and types the columns.
   */
  private async stageNative(bin: string, specs: readonly TableSpec[]): Promise<void> {
    const shifting = this.o.dateShiftSeed !== undefined;
    const plans = new Map<string, { columns: ColumnSpec[]; plans: ReturnType<typeof planNativeColumn>[] }>();
    const jobs: NativeJob[] = [];
    const totals = new Map<string, number>();
    for (const spec of specs) {
      const columns = this.kept(spec);
      const shiftCols = shifting ? ['participant_id', 'device_id'].map((n) => spec.columns.find((c) => c.name === n)!) : [];
      const dict = (col: string) => `dict__${spec.name}__${col}`;
      const tz = columns.find((c) => c.name === 'tz');
      const shift = shifting ? { shiftDays: `coalesce(map_extract_value(getvariable(${duckString(`shift__${spec.name}`)}), `
        + `CASE WHEN "__pid" IS NOT NULL THEN 'participant:' || "__pid" ELSE 'device:' || "__dev" END), 0)`, zone: tz ? planNativeColumn(tz, dict).decode : undefined } : undefined;
      const p = columns.map((c) => planNativeColumn(c, dict, shift));
      plans.set(spec.name, { columns, plans: p });
      const { whereSql } = this.filter(spec);
      const selects = [...p.map((x) => x.sql), ...shiftCols.map((c) => c.sql!)];
      jobs.push({
        table: `stage__${spec.name}`,
        columns: [...p.map((x) => ({ name: x.spec.name, kind: x.kind })), ...(shifting ? [{ name: '__pid', kind: 't' as const }, { name: '__dev', kind: 't' as const }] : [])],
        sql: `SELECT ${selects.join(', ')} FROM ${spec.from}${whereSql} ORDER BY ${spec.orderBy}`,
      });
      if (this.o.onProgress) {
        const { params } = this.filter(spec);
        totals.set(`stage__${spec.name}`, this.db.prepare(`SELECT COUNT(*) FROM ${spec.from}${whereSql}`).pluck().get(params) as number);
      }
    }
    const file = join(this.tmp, '.native.duckdb');
    const progress = this.o.onProgress;
    const result = await runNativeStage(bin, this.source.path, file, {
      memoryLimit: this.o.memoryLimit ?? '128MB', tempDirectory: join(this.tmp, '.native.tmp'), since: this.o.since,
      onRows: progress ? (table, done) => progress({ table: table.replace(/^stage__/, ''), phase: 'read', done, total: totals.get(table) ?? done }) : undefined,
    }, jobs);
    this.reader = { kind: 'native', peakRssMb: Math.round(result.peakRssKb / 1024) };
    await this.duck.run(`ATTACH ${duckString(file)} AS native (READ_ONLY)`);
    for (const spec of specs) {
      const { columns, plans: p } = plans.get(spec.name)!;
      const staged = `native.${duckIdent(`stage__${spec.name}`)}`;
      for (const x of p) {
        if (x.kind !== 'c') continue;
        const values = `native.${duckIdent(`stage__${spec.name}__dict__${x.spec.name}`)}`;
        await this.duck.run(`SET VARIABLE ${duckIdent(`dict__${spec.name}__${x.spec.name}`)} = (SELECT COALESCE(list(v ORDER BY k), []::VARCHAR[]) FROM ${values})`);
      }
      if (shifting) {
        const keys = await this.duck.all(`SELECT DISTINCT "__pid" AS pid, "__dev" AS dev FROM ${staged}`);
        const entries = keys.map((k) => {
          const key = k.pid != null ? `participant:${String(k.pid)}` : `device:${String(k.dev)}`;
          return [key, this.shiftMs(k.pid, k.dev) / DAY_MS] as const;
        });
        const map = entries.length ? `MAP([${entries.map(([k]) => duckString(k)).join(', ')}], [${entries.map(([, d]) => String(d)).join(', ')}])` : 'MAP([]::VARCHAR[], []::INTEGER[])';
        await this.duck.run(`SET VARIABLE ${duckIdent(`shift__${spec.name}`)} = ${map}`);
        for (const x of p) {
          if (!x.dropped) continue;
          const [{ n }] = (await this.duck.all(`SELECT COUNT(*) AS n FROM ${staged} WHERE ${x.dropped}`)) as [{ n: bigint | number }];
          if (Number(n)) this.warnings.push(`${spec.name}: ${Number(n)} local time(s) not in Hearth's layout could not be date-shifted and are missing`);
        }
      }
      await this.duck.run(`CREATE OR REPLACE VIEW ${duckIdent(`v__${spec.name}`)} AS SELECT ${p.map((x) => `${x.decode} AS ${duckIdent(x.spec.name)}`).join(', ')} FROM ${staged}`);
      this.staged.set(spec.name, { columns, rows: result.rows.get(`stage__${spec.name}`) ?? 0 });
      progress?.({ table: spec.name, phase: 'read', done: this.staged.get(spec.name)!.rows, total: this.staged.get(spec.name)!.rows });
    }
  }

  /**
   * Stream one table from SQLite into a DuckDB staging table and define its decoded view. With
   * `pack`, the table's category columns (and the participant and device that key the date shift)
   * travel as one context key per row, coded once per distinct tuple; a value that defeats the key
   * (it holds U+001F) makes the table go again without packing.
   */
  private async stageTable(spec: TableSpec, pack = true): Promise<void> {
    const columns = this.kept(spec);
    const shifting = this.o.dateShiftSeed !== undefined;
    const dictName = (col: string) => `dict__${spec.name}__${col}`;
    const tz = columns.find((c) => c.name === 'tz');
    const packed = pack ? columns.filter((c) => c.type === 'category') : [];
    const zone = shifting && tz ? planColumn(tz, dictName, undefined, { packed: packed.includes(tz) }).decode : undefined;
    const plans: ColumnPlan[] = columns.map((c) => planColumn(c, dictName, zone, { packed: packed.includes(c), localAsText: !shifting }));
    // The date shift is keyed by participant (by device before enrolment): read them even when not exported.
    const pidSpec = spec.columns.find((c) => c.name === 'participant_id')!;
    const devSpec = spec.columns.find((c) => c.name === 'device_id')!;
    // The participant and device key the date shift: in the context already when they are exported, else added to it.
    const contextCols = packed.map((c) => c.sql!);
    const keyAt = (spec: ColumnSpec) => (packed.includes(spec) ? packed.indexOf(spec) : contextCols.push(spec.sql!) - 1);
    const pidKey = keyAt(pidSpec);
    const devKey = keyAt(devSpec);
    const selects: Selected[] = [...(pack ? [{ sql: contextSql(contextCols), op: Op.Hidden }] : []), ...plans.flatMap((p) => p.selects)];
    // Packed categories are staged first (their codes come from the context), then the selected values in order.
    const packedPlans = plans.filter((p) => packed.includes(p.spec));
    const stagedCols: StagedColumn[] = [...packedPlans.flatMap((p) => p.staged), ...plans.filter((p) => !packed.includes(p.spec)).flatMap((p) => p.staged)];
    let pidAt = -1;
    let devAt = -1;
    if (!pack) {
      pidAt = columns.includes(pidSpec) ? selects.findIndex((x) => x.staged === 'participant_id') : -1;
      devAt = columns.includes(devSpec) ? selects.findIndex((x) => x.staged === 'device_id') : -1;
      if (pidAt < 0) pidAt = selects.push({ sql: pidSpec.sql!, op: Op.Hidden }) - 1;
      if (devAt < 0) devAt = selects.push({ sql: devSpec.sql!, op: Op.Hidden }) - 1;
    }
    const { whereSql, params } = this.filter(spec);
    const total = (this.db.prepare(`SELECT COUNT(*) FROM ${spec.from}${whereSql}`).pluck().get(params) as number);
    const stmt = this.db.prepare(`SELECT ${selects.map((x) => x.sql).join(', ')} FROM ${spec.from}${whereSql} ORDER BY ${spec.orderBy}`).raw(true);
    const writer = await this.duck.stage(`stage__${spec.name}`, stagedCols);
    const ops = selects.map((x) => x.op);
    const dicts = ops.map((op) => (op === Op.Category ? new Map<string, number>() : null));
    // Context keys: code by key; per code, each packed column's dictionary code and the date shift.
    const contexts = new Map<string, number>();
    const columnDicts = packed.map(() => new Map<string, number>());
    const contextCodes: (number | null)[][] = [];
    const contextShift: number[] = [];
    const row: (number | string | null)[] = new Array(stagedCols.length);
    let done = 0;
    let dropped = 0;
    const progress = this.o.onProgress;
    progress?.({ table: spec.name, phase: 'read', done: 0, total });
    for (const values of stmt.iterate(params) as Iterable<unknown[]>) {
      let shift = 0;
      let first = 0;
      if (pack) {
        const key = values[0] as string;
        let code = contexts.get(key);
        if (code === undefined) {
          const parts = splitContext(key, contextCols.length);
          if (!parts) {
            writer.close();
            return this.stageTable(spec, false);
          }
          code = contextCodes.length;
          contexts.set(key, code);
          contextCodes.push(packed.map((_, j) => {
            const v = parts[j]!;
            if (v === null) return null;
            let c = columnDicts[j]!.get(v);
            if (c === undefined) {
              c = columnDicts[j]!.size;
              columnDicts[j]!.set(v, c);
            }
            return c;
          }));
          contextShift.push(shifting ? this.shiftMs(parts[pidKey], parts[devKey]) : 0);
        }
        const codes = contextCodes[code]!;
        for (let j = 0; j < codes.length; j++) row[j] = codes[j]!;
        shift = contextShift[code]!;
        first = 1;
      } else if (shifting) {
        shift = this.shiftMs(values[pidAt], values[devAt]);
      }
      let k = packed.length;
      for (let i = first; i < ops.length; i++) {
        const v = values[i];
        switch (ops[i]) {
          case Op.Number:
            row[k++] = v === null || v === undefined ? null : typeof v === 'number' ? v : Number(v);
            break;
          case Op.Category: {
            if (v === null || v === undefined) row[k++] = null;
            else {
              const dict = dicts[i]!;
              const key = String(v);
              let code = dict.get(key);
              if (code === undefined) {
                code = dict.size;
                dict.set(key, code);
              }
              row[k++] = code;
            }
            break;
          }
          case Op.Text:
            row[k++] = v === null || v === undefined ? null : String(v);
            break;
          case Op.Instant:
            row[k++] = v === null || v === undefined ? null : (v as number) + shift;
            break;
          case Op.Date:
            row[k++] = v === null || v === undefined ? null : shift ? addDays(String(v), shift / DAY_MS) : String(v);
            break;
          case Op.LocalOverride:
            if (v !== null && v !== undefined && shift) dropped++;
            row[k++] = v === null || v === undefined || shift ? null : String(v);
            break;
          default:
            break;
        }
      }
      writer.push(row);
      if (progress && ++done % 65_536 === 0) progress({ table: spec.name, phase: 'read', done, total });
    }
    writer.close();
    progress?.({ table: spec.name, phase: 'read', done: total, total });
    if (dropped) this.warnings.push(`${spec.name}: ${dropped} local time(s) not in Hearth's layout could not be date-shifted and are missing`);
    await this.defineDicts(selects, dicts, dictName);
    for (const [j, c] of packed.entries()) await this.defineList(dictName(c.name), [...columnDicts[j]!.keys()]);
    await this.duck.run(`CREATE OR REPLACE VIEW ${duckIdent(`v__${spec.name}`)} AS SELECT ${plans.map((p) => `${p.decode} AS ${duckIdent(p.spec.name)}`).join(', ')} FROM ${duckIdent(`stage__${spec.name}`)}`);
    this.staged.set(spec.name, { columns, rows: writer.total });
  }

  private async defineDicts(selects: Selected[], dicts: (Map<string, number> | null)[], dictName: (c: string) => string): Promise<void> {
    for (let i = 0; i < selects.length; i++) {
      const dict = dicts[i];
      if (dict) await this.defineList(dictName(selects[i]!.staged!), [...dict.keys()]);
    }
  }

  /** A DuckDB list variable `name` holding `values` in code order (a code c decodes as name[c + 1]; NULL stays NULL). */
  private async defineList(name: string, values: readonly (string | null)[]): Promise<void> {
    const w: StageWriter = await this.duck.stage(name, [{ name: 'k', kind: 'int32' }, { name: 'v', kind: 'text' }]);
    for (const [k, v] of values.entries()) w.push([k, v]);
    w.close();
    await this.duck.run(`SET VARIABLE ${duckIdent(name)} = (SELECT COALESCE(list(v ORDER BY k), []::VARCHAR[]) FROM ${duckIdent(name)})`);
    await this.duck.run(`DROP TABLE ${duckIdent(name)}`);
  }

  /**
   * Scores per session, instrument and scoring version, in DuckDB from the staged responses and the
   * protocol's rules: reverse keys applied (min + max − value), the last answer per item counts, and a
   * score is missing when fewer than the needed items were answered (as study-protocol's `scoreInstrument`).
   */
  private async scores(): Promise<void> {
    const spec = TABLES.find((t) => t.name === 'survey_scores')!;
    const columns = this.kept(spec);
    const rules = this.o.scoring ?? [];
    if (rules.length === 0) this.warnings.push('survey_scores: no scoring rules (no protocol), the table is empty');
    const w = await this.duck.stage('scoring_rules', [
      { name: 'instrument', kind: 'text' }, { name: 'scoring_version', kind: 'text' }, { name: 'score', kind: 'text' }, { name: 'method', kind: 'text' },
      { name: 'item', kind: 'text' }, { name: 'min', kind: 'double' }, { name: 'max', kind: 'double' }, { name: 'reverse', kind: 'int32' },
      { name: 'need', kind: 'int32' }, { name: 'items', kind: 'int32' },
    ]);
    for (const r of rules) {
      const need = r.minAnswered ?? (r.method === 'sum' ? r.items.length : 1);
      for (const it of r.items) w.push([r.instrument, r.scoringVersion, r.score, r.method, it.code, it.min, it.max, it.reverse ? 1 : 0, need, r.items.length]);
    }
    w.close();
    const has = (c: string) => columns.some((x) => x.name === c);
    const responses = this.staged.get('survey_responses') ? 'v__survey_responses' : null;
    const base = responses
      ? `WITH last AS (
          SELECT * FROM ${responses} QUALIFY row_number() OVER (PARTITION BY session_id, instrument, scoring_version, item ORDER BY seq DESC) = 1
        ), groups AS (
          SELECT session_id, instrument, scoring_version, any_value(participant_id) AS participant_id, max(ts_utc) AS ts_utc,
            arg_max(ts_local, ts_utc) AS ts_local, arg_max(tz, ts_utc) AS tz, arg_max(study_day, ts_utc) AS study_day,
            ${has('device_id') ? 'arg_max(device_id, ts_utc) AS device_id,' : ''} min(seq) AS first_seq
          FROM ${responses} GROUP BY ALL
        ), scored AS (
          SELECT g.session_id, g.instrument, g.scoring_version, r.score, any_value(r.method) AS method, any_value(r.need) AS need, any_value(r.items) AS items,
            count(l.value) AS answered,
            sum(CASE WHEN r.reverse = 1 THEN r.min + r.max - l.value ELSE l.value END) AS total
          FROM groups g JOIN scoring_rules r ON r.instrument = g.instrument AND r.scoring_version = g.scoring_version
          LEFT JOIN last l ON l.session_id = g.session_id AND l.instrument = g.instrument AND l.scoring_version = g.scoring_version AND l.item = r.item
          GROUP BY g.session_id, g.instrument, g.scoring_version, r.score
        )
        SELECT g.participant_id, s.session_id, s.instrument, s.scoring_version, s.score, s.method,
          CASE WHEN s.answered < s.need THEN NULL WHEN s.method = 'sum' THEN s.total WHEN s.method = 'mean' THEN s.total / s.answered
            ELSE s.total / s.answered * s.items END AS value,
          CAST(s.answered AS INTEGER) AS answered, CAST(s.items AS INTEGER) AS items, g.ts_utc, g.ts_local, g.tz, g.study_day${has('device_id') ? ', g.device_id' : ''}
        FROM scored s JOIN groups g USING (session_id, instrument, scoring_version)
        ORDER BY g.first_seq, s.instrument, s.score`
      : 'SELECT * FROM (SELECT 1) WHERE false';
    if (responses) {
      const unscored = await this.duck.all(`SELECT DISTINCT instrument || ' ' || scoring_version AS v FROM ${responses}
        WHERE (instrument, scoring_version) NOT IN (SELECT DISTINCT instrument, scoring_version FROM scoring_rules) ORDER BY 1`);
      if (unscored.length && rules.length) {
        this.warnings.push(`survey_scores: no scoring rules for ${unscored.map((r) => String(r.v)).join(', ')} in the protocol given; those are not scored`);
      }
    }
    const typed = columns.map((c) => `CAST(${responses ? duckIdent(c.name) : 'NULL'} AS ${duckType(c.type)}) AS ${duckIdent(c.name)}`).join(', ');
    await this.duck.run(`CREATE OR REPLACE TABLE v__survey_scores AS SELECT ${typed} FROM (${base})`);
    const rows = Number((await this.duck.all('SELECT COUNT(*) AS n FROM v__survey_scores'))[0]!.n);
    this.staged.set('survey_scores', { columns, rows });
  }

  /** Participant × study day, from the staged tables (so --since and --date-shift apply to it too). */
  private async dailySummary(): Promise<void> {
    const spec = TABLES.find((t) => t.name === 'daily_summary')!;
    const columns = this.kept(spec);
    const sql = `
      WITH days AS (
        SELECT participant_id, study_day FROM v__schedule_instances WHERE participant_id IS NOT NULL AND study_day IS NOT NULL
        UNION SELECT participant_id, study_day FROM v__sessions WHERE participant_id IS NOT NULL AND study_day IS NOT NULL
      ), inst AS (
        SELECT participant_id, study_day, count(*) AS planned, count(*) FILTER (status = 'expired') AS expired,
          count(*) FILTER (status = 'missed') AS missed, count(*) FILTER (status IN ('scheduled', 'delivered')) AS open
        FROM v__schedule_instances GROUP BY ALL
      ), sess AS (
        SELECT participant_id, study_day, count(*) FILTER (status <> 'missed') AS n, count(*) FILTER (status = 'completed') AS completed,
          count(*) FILTER (status = 'interrupted') AS interrupted, count(*) FILTER (status = 'started') AS started,
          count(*) FILTER (status = 'missed') AS missed, sum(duration_s) / 60.0 AS minutes
        FROM v__sessions GROUP BY ALL
      ), tr AS (
        SELECT participant_id, study_day, count(*) AS n, count(*) FILTER (speaker = 'participant') AS participant FROM v__turns GROUP BY ALL
      ), af AS (
        SELECT participant_id, study_day, count(*) AS n, avg(valence) AS valence, avg(arousal) AS arousal FROM v__affect_samples GROUP BY ALL
      ), mood AS (
        SELECT participant_id, study_day, avg(value) FILTER (score = 'valence') AS valence, avg(value) FILTER (score = 'arousal') AS arousal
        FROM v__survey_scores WHERE instrument = 'mood' GROUP BY ALL
      ), sg AS (
        SELECT participant_id, study_day, count(*) AS n, count(*) FILTER (decision <> 'pass') AS flagged FROM v__safeguard_events GROUP BY ALL
      ), inc AS (
        SELECT participant_id, study_day, count(*) AS n FROM v__safeguard_incidents GROUP BY ALL
      )
      SELECT d.participant_id, CAST(d.study_day AS INTEGER) AS study_day,
        CAST(p.start_date + CAST(d.study_day - 1 AS INTEGER) AS DATE) AS local_date, p.tz, p.condition,
        CASE WHEN coalesce(s.completed, 0) > 0 THEN 'completed' WHEN coalesce(s.interrupted, 0) > 0 THEN 'interrupted'
          WHEN coalesce(s.started, 0) > 0 THEN 'started' WHEN coalesce(i.expired, 0) > 0 THEN 'expired'
          WHEN coalesce(i.missed, 0) + coalesce(s.missed, 0) > 0 THEN 'missed' WHEN coalesce(i.open, 0) > 0 THEN 'scheduled' ELSE 'none' END AS day_status,
        CAST(coalesce(i.planned, 0) AS INTEGER) AS instances_planned, CAST(coalesce(s.n, 0) AS INTEGER) AS sessions,
        CAST(coalesce(s.completed, 0) AS INTEGER) AS sessions_completed, coalesce(s.minutes, 0.0) AS session_minutes,
        CAST(coalesce(t.n, 0) AS INTEGER) AS turns, CAST(coalesce(t.participant, 0) AS INTEGER) AS participant_turns,
        CAST(coalesce(a.n, 0) AS INTEGER) AS affect_samples, a.valence AS valence_mean, a.arousal AS arousal_mean,
        m.valence AS mood_valence, m.arousal AS mood_arousal,
        CAST(coalesce(g.n, 0) AS INTEGER) AS safeguard_checks, CAST(coalesce(g.flagged, 0) AS INTEGER) AS safeguard_flags,
        CAST(coalesce(n.n, 0) AS INTEGER) AS incidents
      FROM days d
      LEFT JOIN (SELECT participant_id, any_value(start_date) AS start_date, any_value(tz) AS tz, any_value(condition) AS condition FROM v__participants GROUP BY ALL) p USING (participant_id)
      LEFT JOIN inst i USING (participant_id, study_day) LEFT JOIN sess s USING (participant_id, study_day)
      LEFT JOIN tr t USING (participant_id, study_day) LEFT JOIN af a USING (participant_id, study_day)
      LEFT JOIN mood m USING (participant_id, study_day) LEFT JOIN sg g USING (participant_id, study_day)
      LEFT JOIN inc n USING (participant_id, study_day)
      ORDER BY d.participant_id, d.study_day`;
    await this.duck.run(`CREATE OR REPLACE TABLE v__daily_summary AS SELECT ${columns.map((c) => duckIdent(c.name)).join(', ')} FROM (${sql})`);
    const rows = Number((await this.duck.all('SELECT COUNT(*) AS n FROM v__daily_summary'))[0]!.n);
    this.staged.set('daily_summary', { columns, rows });
  }

  /** Write one table in every format; returns its files relative to the export folder. */
  private async write(name: string): Promise<ExportSummary['tables'][number]> {
    const { columns, rows } = this.staged.get(name)!;
    const view = duckIdent(`v__${name}`);
    const files: string[] = [];
    const partition = this.o.partition === 'participant' && columns.some((c) => c.name === 'participant_id');
    this.o.onProgress?.({ table: name, phase: 'write', done: 0, total: rows });
    for (const format of this.formats) {
      const select = format === 'csv' ? columns.map(csvExpression).join(', ') : columns.map((c) => duckIdent(c.name)).join(', ');
      const options = format === 'csv'
        ? "FORMAT csv, HEADER true, DELIMITER ',', NULLSTR ''"
        // Row groups of 122,880 rows (DuckDB's default, ~1 MB per column chunk for numbers): big enough
        // for fast scans, small enough that readers can skip and parallelise. Snappy, not zstd: every
        // engine decodes it, including readers without codec plugins (hyparquet, older Spark and R builds).
        : 'FORMAT parquet, COMPRESSION snappy, ROW_GROUP_SIZE 122880';
      if (partition && rows > 0) {
        const dir = join(this.tmp, name);
        await this.duck.run(`COPY (SELECT ${select} FROM ${view}) TO ${duckString(dir)} (${options}, PARTITION_BY (participant_id), FILENAME_PATTERN 'part-{i}', OVERWRITE_OR_IGNORE true)`);
        files.push(`${name}/participant_id=*/part-*.${format}`);
      } else if (partition) {
        // No rows, so no partitions: one empty file keeps the table's columns readable.
        mkdirSync(join(this.tmp, name), { recursive: true });
        await this.duck.run(`COPY (SELECT ${select} FROM ${view}) TO ${duckString(join(this.tmp, name, `part-0.${format}`))} (${options})`);
        files.push(`${name}/part-0.${format}`);
      } else {
        await this.duck.run(`COPY (SELECT ${select} FROM ${view}) TO ${duckString(join(this.tmp, `${name}.${format}`))} (${options})`);
        files.push(`${name}.${format}`);
      }
    }
    this.o.onProgress?.({ table: name, phase: 'write', done: rows, total: rows });
    return { name, rows, columns: columns.length, files };
  }

  private docs(written: ExportSummary['tables']): void {
    const tables = written.map((w) => ({ spec: TABLES.find((t) => t.name === w.name)!, columns: this.staged.get(w.name)!.columns }));
    writeFileSync(join(this.tmp, 'codebook.csv'), codebookCsv(tables));
    for (const t of tables) writeFileSync(join(this.tmp, `${t.spec.name}.json`), `${JSON.stringify(sidecar(t.columns), null, 2)}\n`);
  }
}
