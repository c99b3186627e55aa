import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, truncateSync, copyFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DateTime } from 'luxon';
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects } from 'hyparquet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckDb, SqliteStore, TABLES, type ColumnSpec, type TableSpec } from '../../../data/index.js';
import { queryFile } from '../../../test/support/read-db.js';
import { runCommand, runCommandResult } from '../../../test/support/run-command.js';
import { simulate } from '../../simulate.js';
import { register } from './export.js';

const WORDS = 'I said "no, never",\nand meant it';
let dir: string;
let db: string;
let duck: DuckDb;

/** A simulated study (2 participants × 3 days) plus rows the simulator does not make, written through data/'s ports. */
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hearth-export-'));
  db = join(dir, 'study.sqlite');
  await simulate({ participants: 2, days: 3, seed: 4, dbFile: db, hearthVersion: 'test' });
  const store = SqliteStore.open(db);
  const [p1, p2] = queryFile<{ participant_id: string; device_id: string; tz: string }>(db, 'SELECT participant_id, device_id, tz FROM participants ORDER BY participant_id');
  const s1 = queryFile<{ session_id: string; ts_utc: string }>(db, "SELECT session_id, ts_utc FROM sessions WHERE participant_id = ? AND status = 'completed' ORDER BY seq LIMIT 1", p1!.participant_id)[0]!;
  const log1 = store.forDevice({ deviceId: p1!.device_id, tz: p1!.tz, clockSource: 'simulated' });
  const t0 = Date.parse(s1.ts_utc);
  log1.recordAffectSamples(Array.from({ length: 500 }, (_, i) => ({
    atMs: t0 + i * 100, sessionId: s1.session_id, valence: i % 7 === 0 ? null : Math.sin(i) / 2, arousal: Math.cos(i) / 3, label: i % 3 ? 'neutral' : null,
    confidence: 0.5 + (i % 5) / 10, sources: { face: { v: i / 1000 } },
  })));
  log1.recordTurn({ sessionId: s1.session_id, speaker: 'participant', text: WORDS, step: 'reflection', startMs: t0 + 1000, endMs: t0 + 4000 });
  log1.recordEvent('device.heartbeat', { ok: true, battery: 0.8 }, t0 + 60_000);
  store.safeguards(log1).recordIncident({
    incidentId: 'inc-1', kind: 'crisis', severity: 'serious', participantId: p1!.participant_id, sessionId: s1.session_id, turnId: null,
    description: WORDS, robotAction: 'gave 988', checks: [{ check: 'crisis', evidence: WORDS }], harm: 'unknown', causality: 'not assessed', reportDueBy: null,
  }, t0 + 5000);
  const consent = (p: typeof p1, granted: boolean) => store.consent.record({ deviceId: p!.device_id, tz: p!.tz, clockSource: 'simulated' }, [{
    participantId: p!.participant_id, consentVersion: 1, modality: 'transcripts', granted, method: 'staff', prompt: 'May I keep what you say?', protocolHash: 'sha256:x',
  }], t0 - 1000);
  consent(p1, true);
  consent(p2, false);
  store.close();
  duck = await DuckDb.open(':memory:');
});
afterAll(() => duck?.close());

const spec = (name: string): TableSpec => TABLES.find((t) => t.name === name)!;

/** The source rows of a table, read with the export's own column expressions, keyed by the first column. */
function sourceRows(t: TableSpec): Map<string, Record<string, unknown>> {
  const sql = `SELECT ${t.columns.map((c) => `${c.sql} AS "${c.name}"`).join(', ')} FROM ${t.from}${t.where ? ` WHERE ${t.where}` : ''}`;
  return new Map(queryFile(db, sql).map((r) => [keyOf(t, r), r]));
}

/** A row's key: the first column, with the instance id for schedule instances (keyed by participant and instance). */
const keyOf = (t: TableSpec, r: Record<string, unknown>): string =>
  t.name === 'schedule_instances' ? `${String(r.participant_id)}/${String(r.instance_id)}` : String(norm(t.columns[0]!, r[t.columns[0]!.name]));

