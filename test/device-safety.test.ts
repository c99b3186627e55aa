// One runtime per device folder, and commands that never hurt a participant's data (issue 13 item 6),
// through real `hearth` processes: the lock is between processes, and exit codes are what staff see.
import Database from 'better-sqlite3';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteStore } from '../data/index.js';

const ROOT = join(import.meta.dirname, '..');
// The CLI from source through tsx (as a user's `hearth`, without needing a fresh build of dist/).
const CLI = ['--import', 'tsx', join(ROOT, 'runtime', 'cli', 'main.ts')];
const PROTOCOL = join(ROOT, 'test', 'fixtures', 'protocols', 'storytelling.yaml');
const SCRIPT = join(ROOT, 'test', 'fixtures', 'scripts', 'demo.yaml');

type Result = { code: number | null; out: string; err: string };
const hearth = (...args: string[]): Promise<Result> =>
  new Promise((done) => {
    execFile(process.execPath, [...CLI, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 }, (error, out, err) => {
      done({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, out, err });
    });
  });

const running: ChildProcess[] = [];
afterEach(() => {
  for (const p of running.splice(0)) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
});

/** Start a long-running `hearth` command; resolves once it holds the device lock (it wrote `hearth.lock.json`). */
async function startHolding(deviceDir: string, ...args: string[]): Promise<{ child: ChildProcess; exited: Promise<Result> }> {
  const child = spawn(process.execPath, [...CLI, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  running.push(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (err += b.toString()));
  const exited = new Promise<Result>((done) => child.on('exit', (code) => done({ code, out, err })));
  const holder = join(deviceDir, 'hearth.lock.json');
  for (let i = 0; i < 200; i++) {
    if (existsSync(holder) && JSON.parse(readFileSync(holder, 'utf8') || '{}').pid === child.pid) return { child, exited };
    if (child.exitCode !== null) throw new Error(`hearth ${args[0]} exited ${child.exitCode} before taking the lock: ${err}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`hearth ${args[0]} did not take the device lock within 10 s`);
}

const expectOneLine = (r: Result, code: number, pattern: RegExp) => {
  expect(r.code, r.err).toBe(code);
  expect(r.err.trim().split('\n')).toHaveLength(1);
  expect(r.err).toMatch(pattern);
  expect(r.err).not.toMatch(/\n\s+at /);
};
const digest = (file: string) => ({ sha256: createHash('sha256').update(readFileSync(file)).digest('hex'), mtimeMs: statSync(file).mtimeMs });

/** A device folder provisioned for P07 (study starting today), with one session of P07's words in it. */
async function provisionedP07(): Promise<{ root: string; dir: string; db: string }> {
  const root = mkdtempSync(join(tmpdir(), 'hearth-device-'));
  const dir = join(root, 'p07');
  const today = new Date().toISOString().slice(0, 10);
  const p = await hearth('provision', '--protocol', PROTOCOL, '--participant', 'P07', '--tz', 'UTC', '--start', today, '--device-dir', dir, '--registry', join(root, 'registry.sqlite'));
  expect(p.code, p.err).toBe(0);
  const { deviceId } = JSON.parse(readFileSync(join(dir, 'device.json'), 'utf8')) as { deviceId: string };
  const store = SqliteStore.open(join(dir, 'hearth.sqlite'));
  const log = store.forDevice({ deviceId, tz: 'UTC', clockSource: 'system' });
  const now = Date.now();
  log.startSession({ sessionId: 'P07-words', participantId: 'P07', studyDay: 1, protocolHash: null, condition: null }, now);
  log.recordTurn({ sessionId: 'P07-words', speaker: 'participant', text: 'my sister visits on sundays', step: 'story', startMs: now, endMs: now + 1000 });
  store.close();
  return { root, dir, db: join(dir, 'hearth.sqlite') };
}

describe('one runtime per device folder', () => {
  it('a second talk and a withdraw are refused while talk runs, naming the folder and its pid; after kill -9 the next talk starts', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'hearth-lock-')), 'demo');
    // Slow replies keep the first session open while the others try.
    const first = await startHolding(dir, 'talk', '--device-dir', dir, '--tz', 'UTC', '--script', SCRIPT, '--time-scale', '5');
    const [second, withdraw] = await Promise.all([
      hearth('talk', '--device-dir', dir, '--tz', 'UTC', '--script', SCRIPT, '--time-scale', '0.01'),
      hearth('withdraw', '--device-dir', dir, '--participant', 'P01'),
    ]);
    expectOneLine(second, 2, new RegExp(`${dir} is in use by hearth talk \\(pid ${first.child.pid}, since .*\\); only one Hearth runtime`));
    expectOneLine(withdraw, 2, new RegExp(`${dir} is in use by hearth talk \\(pid ${first.child.pid}.*stop the runtime first`));
    first.child.kill('SIGKILL');
    expect((await first.exited).code).toBeNull();
    // The killed holder left hearth.lock.json behind; the lock itself went with the process.
    expect(existsSync(join(dir, 'hearth.lock.json'))).toBe(true);
    const next = await hearth('talk', '--device-dir', dir, '--tz', 'UTC', '--script', SCRIPT, '--time-scale', '0.01');
    expect(next.code, next.err).toBe(0);
    expect(next.err).not.toMatch(/in use/);
    const db = new Database(join(dir, 'hearth.sqlite'), { readonly: true });
    // One participant and no session shared between two runtimes: the killed one was closed or resumed, never doubled.
    expect(db.prepare('SELECT COUNT(*) AS n FROM participants').get()).toEqual({ n: 1 });
    expect(db.prepare("SELECT COUNT(*) AS n FROM sessions WHERE status = 'started'").get()).toEqual({ n: 0 });
    db.close();
  }, 60_000);

  it('run holds the device: talk and withdraw are refused; once run stops, withdraw works', async () => {
    const { dir } = await provisionedP07();
    const run = await startHolding(dir, 'run', '--device-dir', dir, '--script', SCRIPT);
    const [talk, withdraw] = await Promise.all([
      hearth('talk', '--device-dir', dir, '--script', SCRIPT, '--time-scale', '0.01'),
      hearth('withdraw', '--device-dir', dir, '--participant', 'P07'),
    ]);
    expectOneLine(talk, 2, new RegExp(`${dir} is in use by hearth run \\(pid ${run.child.pid}`));
    expectOneLine(withdraw, 2, /stop the runtime first/);
    run.child.kill('SIGTERM');
    await run.exited;
    // A clean stop removes the holder note as well.
    expect(existsSync(join(dir, 'hearth.lock.json'))).toBe(false);
    const after = await hearth('withdraw', '--device-dir', dir, '--participant', 'P07');
    expect(after.code, after.out + after.err).toBe(0);
    expect(after.out).toMatch(/result: none of P07's data remains/);
  }, 60_000);
});

describe('commands that never hurt a participant\'s data', () => {
  it('a participant\'s folder without device.json is not made a demo: one line, exit 2, database untouched', async () => {
    const { dir, db } = await provisionedP07();
    rmSync(join(dir, 'device.json'));
    const before = digest(db);
    const r = await hearth('talk', '--device-dir', dir, '--tz', 'UTC', '--script', SCRIPT, '--time-scale', '0.01');
    expectOneLine(r, 2, new RegExp(`${dir}/device\\.json not found, but the folder holds a database \\(hearth\\.sqlite\\).*never re-purposed`));
    expect(digest(db)).toEqual(before);
    expect(existsSync(join(dir, 'device.json'))).toBe(false);
  }, 30_000);

  it('simulate refuses a real device\'s database and leaves it as it was', async () => {
    const { db } = await provisionedP07();
    const before = digest(db);
    const r = await hearth('simulate', '--participants', '1', '--days', '1', '--db', db);
    expectOneLine(r, 2, /hearth\.sqlite: holds the data of a real device \(dev-[0-9a-f]+\), not a simulation.*pass a new file with --db/);
    expect(digest(db)).toEqual(before);
  }, 30_000);

  it('status --db on a zero-byte file: one line, exit 2, still zero bytes with the same mtime', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'hearth-status-')), 'empty.sqlite');
    writeFileSync(file, '');
    utimesSync(file, new Date('2026-01-01T00:00:00Z'), new Date('2026-01-01T00:00:00Z'));
    const before = digest(file);
    expectOneLine(await hearth('status', '--db', file), 2, /empty\.sqlite: not a Hearth database .*the file was not modified/);
    expect(digest(file)).toEqual(before);
    expect(statSync(file).size).toBe(0);
  }, 30_000);

  it('withdraw exits non-zero when its own scan still finds the participant (another reader held the database)', async () => {
    const { dir, db } = await provisionedP07();
    // Another program with a read transaction open: the purge commits, but the file cannot be rewritten.
    const reader = new Database(db, { readonly: true });
    reader.exec('BEGIN');
    expect(reader.prepare('SELECT COUNT(*) AS n FROM turns').get()).toEqual({ n: 1 });
    try {
      const r = await hearth('withdraw', '--device-dir', dir, '--participant', 'P07');
      expect(r.code, r.out + r.err).toBe(1);
      expect(r.out).toMatch(/result: \d+ rows or files still hold P07's data — the withdrawal is NOT complete; close any other program/);
    } finally {
      reader.exec('COMMIT');
      reader.close();
    }
    // With the reader gone, running it again finishes the job.
    const again = await hearth('withdraw', '--device-dir', dir, '--participant', 'P07');
    expect(again.code, again.out).toBe(0);
    expect(again.out).toMatch(/result: none of P07's data remains/);
  }, 30_000);
});
