// bench:server — issue 12, "Performance": 50 devices × 30 days uploaded at once to `hearth serve` on
// loopback, against `hearth collect` of the same 50 files in the same run.
//
// - The server is the real CLI (`hearth serve`, tsx) in its own process; its peak RSS is VmHWM from
//   /proc/PID/status, read after the last upload. Each device runs the real uplink (runtime/uplink,
//   HTTP transport, default 5,000-row increments), all 50 in this process, started together.
// - Ingest rows/s = rows the server holds when every uplink has caught up ÷ seconds from start to
//   then; p95 latency is over every batch upload (request sent → answer read, as the uplink sees it).
// - Then `hearth collect --json` (the real CLI, own process) of the same 50 files into a new study
//   database; its rows/s is rows added ÷ the seconds it reports. Ratio = ingest ÷ collect.
// Targets: ratio ≥ 1.0, p95 ≤ 250 ms, server peak RSS ≤ 300 MB. No taskset: the server and the 50
// devices share the machine's cores as a study server and its test harness would.
//
// Device files (SimulatedDevice from test/support/device-month.ts: per day 40 turns with their
// safeguard checks, 300 affect samples, 8 answers, a memory, a value; incidents on some days; about
// 12,000 rows a device) are made once and kept in $TMPDIR/hearth-bench-server-50x30/ (BENCH_FRESH=1
// makes them again). Each run uploads copies, since the uplink writes its own events into them.
//
// Measured 2026-12-02 on the shared 2-core machine while other engineers' tests ran (load average 1.6
// and 4.1 at the start of the two recorded runs): see runtime/server/README.md, "Scale and performance".
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { buildIncrement, openStudyStore, SqliteStore, uplinkBacklog } from '../../data/index.js';
import { ServerRecords } from '../../data/server/index.js';
import { freshUplinkState, type UplinkState } from '../../runtime/uplink/config.js';
import { enrollDevice, HttpUplinkTransport } from '../../runtime/uplink/http-transport.js';
import type { BatchUpload, UplinkTransport } from '../../runtime/uplink/transport.js';
import { DEFAULT_MAX_ROWS, Uplink } from '../../runtime/uplink/uplink.js';
import { DAY_MS, MONTH_T0, SimulatedDevice } from '../support/device-month.js';

const DEVICES = Number(process.env.BENCH_DEVICES ?? 50);
const DAYS = 30;
const SHAPE = { turns: 40, affectSamples: 300, responses: 8 };
const TARGETS = { ratio: 1.0, p95Ms: 250, rssMb: 300 };
const root = resolve(import.meta.dirname, '..', '..');
const line = (o: Record<string, unknown>) => console.log(JSON.stringify({ bench: 'server', ...o }));
const deviceId = (i: number) => `dev-${String(i).padStart(3, '0')}`;
const fileOf = (dir: string, i: number) => join(dir, `${deviceId(i)}.sqlite`);

// A generator child: `server.ts --make DIR FIRST LAST` writes devices FIRST..LAST.
if (process.argv[2] === '--make') {
  const [dir, first, last] = [process.argv[3]!, Number(process.argv[4]), Number(process.argv[5])];
  for (let i = first; i <= last; i++) {
    for (const f of readdirSync(dir)) if (f.startsWith(`${deviceId(i)}.sqlite`)) rmSync(join(dir, f));
    const d = new SimulatedDevice(fileOf(dir, i), deviceId(i), `P${String(i).padStart(3, '0')}`).liveMonth(DAYS, SHAPE, i % 4 === 0 ? [9, 23] : []);
    d.store.close();
  }
  process.exit(0);
}

// BENCH_PROFILE=DIR: each server writes a V8 CPU profile into DIR when it stops.
const profile = process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : [];
const exitOf = (child: ChildProcess, what: string) => new Promise<void>((ok, fail) => child.on('exit', (code, signal) => (code === 0 || signal === 'SIGTERM' ? ok() : fail(new Error(`${what} exited ${code ?? signal}`)))));

const cache = join(tmpdir(), `hearth-bench-server-${DEVICES}x${DAYS}`);
const sources = Array.from({ length: DEVICES }, (_, i) => fileOf(cache, i + 1));
const cached = !process.env.BENCH_FRESH && sources.every((f) => existsSync(f));
const tGen = performance.now();
if (!cached) {
  rmSync(cache, { recursive: true, force: true });
  mkdirSync(cache, { recursive: true });
  const workers = Math.max(1, Math.min(availableParallelism(), DEVICES));
  const per = Math.ceil(DEVICES / workers);
  await Promise.all(Array.from({ length: workers }, (_, w) => {
    const first = w * per + 1;
    const last = Math.min(DEVICES, first + per - 1);
    if (first > last) return Promise.resolve();
    const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--make', cache, String(first), String(last)], { stdio: 'inherit' });
    return exitOf(child, `generator ${first}-${last}`);
  }));
}
line({ phase: 'generate', devices: DEVICES, days: DAYS, cached, seconds: round((performance.now() - tGen) / 1000), mb: round(sources.reduce((n, f) => n + statSync(f).size, 0) / 1e6), load_average: loadavg().map(round) });