/** A value as comparable JS: instants in epoch ms, integers as numbers, booleans, dates as YYYY-MM-DD. */
function norm(c: ColumnSpec, v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (c.type === 'instant') return v instanceof Date ? v.getTime() : Date.parse(String(v));
  if (c.type === 'date') return v instanceof Date ? v.toISOString().slice(0, 10) : String(v).slice(0, 10);
  if (c.type === 'bool') return typeof v === 'boolean' ? v : Number(v) !== 0;
  if (c.type === 'int' || c.type === 'bigint') return Number(v);
  if (c.type === 'double') return Number(v);
  return String(v);
}

const RAW_TABLES = TABLES.filter((t) => t.from);

// Both readers (the native stager and better-sqlite3) must give the same files: every test runs with each.
describe.each(['native', 'js'] as const)('hearth export (%s reader)', (reader) => {
  const sub = join(tmpdir(), `hearth-export-${reader}-${process.pid}`);
  const run = (...args: string[]) => runCommand(register, 'export', '--reader', reader, '--db', db, ...args);
  beforeAll(() => mkdirSync(sub, { recursive: true }));

  it('reads through the reader asked for', async () => {
    const [line] = await run('--out', join(sub, 'which'), '--format', 'csv', '--tables', 'participants', '--json');
    expect((JSON.parse(line!) as { reader: { kind: string } }).reader.kind).toBe(reader);
  });

  it('writes every table as Parquet that DuckDB and hyparquet read back value for value, with the right logical types', async () => {
    const out = join(sub, 'parquet');
    await run('--out', out, '--format', 'parquet');
    for (const t of RAW_TABLES) {
      const file = join(out, `${t.name}.parquet`);
      const source = sourceRows(t);
      const viaDuck = await duck.all(`SELECT * FROM read_parquet('${file}')`);
      const viaHy = await parquetReadObjects({ file: await asyncBufferFromFile(file) });
      expect(viaDuck.length, t.name).toBe(source.size);
      expect(viaHy.length, t.name).toBe(source.size);
      for (const rows of [viaDuck, viaHy]) {
        for (const row of rows) {
          expect(Object.keys(row), t.name).toEqual(t.columns.map((c) => c.name));
          const src = source.get(keyOf(t, row))!;
          expect(src, `${t.name} ${String(row[t.columns[0]!.name])}`).toBeDefined();
          for (const c of t.columns) expect(norm(c, row[c.name]), `${t.name}.${c.name}`).toEqual(norm(c, src[c.name]));
        }
      }
    }
    expect(queryFile(db, 'SELECT COUNT(*) AS n FROM affect_samples')[0]!.n).toBe(500);
    const meta = await parquetMetadataAsync(await asyncBufferFromFile(join(out, 'consent_records.parquet')));
    const el = (name: string) => meta.schema.find((s) => s.name === name)!;
    expect(el('ts_utc').logical_type).toEqual({ type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MICROS' });
    expect(el('seq').type).toBe('INT64');
    expect(el('study_day').type).toBe('INT32');
    expect(el('granted').type).toBe('BOOLEAN');
    for (const c of ['modality', 'ts_local', 'tz']) {
      expect(el(c).type).toBe('BYTE_ARRAY');
      expect(el(c).converted_type ?? el(c).logical_type?.type).toMatch(/^(UTF8|STRING)$/);
    }
  });

  it('writes CSV with ISO times, empty fields for missing values, and free text quoted intact', async () => {
    const out = join(sub, 'csv');
    await run('--out', out, '--format', 'csv');
    for (const t of RAW_TABLES) {
      const rows = await duck.all(`SELECT * FROM read_csv('${join(out, `${t.name}.csv`)}', all_varchar = true, header = true)`);
      const source = sourceRows(t);
      expect(rows.length, t.name).toBe(source.size);
      for (const row of rows) {
        const src = source.get(keyOf(t, row))!;
        for (const c of t.columns) {
          const want = src[c.name] === null ? null : c.type === 'bool' ? String(src[c.name] === 1) : c.type === 'double' ? Number(src[c.name]) : String(src[c.name]);
          const got = row[c.name] === null ? null : c.type === 'double' ? Number(row[c.name]) : row[c.name];
          expect(got, `${t.name}.${c.name}`).toEqual(want);
        }
      }
    }
    expect(readFileSync(join(out, 'turns.csv'), 'utf8')).toContain('"I said ""no, never"",\nand meant it"');
    const header = readFileSync(join(out, 'sessions.csv'), 'utf8').split('\n')[0];
    expect(header).toBe(spec('sessions').columns.map((c) => c.name).join(','));
  });

  it('documents every column in codebook.csv and a BIDS sidecar per table, and summarises days', async () => {
    const out = join(sub, 'docs');
    const [line] = await run('--out', out, '--format', 'parquet', '--json');
    const summary = JSON.parse(line!) as { tables: { name: string; rows: number }[] };
    const codebook = await duck.all(`SELECT * FROM read_csv('${join(out, 'codebook.csv')}', header = true, all_varchar = true)`);
    for (const t of TABLES) {
      const cols = (await duck.all(`DESCRIBE SELECT * FROM read_parquet('${join(out, `${t.name}.parquet`)}')`)).map((r) => r.column_name);
      expect(codebook.filter((r) => r.table === t.name).map((r) => r.column), t.name).toEqual(cols);
      const side = JSON.parse(readFileSync(join(out, `${t.name}.json`), 'utf8')) as Record<string, { LongName: string }>;
      expect(Object.keys(side)).toEqual(cols);
      for (const c of cols) expect(side[c as string]!.LongName).toBeTruthy();
    }
    expect(codebook.find((r) => r.table === 'turns' && r.column === 'text')!.free_text).toBe('y');
    // memories only with consent: P002 refused transcripts.
    const mem = await duck.all(`SELECT DISTINCT participant_id FROM read_parquet('${join(out, 'memories.parquet')}')`);
    expect(mem.map((r) => r.participant_id)).not.toContain('P002');
    // daily summary: one row per participant and day, counts matching the source.
    const days = await duck.all(`SELECT * FROM read_parquet('${join(out, 'daily_summary.parquet')}') ORDER BY participant_id, study_day`);
    const planned = queryFile<{ n: number }>(db, `SELECT COUNT(*) AS n FROM (SELECT participant_id, study_day FROM schedule_instances
      UNION SELECT participant_id, study_day FROM sessions WHERE study_day IS NOT NULL)`)[0]!.n;
    expect(days).toHaveLength(planned);
    const d1 = days.find((d) => d.participant_id === 'P001' && d.study_day === 1)!;
    const turns = queryFile<{ n: number }>(db, "SELECT COUNT(*) AS n FROM turns t JOIN sessions s USING (session_id) WHERE s.participant_id = 'P001' AND t.study_day = 1")[0]!.n;
    expect(d1.turns).toBe(turns);
    expect(d1.affect_samples).toBe(500);
    expect(d1.incidents).toBe(1);
    expect(d1.day_status).toBe('completed');
    const scores = summary.tables.find((t) => t.name === 'survey_scores')!;
    expect(scores.rows).toBeGreaterThan(0);
  });

  it('--partition participant writes a hive layout that DuckDB reads as one table', async () => {
    const out = join(sub, 'hive');
    await run('--out', out, '--format', 'parquet', '--partition', 'participant', '--tables', 'turns,sessions');
    expect(readdirSync(join(out, 'turns')).sort()).toEqual(['participant_id=P001', 'participant_id=P002']);
    expect(readdirSync(join(out, 'turns', 'participant_id=P001'))).toEqual(['part-0.parquet']);
    const [{ n, p }] = await duck.all(`SELECT COUNT(*) AS n, COUNT(DISTINCT participant_id) AS p FROM read_parquet('${join(out, 'turns')}/*/*.parquet', hive_partitioning = true)`) as [{ n: bigint; p: bigint }];
    expect(Number(n)).toBe(queryFile<{ n: number }>(db, 'SELECT COUNT(*) AS n FROM turns')[0]!.n);
    expect(Number(p)).toBe(2);
  });

  it('--deidentify --date-shift drops identifiers and free text and shifts each participant by whole weeks, keeping intervals and study days', async () => {
    const out = join(sub, 'deid');
    // This seed moves P001's December (Los Angeles, -08:00) into June, across a daylight-saving change.
    await run('--out', out, '--deidentify', '--date-shift', 'seed-11');
    const cols = (await duck.all(`DESCRIBE SELECT * FROM read_parquet('${join(out, 'turns.parquet')}')`)).map((r) => r.column_name);
    expect(cols).not.toContain('text');
    expect(cols).not.toContain('device_id');
    expect(readFileSync(join(out, 'safeguard_incidents.csv'), 'utf8')).not.toContain('never');
    const shifted = await duck.all(`SELECT session_id, started_ts_utc, ended_ts_utc, study_day, ts_local, tz FROM read_parquet('${join(out, 'sessions.parquet')}') WHERE started_ts_utc IS NOT NULL`);
    const real = new Map(queryFile<{ session_id: string; started_ts_utc: string; ended_ts_utc: string; study_day: number }>(db, 'SELECT * FROM sessions').map((r) => [r.session_id, r]));
    const offsets = new Map<string, number>();
    const zoneOffsets = new Set<string>();
    for (const s of shifted) {
      const r = real.get(String(s.session_id))!;
      const delta = Date.parse(r.started_ts_utc) - (s.started_ts_utc as Date).getTime();
      expect(delta % (7 * 86_400_000)).toBe(0);
      expect(delta).toBeGreaterThanOrEqual(52 * 7 * 86_400_000);
      if (r.ended_ts_utc) expect((s.ended_ts_utc as Date).getTime() - (s.started_ts_utc as Date).getTime()).toBe(Date.parse(r.ended_ts_utc) - Date.parse(r.started_ts_utc));
      expect(s.study_day).toBe(r.study_day);
      expect(Date.parse(String(s.ts_local))).toBe((s.started_ts_utc as Date).getTime());
      // The offset is the zone's on the shifted date (December data shifted into summer reads -04:00 in New York).
      expect(String(s.ts_local).slice(-6)).toBe(DateTime.fromJSDate(s.started_ts_utc as Date, { zone: String(s.tz) }).toFormat('ZZ'));
      zoneOffsets.add(String(s.ts_local).slice(-6));
      offsets.set(String(s.session_id).slice(0, 4), delta);
    }
    expect(new Set(offsets.values()).size).toBe(2);
    expect([...zoneOffsets].sort()).toEqual(['+09:00', '-07:00']);
    const manifest = JSON.parse(readFileSync(join(out, 'export.json'), 'utf8'));
    expect(JSON.stringify(manifest)).not.toContain('seed-11');
    expect(manifest.date_shifted).toBe(true);
  });

  it('--since keeps rows from that local date on', async () => {
    const out = join(sub, 'since');
    const [line] = await run('--out', out, '--format', 'csv', '--since', '2026-12-03', '--tables', 'sessions,participants', '--json');
    const summary = JSON.parse(line!) as { tables: { name: string; rows: number }[] };
    const want = queryFile<{ n: number }>(db, "SELECT COUNT(*) AS n FROM sessions WHERE substr(ts_local, 1, 10) >= '2026-12-03'")[0]!.n;
    expect(summary.tables.find((t) => t.name === 'sessions')!.rows).toBe(want);
    expect(summary.tables.find((t) => t.name === 'participants')!.rows).toBe(2);
  });

  it('refuses an existing --out unless --force, then replaces it whole', async () => {
    const out = join(sub, 'again');
    await run('--out', out, '--format', 'csv', '--tables', 'participants');
    writeFileSync(join(out, 'stale.txt'), 'x');
    const refused = await runCommandResult(register, 'export', '--reader', reader, '--db', db, '--out', out, '--format', 'csv');
    expect(String(refused.error)).toMatch(/again: already exists; .*--force/);
    expect(existsSync(join(out, 'stale.txt'))).toBe(true);
    await run('--out', out, '--format', 'csv', '--tables', 'participants', '--force');
    expect(existsSync(join(out, 'stale.txt'))).toBe(false);
    expect(readdirSync(sub).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  it('bad input: one line naming the file or listing valid values, nothing written', async () => {
    const bad = async (...args: string[]) => (await runCommandResult(register, 'export', '--reader', reader, ...args)).error as Error & { exitCode?: number };
    const out = join(sub, 'never');
    expect(String(await bad('--db', db, '--out', out, '--format', 'xlsx'))).toMatch(/unknown format "xlsx"; valid formats: csv, parquet/);
    expect(String(await bad('--db', db, '--out', out, '--tables', 'turns,moods'))).toMatch(/unknown table "moods"; valid tables: participants, sessions/);
    const foreign = join(sub, 'foreign.sqlite');
    writeFileSync(foreign, 'not a database at all, just text');
    expect(String(await bad('--db', foreign, '--out', out))).toMatch(/foreign\.sqlite: not a readable Hearth database/);
    const truncated = join(sub, 'truncated.sqlite');
    copyFileSync(db, truncated);
    truncateSync(truncated, Math.floor(statSync(truncated).size / 2));
    const err = await bad('--db', truncated, '--out', out);
    expect(err.name).toBe('StoreError');
    expect(err.message).toMatch(/truncated\.sqlite: .*(truncated|damaged|malformed)/);
    expect(existsSync(out)).toBe(false);
    mkdirSync(join(sub, 'empty-dir'));
    expect(readdirSync(sub).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  it('category values that defeat the packed context key (U+001F inside) still export exactly', async () => {
    const odd = join(sub, 'odd.sqlite');
    copyFileSync(db, odd);
    const store = SqliteStore.open(odd);
    const p = queryFile<{ device_id: string; tz: string }>(odd, 'SELECT device_id, tz FROM participants ORDER BY participant_id LIMIT 1')[0]!;
    const log = store.forDevice({ deviceId: p.device_id, tz: p.tz, clockSource: 'simulated' });
    log.recordEvent('device.odd\u001fkind', { ok: true }, Date.UTC(2026, 11, 2, 12));
    log.recordEvent('device.plain', { ok: true }, Date.UTC(2026, 11, 2, 12, 1));
    store.close();
    const out = join(sub, 'odd-out');
    await runCommand(register, 'export', '--reader', reader, '--db', odd, '--out', out, '--format', 'parquet', '--tables', 'device_health');
    const kinds = (await duck.all(`SELECT kind FROM read_parquet('${join(out, 'device_health.parquet')}') ORDER BY event_id`)).map((r) => r.kind);
    expect(kinds).toEqual(queryFile<{ kind: string }>(odd, "SELECT kind FROM events WHERE kind LIKE 'device.%' ORDER BY event_id").map((r) => r.kind));
    expect(kinds).toContain('device.odd\u001fkind');
  });

  it('a database locked by another process: one line saying so, nothing written', async () => {
    const locked = join(sub, 'locked.sqlite');
    copyFileSync(db, locked);
    // Another process holding the file exclusively (a device runtime in exclusive locking mode mid-write).
    const holder = spawn(process.execPath, ['-e', `
      const db = new (require('better-sqlite3'))(${JSON.stringify(locked)});
      db.pragma('locking_mode = EXCLUSIVE'); db.exec('BEGIN EXCLUSIVE'); db.exec("UPDATE devices SET hearth_version = hearth_version");
      process.stdout.write('locked\\n'); setTimeout(() => {}, 60000);`], { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      await new Promise<void>((resolve, reject) => {
        holder.stdout!.on('data', (b: Buffer) => b.toString().includes('locked') && resolve());
        holder.on('exit', (code) => reject(new Error(`lock holder exited ${code}`)));
      });
      const out = join(sub, 'locked-out');
      const err = (await runCommandResult(register, 'export', '--reader', reader, '--db', locked, '--out', out)).error as Error & { exitCode?: number };
      expect(err.message).toMatch(/locked\.sqlite: the database is locked by another process; try again when it is done/);
      expect(existsSync(out)).toBe(false);
      expect(readdirSync(sub).filter((f) => f.includes('.tmp-'))).toEqual([]);
    } finally {
      holder.kill();
    }
  });
});
