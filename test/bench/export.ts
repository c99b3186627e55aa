/**
 * `npm run bench:export`: time `hearth export --format parquet` on a 30-participant × 30-day study with
 * at least 5 million affect samples, against the path a researcher would take by hand on the same file
 * (`sqlite3 -csv` of the same tables, then DuckDB `COPY (SELECT * FROM read_csv(…)) TO '….parquet'`).
 * Prints JSON lines; targets: Hearth's time ÷ the by-hand time ≤ 1.0, peak RSS ≤ 500 MB.
 *
 * The study database is generated once and kept in $TMPDIR/hearth-bench-export/ (delete it to regenerate):
 * `simulate()` runs the 30 participants through the bundled protocol (sessions, turns, answers,
 * safeguard checks, memories: the real runtime), then synthetic affect samples are added through
 * data/'s DeviceLog.recordAffectSamples at 10 Hz from each session's start, for as many seconds per
 * session as it takes to reach 5 million (about 10 minutes each; the simulator's sessions are 6–9 minutes,
 * so the last samples of a session can fall after its end). Fusion's real sample rate is lower; 10 Hz is
 * the stress case the issue asks for.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DuckDb, SqliteStore, type NewAffectSample } from '../../data/index.js';
import { simulate } from '../../runtime/simulate.js';
import { queryFile } from '../support/read-db.js';

const PARTICIPANTS = 30;
const DAYS = 30;
const AFFECT_TARGET = 5_000_000;
const root = resolve(import.meta.dirname, '..', '..');
const work = join(tmpdir(), 'hearth-bench-export');
const db = join(work, `study-${PARTICIPANTS}x${DAYS}.sqlite`);
const line = (o: Record<string, unknown>) => console.log(JSON.stringify(o));

async function generate(): Promise<void> {
  const t0 = performance.now();
  const partial = `${db}.partial`;
  rmSync(partial, { force: true });
  await simulate({ participants: PARTICIPANTS, days: DAYS, seed: 11, dbFile: partial, hearthVersion: 'bench' });
  const tSim = performance.now();
  const sessions = queryFile<{ session_id: string; started_ts_utc: string; device_id: string; tz: string }>(partial,
    "SELECT session_id, started_ts_utc, device_id, tz FROM sessions WHERE started_ts_utc IS NOT NULL ORDER BY seq");
  const perSession = Math.ceil(AFFECT_TARGET / sessions.length);
  const store = SqliteStore.open(partial, { durability: 'crash' });
  let n = 0;
  for (const s of sessions) {
    const log = store.forDevice({ deviceId: s.device_id, tz: s.tz, clockSource: 'simulated' });
    const t = Date.parse(s.started_ts_utc);
    for (let from = 0; from < perSession; from += 10_000) {
      const batch: NewAffectSample[] = [];
      for (let i = from; i < Math.min(perSession, from + 10_000); i++) {
        batch.push({
          atMs: t + i * 100, sessionId: s.session_id, valence: i % 50 === 0 ? null : Math.sin(i / 300) * 0.6, arousal: Math.cos(i / 170) * 0.4,
          label: i % 3 === 0 ? 'neutral' : i % 3 === 1 ? 'happy' : 'sad', confidence: 0.4 + (i % 60) / 100,
          sources: { face: { v: Math.round(Math.sin(i) * 1000) / 1000, c: 0.7 }, voice: { v: 0.1, c: 0.5 } },
        });
      }
      log.recordAffectSamples(batch);
      n += batch.length;
    }
  }
  store.close();
  renameSync(partial, db);
  line({ step: 'generate', participants: PARTICIPANTS, days: DAYS, sessions: sessions.length, affect_samples: n,
    simulate_s: +((tSim - t0) / 1000).toFixed(1), affect_insert_s: +((performance.now() - tSim) / 1000).toFixed(1), bytes: statSync(db).size });
}

/** Run a command, returning wall seconds and (for node children) the peak RSS it reported. */
function timed(cmd: string, args: string[], opts: { stdout?: string } = {}): { seconds: number; stderr: string; stdout: string } {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { cwd: root, encoding: 'utf8', maxBuffer: 1 << 26, shell: opts.stdout !== undefined });
  const seconds = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return { seconds, stderr: r.stderr, stdout: r.stdout };
}

// A preload that reports the child's peak resident set (all of it: V8, SQLite and DuckDB's native memory).
const RSS_HOOK = 'data:text/javascript,process.on("exit",()=>process.stderr.write("\\nmaxrss_kb="+process.resourceUsage().maxRSS+"\\n"))';

/** Resident kB of a process and all its descendants now, from /proc (0 for one that has gone). */
function treeRssKb(pid: number): number {
  let kb = 0;
  try {
    kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      for (const child of readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim().split(/\s+/).filter(Boolean)) kb += treeRssKb(Number(child));
    }
  } catch {
    // the process ended between reads
  }
  return kb;
}

