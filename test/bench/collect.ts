// bench:collect — `hearth collect` of 30 device files (30 simulated participants × 30 days, one device
// each, made by `hearth simulate`'s own code) into a new study database, then the same 30 files again
// (idempotent: nothing added). Prints JSON lines: generation, first collection, second collection, each
// with seconds and rows per second. Run on one core: npm run bench:collect. The device files are kept in
// the temp folder and reused by the next run (BENCH_FRESH=1 makes them again).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { collectDevices } from '../../data/index.js';
import { simulate } from '../../runtime/simulate.js';

const DEVICES = Number(process.env.BENCH_DEVICES ?? 30);
const DAYS = Number(process.env.BENCH_DAYS ?? 30);
const SEED = 1;
const deviceFile = (dir: string, p: number) => join(dir, `device-${String(p).padStart(3, '0')}.sqlite`);

// A generator child: `collect.ts --make DIR FIRST LAST` simulates participants FIRST..LAST, one file each.
if (process.argv[2] === '--make') {
  const [dir, first, last] = [process.argv[3]!, Number(process.argv[4]), Number(process.argv[5])];
  for (let p = first; p <= last; p++) {
    rmSync(deviceFile(dir, p), { force: true });
    await simulate({ participants: 1, days: DAYS, seed: SEED, dbFile: deviceFile(dir, p), firstParticipant: p });
  }
  process.exit(0);
}

const dir = join(tmpdir(), `hearth-bench-collect-${DEVICES}x${DAYS}-seed${SEED}`);
const files = Array.from({ length: DEVICES }, (_, i) => deviceFile(dir, i + 1));
const cached = !process.env.BENCH_FRESH && files.every((f) => existsSync(f));
const t0 = performance.now();
if (!cached) {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  // Generation is not what is measured: spread it over every core (the measurement below stays on this one).
  const workers = Math.max(1, Math.min(availableParallelism(), DEVICES));
  const allCores = `0-${availableParallelism() - 1}`;
  const hasTaskset = spawnSync('taskset', ['--version']).status === 0;
  const per = Math.ceil(DEVICES / workers);
  await Promise.all(Array.from({ length: workers }, (_, w) => {
    const first = w * per + 1;
    const last = Math.min(DEVICES, first + per - 1);
    if (first > last) return Promise.resolve();
    const args = [...process.execArgv, fileURLToPath(import.meta.url), '--make', dir, String(first), String(last)];
    const child = hasTaskset ? spawn('taskset', ['-c', allCores, process.execPath, ...args], { stdio: 'inherit' }) : spawn(process.execPath, args, { stdio: 'inherit' });
    return new Promise<void>((ok, fail) => child.on('exit', (code) => (code === 0 ? ok() : fail(new Error(`generator ${first}-${last} exited ${code}`)))));
  }));
}
const bytes = files.reduce((n, f) => n + statSync(f).size, 0);
console.log(JSON.stringify({ bench: 'collect', phase: 'generate', devices: DEVICES, days: DAYS, cached, seconds: round((performance.now() - t0) / 1000), mb: round(bytes / 1e6) }));

const study = join(dir, 'study.sqlite');
for (const f of readdirSync(dir)) if (f.startsWith('study.sqlite')) rmSync(join(dir, f));
let rowsInFiles = 0;
for (const phase of ['first', 'again'] as const) {
  const start = performance.now();
  const summary = await collectDevices({ files, into: study, hearthVersion: 'bench' });
  const seconds = (performance.now() - start) / 1000;
  if (summary.refused > 0) throw new Error(`bench: ${summary.refused} files refused: ${JSON.stringify(summary.files.filter((f) => f.status === 'refused'))}`);
  // The first collection adds every row of the files; the second reads the same rows and adds none.
  if (phase === 'first') rowsInFiles = summary.rows.added;
  console.log(JSON.stringify({
    bench: 'collect', phase, files: files.length, rows_in_files: rowsInFiles, rows_added: summary.rows.added, rows_updated: summary.rows.updated,
    seconds: round(seconds), rows_per_second: Math.round(rowsInFiles / seconds),
    study_mb: round(statSync(study).size / 1e6), peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
  }));
}

function round(x: number): number {
  return Number(x.toFixed(2));
}
