import Database from 'better-sqlite3';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// Spawns the compiled CLI (built by the test command), kills it with SIGKILL mid-session, restarts it,
// and checks the database and the session.
const BIN = join(import.meta.dirname, '..', 'bin', 'hearth.js');
const PROTOCOL = join(import.meta.dirname, 'fixtures', 'protocols', 'storytelling.yaml');

const script = `replies:
  - say: "I'm alright, a little tired today."
    after_ms: 400
  - say: "It reminded me of my father teaching me to ride a bike in the park."
    after_ms: 400
  - say: "He never let go until I was ready. I think about that a lot."
    after_ms: 400
  - say: "five"
    after_ms: 300
`;

function start(dir: string, scriptFile: string): ChildProcess {
  return spawn(process.execPath, [BIN, 'talk', '--script', scriptFile, '--time-scale', '0.05', '--device-dir', dir, '--protocol', PROTOCOL, '--tz', 'America/New_York'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string }> {
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal, out })));
}

async function waitFor(check: () => boolean, ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('condition not reached in time');
}

function read<T>(file: string, sql: string): T[] {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return db.prepare(sql).all() as T[];
  } finally {
    db.close();
  }
}

describe('crash and restart (real process, SIGKILL)', () => {
  it('loses no committed turn and resumes the interrupted session', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hearth-crash-'));
    const scriptFile = join(dir, 'script.yaml');
    writeFileSync(scriptFile, script);
    const deviceDir = join(dir, 'device');
    const dbFile = join(deviceDir, 'hearth.sqlite');

    const first = start(deviceDir, scriptFile);
    const firstExit = exited(first);
    // Kill it while the story is being read: the check-in is answered and at least one paragraph is spoken.
    await waitFor(() => {
      try {
        return read<{ n: number }>(dbFile, "SELECT COUNT(*) AS n FROM turns WHERE step = 'story'")[0]!.n >= 2;
      } catch {
        return false;
      }
    }, 30_000);
    first.kill('SIGKILL');
    const killed = await firstExit;
    expect(killed.signal).toBe('SIGKILL');

    const committed = read<{ turn_id: number; text: string; seq: number }>(dbFile, 'SELECT turn_id, text, seq FROM turns ORDER BY seq');
    expect(committed.length).toBeGreaterThanOrEqual(4);
    expect(read<{ status: string }>(dbFile, 'SELECT status FROM sessions')).toEqual([{ status: 'started' }]);

    const second = start(deviceDir, scriptFile);
    const secondExit = await exited(second);
    expect(secondExit.code, secondExit.out).toBe(0);

    expect(read<{ integrity_check: string }>(dbFile, 'PRAGMA integrity_check')).toEqual([{ integrity_check: 'ok' }]);
    const after = read<{ turn_id: number; text: string; seq: number }>(dbFile, 'SELECT turn_id, text, seq FROM turns ORDER BY seq');
    for (const t of committed) expect(after).toContainEqual(t);
    const sessions = read<{ status: string; resumed_count: number }>(dbFile, 'SELECT status, resumed_count FROM sessions');
    expect(sessions).toEqual([{ status: 'completed', resumed_count: 1 }]);
    const resumedLine = after.slice(committed.length).find((t) => /interrupted|stop for a little while/i.test(t.text));
    expect(resumedLine, 'the robot says it was interrupted').toBeDefined();
    // The sequence stays strictly increasing across the crash.
    const seqs = after.map((t) => t.seq);
    expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
    expect(new Set(seqs).size).toBe(seqs.length);
  }, 90_000);
});

describe('perception in a live session (real ffmpeg camera source, real onnxruntime)', () => {
  it('logs fused affect samples from the camera next to the session, at most 10 Hz', async () => {
    const { makeFaceVideo } = await import('./fixtures/faces/faces.js');
    const dir = mkdtempSync(join(tmpdir(), 'hearth-affect-'));
    const video = makeFaceVideo(dir, { astronautFrames: 150, fps: 15 });
    const scriptFile = join(dir, 'script.yaml');
    writeFileSync(scriptFile, script);
    const deviceDir = join(dir, 'device');
    const child = spawn(process.execPath, [BIN, 'talk', '--script', scriptFile, '--time-scale', '0.05', '--device-dir', deviceDir, '--protocol', PROTOCOL, '--tz', 'America/New_York', '--camera', video], { stdio: ['ignore', 'pipe', 'pipe'] });
    const done = await exited(child);
    expect(done.code, done.out).toBe(0);
    const dbFile = join(deviceDir, 'hearth.sqlite');
    const samples = read<{ session_id: string | null; valence: number | null; confidence: number; sources_json: string; ts_utc: string }>(dbFile, 'SELECT session_id, valence, confidence, sources_json, ts_utc FROM affect_samples ORDER BY seq');
    expect(samples.length).toBeGreaterThan(5);
    const inSession = samples.filter((s) => s.session_id !== null);
    expect(inSession.length).toBeGreaterThan(0);
    // The smiling astronaut reads as positive valence from the face.
    const withFace = samples.filter((s) => s.valence !== null && s.sources_json.includes('face'));
    expect(withFace.length).toBeGreaterThan(0);
    expect(withFace.some((s) => s.valence! > 0)).toBe(true);
    const times = samples.map((s) => Date.parse(s.ts_utc));
    for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(99);
  }, 90_000);
});