/**
 * Run a command to the end, sampling the resident memory of it and its children together every 10 ms:
 * the stager and the exporting node process overlap (node waits, holding its DuckDB, while the stager
 * runs), so what the machine must hold at once is the peak of the sum, not either process's own peak.
 */
function sampled(cmd: string, args: string[]): Promise<{ seconds: number; stdout: string; stderr: string; treePeakKb: number; samples: number }> {
  return new Promise((done, fail) => {
    const t0 = performance.now();
    const child = spawn(cmd, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    let treePeakKb = 0;
    let samples = 0;
    const timer = setInterval(() => {
      treePeakKb = Math.max(treePeakKb, treeRssKb(child.pid!));
      samples++;
    }, 10);
    child.on('error', fail);
    child.on('close', (code) => {
      clearInterval(timer);
      if (code !== 0) return fail(new Error(`${cmd} ${args.join(' ')} failed (${code}): ${stderr}`));
      done({ seconds: (performance.now() - t0) / 1000, stdout, stderr, treePeakKb, samples });
    });
  });
}

mkdirSync(work, { recursive: true });
if (!existsSync(db)) await generate();
const rows = queryFile<{ n: number }>(db, 'SELECT COUNT(*) AS n FROM affect_samples')[0]!.n;
line({ step: 'database', file: db, bytes: statSync(db).size, affect_samples: rows });

// Hearth: the command a researcher runs (bin/hearth.js, the compiled CLI), in its own process; built first, not timed.
timed('npm', ['run', '--silent', 'build']);
const out = join(work, 'hearth-export');
rmSync(out, { recursive: true, force: true });
const hearth = await sampled(process.execPath, ['--import', RSS_HOOK, 'bin/hearth.js', 'export', '--db', db, '--out', out, '--format', 'parquet', '--json']);
const nodeRssMb = Number(/maxrss_kb=(\d+)/.exec(hearth.stderr)?.[1] ?? NaN) / 1024;
const summary = JSON.parse(hearth.stdout.trim().split('\n').at(-1)!) as {
  tables: { name: string; rows: number }[]; seconds: number; reader: { kind: 'native' | 'js'; peakRssMb?: number };
};
// The bound: the sampled peak of both processes together, and never less than either one's own exact peak
// (getrusage), which a 10 ms sample could miss.
const rssMb = Math.max(hearth.treePeakKb / 1024, nodeRssMb, summary.reader.peakRssMb ?? 0);
line({ step: 'hearth_export', seconds: +hearth.seconds.toFixed(2), export_reported_s: summary.seconds, reader: summary.reader.kind,
  node_peak_rss_mb: +nodeRssMb.toFixed(0), stager_peak_rss_mb: summary.reader.peakRssMb ?? null,
  together_peak_rss_mb: +(hearth.treePeakKb / 1024).toFixed(0), rss_samples: hearth.samples, peak_rss_mb: +rssMb.toFixed(0),
  rows: summary.tables.reduce((a, t) => a + t.rows, 0), tables: summary.tables.length });

// By hand: the same source tables dumped with sqlite3 -csv, then DuckDB read_csv → Parquet.
const SOURCE_TABLES = ['participants', 'sessions', 'schedule_instances', 'turns', 'affect_samples', 'responses', 'safeguard_events',
  'safeguard_incidents', 'consent_records', 'memories', 'events'];
const hand = join(work, 'by-hand');
rmSync(hand, { recursive: true, force: true });
mkdirSync(hand);
let dumpS = 0;
for (const t of SOURCE_TABLES) dumpS += timed(`sqlite3 -csv -header '${db}' 'SELECT * FROM ${t}' > '${join(hand, `${t}.csv`)}'`, [], { stdout: '' }).seconds;
const duck = await DuckDb.open(':memory:');
const tDuck = performance.now();
for (const t of SOURCE_TABLES) await duck.run(`COPY (SELECT * FROM read_csv('${join(hand, `${t}.csv`)}')) TO '${join(hand, `${t}.parquet`)}' (FORMAT parquet)`);
const duckS = (performance.now() - tDuck) / 1000;
duck.close();
const handS = dumpS + duckS;
line({ step: 'by_hand', seconds: +handS.toFixed(2), sqlite3_csv_s: +dumpS.toFixed(2), duckdb_csv_to_parquet_s: +duckS.toFixed(2) });

const ratio = hearth.seconds / handS;
line({ step: 'result', ratio: +ratio.toFixed(2), target_ratio: 1.0, peak_rss_mb: +rssMb.toFixed(0), target_rss_mb: 500, ok: ratio <= 1.0 && rssMb <= 500 });
rmSync(out, { recursive: true, force: true });
rmSync(hand, { recursive: true, force: true });