// This run's copies, uploaded and then collected.
const work = join(cache, 'run');
rmSync(work, { recursive: true, force: true });
mkdirSync(work);
const files = sources.map((f, i) => {
  const to = fileOf(work, i + 1);
  copyFileSync(f, to);
  return to;
});

/** A running `hearth serve` (the real CLI, its own process) on a fresh study database with codes for every device. */
async function startServe(name: string): Promise<{ url: string; pid: number; db: string; codes: string[]; stop(): Promise<void> }> {
  const db = join(work, `${name}.sqlite`);
  // Enrollment codes are made on the study database before the server opens it (as `hearth serve enroll` does).
  const setup = openStudyStore(db);
  const records = ServerRecords.open(setup);
  const codes = files.map((_, i) => records.createEnrollmentCode({ deviceId: deviceId(i + 1), expiresInMs: 3_600_000, createdBy: 'bench' }).code);
  setup.close();
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', ...profile, 'runtime/cli/main.ts', 'serve', '--db', db, '--listen', `127.0.0.1:${port}`], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = exitOf(child, 'hearth serve');
  const url = await new Promise<string>((ok, fail) => {
    let out = '';
    child.stdout!.on('data', (b: Buffer) => {
      out += b.toString();
      const m = /hearth serve: (http:\/\/\S+)/.exec(out);
      if (m) ok(m[1]!);
    });
    child.on('exit', (code) => fail(new Error(`hearth serve exited ${code} before listening: ${out}`)));
  });
  return { url, pid: child.pid!, db, codes, stop: async () => { child.kill('SIGTERM'); await exited; } };
}

/**
 * Wait until the server has merged `batches` uploads (it acknowledges on durable receipt and merges
 * behind, runtime/server/merge-queue.ts): poll its study database's collection records, read-only.
 * Returns the rows the merges added or updated.
 */
async function merged(db: string, batches: number): Promise<number> {
  const reader = new Database(db, { readonly: true, fileMustExist: true });
  try {
    for (;;) {
      const n = (reader.prepare('SELECT COUNT(*) AS n FROM collections').get() as { n: number }).n;
      if (n >= batches) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    const sum = (json: string) => Object.values(JSON.parse(json) as Record<string, number>).reduce((a, b) => a + b, 0);
    return (reader.prepare('SELECT rows_added_json AS a, rows_updated_json AS u FROM collections').all() as { a: string; u: string }[])
      .reduce((n, r) => n + sum(r.a) + sum(r.u), 0);
  } finally {
    reader.close();
  }
}

/** Upload latencies (ms) and rows the server took, over one phase. */
class Timings {
  readonly ms: number[] = [];
  rows = 0;
  wrap(http: HttpUplinkTransport): UplinkTransport {
    return {
      server: http.server, cursor: http.cursor.bind(http), heartbeat: http.heartbeat.bind(http),
      uploadBatch: async (batch: BatchUpload, signal: AbortSignal) => {
        const t = performance.now();
        const answer = await http.uploadBatch(batch, signal);
        this.ms.push(performance.now() - t);
        return answer;
      },
    };
  }
  quantile(q: number): number {
    const sorted = [...this.ms].sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  }
  summary(seconds: number): Record<string, unknown> {
    return {
      rows: this.rows, seconds: round(seconds), rows_per_second: Math.round(this.rows / seconds), batches: this.ms.length, rows_per_batch_mean: Math.round(this.rows / this.ms.length),
      latency_ms: { p50: Math.round(this.quantile(0.5)), p95: Math.round(this.quantile(0.95)), max: Math.round(this.quantile(1)) },
    };
  }
}

// Phase 1, the server's ingest: each device's increments are built first, as the uplink builds them
// (buildIncrement from the server's cursor, 5,000 rows), since in a study that work happens on 50
// robots, not on the server's machine; then all 50 devices upload theirs at once over the real HTTP
// transport, each sending its next increment when the last was answered, as the uplink does.
const incDir = join(work, 'increments');
mkdirSync(incDir);
const tBuild = performance.now();
const increments = await Promise.all(files.map(async (file, i) => {
  const id = deviceId(i + 1);
  const store = SqliteStore.open(file, { readonly: true });
  const out: { seqFrom: number; seqTo: number; body: Buffer }[] = [];
  try {
    const last = store.stats.lastSeq(id) ?? 0;
    let since: number | null = null;
    for (let from = 0; from < last;) {
      const builtAt = Date.now();
      const inc = await buildIncrement(store, { deviceId: id, seqFrom: from, maxRows: DEFAULT_MAX_ROWS, changedSince: since, dir: incDir });
      out.push({ seqFrom: inc.seqFrom, seqTo: inc.seqTo, body: readFileSync(inc.file) });
      rmSync(inc.file);
      from = inc.seqTo;
      since = builtAt;
    }
  } finally {
    store.close();
  }
  return out;
}));
line({ phase: 'build_increments', increments: increments.reduce((n, d) => n + d.length, 0), seconds: round((performance.now() - tBuild) / 1000),
  gzip_mb: round(increments.flat().reduce((n, x) => n + x.body.length, 0) / 1e6) });

const ingest = await startServe('served');
const ingestTimings = new Timings();
const transports = await Promise.all(files.map(async (_, i) => {
  const id = deviceId(i + 1);
  const { token } = await enrollDevice({ server: ingest.url, code: ingest.codes[i]!, deviceId: id, hearthVersion: 'bench' });
  return ingestTimings.wrap(new HttpUplinkTransport({ server: ingest.url, deviceId: id, token }));
}));
const never = new AbortController().signal;
const t0 = performance.now();
await Promise.all(transports.map(async (transport, i) => {
  let cursor = (await transport.cursor(never)).lastSeq;
  for (const inc of increments[i]!) {
    if (inc.seqTo <= cursor) continue;
    cursor = (await transport.uploadBatch(inc, never)).lastSeq;
    if (cursor < inc.seqTo) throw new Error(`bench: ${deviceId(i + 1)} batch ${inc.seqFrom}-${inc.seqTo} answered lastSeq ${cursor}`);
  }
}));
const answeredS = (performance.now() - t0) / 1000;
// Ingested = merged into the study database, not only acknowledged.
ingestTimings.rows = await merged(ingest.db, ingestTimings.ms.length);
const ingestS = (performance.now() - t0) / 1000;
const ingestRss = procStatus(ingest.pid);
const ingestCpu = procCpuSeconds(ingest.pid);
await ingest.stop();
const ingestRate = ingestTimings.rows / ingestS;
line({ phase: 'serve_answered', devices: DEVICES, seconds_to_last_answer: round(answeredS), seconds_to_merged: round(ingestS) });
line({ phase: 'serve', devices: DEVICES, ...ingestTimings.summary(ingestS), server_peak_rss_mb: ingestRss, server_cpu_s: ingestCpu, study_mb: round(statSync(ingest.db).size / 1e6) });

// For comparison, the same increments of 10 devices sent one at a time (one device uploading, the
// server otherwise idle): the latency of a batch without 49 others queued ahead of it.
const alone = await startServe('alone');
const aloneTimings = new Timings();
const tAlone = performance.now();
for (let i = 0; i < Math.min(10, DEVICES); i++) {
  const { token } = await enrollDevice({ server: alone.url, code: alone.codes[i]!, deviceId: deviceId(i + 1), hearthVersion: 'bench' });
  const transport = aloneTimings.wrap(new HttpUplinkTransport({ server: alone.url, deviceId: deviceId(i + 1), token }));
  for (const inc of increments[i]!) await transport.uploadBatch(inc, never);
}
aloneTimings.rows = await merged(alone.db, aloneTimings.ms.length);
const aloneS = (performance.now() - tAlone) / 1000;
await alone.stop();
line({ phase: 'serve_one_at_a_time', devices: Math.min(10, DEVICES), ...aloneTimings.summary(aloneS) });
rmSync(incDir, { recursive: true, force: true });

// Phase 2, end to end: 50 real uplinks (runtime/uplink) in this process, building their increments
// as they go, to a second fresh server. Building takes most of this process's core, so this bounds
// what one machine simulating 50 devices can push, not what the server can take.
const e2e = await startServe('uplinked');
const e2eTimings = new Timings();
const started = Date.now();
const timers = {
  now: () => MONTH_T0 + (DAYS + 1) * DAY_MS + (Date.now() - started),
  setTimeout: (fn: () => void, ms: number) => setTimeout(fn, ms),
  clearTimeout: (h: unknown) => clearTimeout(h as NodeJS.Timeout),
};
const devices = await Promise.all(files.map(async (file, i) => {
  const id = deviceId(i + 1);
  const { token } = await enrollDevice({ server: e2e.url, code: e2e.codes[i]!, deviceId: id, hearthVersion: 'bench' });
  const store = SqliteStore.open(file);
  const log = store.forDevice({ deviceId: id, tz: 'America/New_York', clockSource: 'simulated' });
  let state: UplinkState = freshUplinkState({ server: e2e.url, enrolledTsUtc: new Date().toISOString() });
  const uplink = new Uplink({
    transport: e2eTimings.wrap(new HttpUplinkTransport({ server: e2e.url, deviceId: id, token })), store, log, deviceId: id, timers,
    state: { load: () => state, save: (s) => { state = s; } },
    health: () => ({ clockSource: 'simulated', hearthVersion: 'bench', protocolHash: 'h1', freeDiskBytes: null, dbBytes: null, lastSession: null, perception: 'none', safeguards: 'rules', alertOutbox: 0 }),
  });
  return { id, store, uplink };
}));
const t1 = performance.now();
for (const d of devices) d.uplink.start();
// Caught up: the server's cursor is the device's counter (the uplink's own `uplink.started` and
// heartbeat events are rows too, and travel with the rest).
const caughtUp = () => devices.every((d) => d.uplink.snapshot.cursor === (d.store.stats.lastSeq(d.id) ?? 0));
while (!caughtUp()) {
  const failed = devices.find((d) => d.uplink.snapshot.lastError);
  if (failed) throw new Error(`bench: ${failed.id}: ${failed.uplink.snapshot.lastError!.message}`);
  await new Promise((r) => setTimeout(r, 25));
}
e2eTimings.rows = await merged(e2e.db, e2eTimings.ms.length);
const e2eS = (performance.now() - t1) / 1000;
const e2eRss = procStatus(e2e.pid);
await Promise.all(devices.map((d) => d.uplink.stop()));
const rows = devices.reduce((n, d) => n + uplinkBacklog(d.store, d.id, 0).rows, 0);
for (const d of devices) d.store.close();
await e2e.stop();
line({ phase: 'uplink_end_to_end', devices: DEVICES, ...e2eTimings.summary(e2eS), server_peak_rss_mb: e2eRss });

// The same files by hand: `hearth collect` into a new study database.
const collectedDb = join(work, 'collected.sqlite');
const collect = spawn(process.execPath, ['--import', 'tsx', 'runtime/cli/main.ts', 'collect', '--json', '--into', collectedDb, ...files], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
let collectOut = '';
collect.stdout!.on('data', (b: Buffer) => { collectOut += b.toString(); });
await exitOf(collect, 'hearth collect');
const summary = JSON.parse(collectOut.trim().split('\n').at(-1)!) as { rows: { added: number }; seconds: number; refused: number };
if (summary.refused > 0 || summary.rows.added !== rows) throw new Error(`bench: hearth collect added ${summary.rows.added} rows (${summary.refused} files refused), the server ${rows}`);
const collectRate = summary.rows.added / summary.seconds;
line({ phase: 'collect', files: files.length, rows: summary.rows.added, seconds: summary.seconds, rows_per_second: Math.round(collectRate) });

const ratio = ingestRate / collectRate;
const p95 = ingestTimings.quantile(0.95);
const rss = Math.max(ingestRss, e2eRss);
line({
  phase: 'result', ingest_ratio: round(ratio), p95_ms: Math.round(p95), server_peak_rss_mb: rss, targets: { ingest_ratio_min: TARGETS.ratio, p95_ms_max: TARGETS.p95Ms, server_rss_mb_max: TARGETS.rssMb },
  ok: { ingest_ratio: ratio >= TARGETS.ratio, p95: p95 <= TARGETS.p95Ms, server_rss: rss <= TARGETS.rssMb },
  load_average: loadavg().map(round),
});
rmSync(work, { recursive: true, force: true });

/** A free loopback port (the server is told it; it cannot report port 0 back through the CLI). */
async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((ok) => s.listen(0, '127.0.0.1', ok));
  const a = s.address();
  await new Promise<void>((ok) => s.close(() => ok()));
  if (!a || typeof a === 'string') throw new Error('bench: no free port');
  return a.port;
}

/** Peak resident set of a process in MB (VmHWM: everything, V8 and SQLite's native memory). */
function procStatus(pid: number): number {
  const kb = Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);
  return Math.round(kb / 1024);
}

/** CPU seconds (user + system) a process has used. */
function procCpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return round((Number(fields[11]) + Number(fields[12])) / 100);
}

function round(x: number): number {
  return Number(x.toFixed(2));
}
