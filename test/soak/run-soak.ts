/**
 * The fault soak (issue 13 item 5): a provisioned device runs its study through `runDevice` (the runtime
 * of `hearth run`) in a child process on a simulated clock (test/soak/device.ts), while this process
 * injects faults and kills it with SIGKILL at random points, and keeps its own log of every row it saw
 * committed, to compare with the database after each kill and at the end. Used by `npm run soak` (the
 * 30-day month) and by test/soak.test.ts (a few days, bounded for `npm test`).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { queryFile } from '../support/read-db.js';
import { mountSmallDisk, tmpfsUnavailable, type SmallDisk } from '../support/tmpfs.js';
import type { DeviceProcessConfig } from './device.js';

const ROOT = join(import.meta.dirname, '..', '..');
const CLI = ['--import', 'tsx', join(ROOT, 'runtime', 'cli', 'main.ts')];
const DEVICE = ['--import', 'tsx', join(ROOT, 'test', 'soak', 'device.ts')];
const PROTOCOL = join(ROOT, 'test', 'soak', 'soak-study.yaml');
const HOUR = 3_600_000;
/** How long the lock fault's read transaction lasts, in real ms (see holdLocks). */
const READ_HOLD_MS = 3_000;
const DAY = 24 * HOUR;

/** What a soak run does. Days are study days (1-based); a fault on a day past `days` is not injected. */
export interface SoakOptions {
  days: number;
  kills: number;
  /** Wall-time bound: the soak stops (and fails) when it is reached. */
  boundMs: number;
  /** Simulated ms per real ms between sessions, and while the robot talks. */
  pace: number;
  sessionPace: number;
  seed: number;
  faults: {
    llmDown?: number; llmSlow?: number; llmGarbage?: number;
    /** Camera lost at 11:00 and back at 14:00 on this day (the video file taken away and put back). */
    camera?: number;
    /** On this day the microphone is a device that is not there; the day after, ALSA's `null` device (silence). */
    microphone?: number;
    /** The disk fills at 09:02 on this day (a tmpfs); freed after two failed starts, or the next day if the runtime kept running on it. */
    disk?: number;
    /** At the first start on this day the clock is set an hour back; on `clockForward`, a day forward. */
    clockBack?: number; clockForward?: number;
    /** Another process holds the database's write lock for 8 s, and a read transaction for 3 s, at 09:01 on this day. */
    dbLocked?: number;
    /** Days whose script says something a crisis check must catch (an incident, and an alert). */
    crisis?: number[];
  };
  /** JSON lines go here (default: stdout). */
  print?: (line: Record<string, unknown>) => void;
}

/** The soak's figures: what `npm run soak` prints last and the bounded test asserts on. */
export interface SoakFigures {
  days: number;
  wallMs: number;
  boundMs: number;
  boundReached: boolean;
  kills: { requested: number; done: number; survived: number; midSession: number };
  rows: { checked: number; lost: number; changed: number };
  sessions: Record<string, number>;
  danglingSessions: number;
  instances: { total: number; terminal: number; withReason: number; byStatus: Record<string, number>; notTerminal: string[] };
  integrity: string;
  alerts: { incidents: number; inLocalCopy: number; byDelivery: Record<string, number>; lost: number };
  llm: { requests: number; byMode: Record<string, number>; maxSimOverRealDuringCall: number | null; callsCompared: number };
  disk: { method: string; exits: number; calmLines: number; freedBecause: string | null; faultsRecorded: number; sessionsInterruptedByDisk: number };
  clock: { back: boolean; forward: boolean };
  dbLocked: { held: boolean; runtimeErrors: number };
  camera: { lostEvents: number; backEvents: number };
  microphone: { lostEvents: number; recoveredEvents: number };
  uplink: { server: string; failures: number };
  starts: number;
  /** Device processes that had not exited 30 s after the month's end and SIGTERM (then killed). */
  shutdownHangs: number;
  childErrors: string[];
}

/** A deterministic random source (mulberry32). */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type LlmMode = 'healthy' | 'down' | 'slow' | 'garbage';

/** An OpenAI-compatible chat server on 127.0.0.1 whose behaviour the soak sets by study day. */
class ModelServer {
  mode: LlmMode = 'healthy';
  readonly byMode: Record<string, number> = {};
  /** Real milliseconds each request was open, by arrival. */
  readonly calls: { mode: LlmMode; realMs: number; atReal: number }[] = [];
  private server!: Server;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => this.handle(req, res));
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1`;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const mode = this.mode;
    this.byMode[mode] = (this.byMode[mode] ?? 0) + 1;
    const t0 = performance.now();
    const call = { mode, realMs: 0, atReal: t0 };
    this.calls.push(call);
    res.on('close', () => (call.realMs = performance.now() - t0));
    req.resume();
    req.on('end', () => {
      if (mode === 'down') {
        // A crashed server: the connection is cut without an answer.
        req.socket.destroy();
      } else if (mode === 'slow') {
        const timer = setTimeout(() => this.complete(res), 30_000);
        res.on('close', () => clearTimeout(timer));
      } else if (mode === 'garbage') {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(`data: {"choices": [{"delta": {"content": 42}}]}\n\n`);
        res.write(`data: ${randomBytes(48).toString('base64')}\n\n`);
        res.end('data: [DONE]\n\n');
      } else this.complete(res);
    });
  }

  private complete(res: ServerResponse): void {
    if (res.destroyed) return;
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write(`data: ${JSON.stringify({ choices: [{ delta: { content: 'That sounds like it stayed with you. ' } }] })}\n\n`);
    res.write(`data: ${JSON.stringify({ choices: [{ delta: { content: 'Thank you for telling me about it.' } }], usage: { prompt_tokens: 40, completion_tokens: 14 } })}\n\n`);
    res.end('data: [DONE]\n\n');
  }

  stop(): void {
    this.server.closeAllConnections();
    this.server.close();
  }
}

/** Tables whose rows are never changed once written (only a withdrawal removes them): compared by content. */
const APPEND_ONLY = ['turns', 'events', 'responses', 'safeguard_events', 'affect_samples'] as const;

/** The soak's own record of every row it saw committed: table → seq → sha256 of the row. */
class CommittedLog {
  private readonly seen = new Map<string, Map<number, string>>();
  private readonly lastSeq = new Map<string, number>();
  readonly sessions = new Set<string>();
  readonly incidents = new Set<string>();

  constructor(private readonly file: string, private readonly db: string) {}

  /** Read the rows committed since the last look (a separate read-only connection, as a researcher's). */
  record(): void {
    if (!existsSync(this.db)) return;
    for (const table of APPEND_ONLY) {
      const from = this.lastSeq.get(table) ?? 0;
      const rows = queryFile<Record<string, unknown> & { seq: number }>(this.db, `SELECT * FROM ${table} WHERE seq > ? ORDER BY seq`, from);
      const map = this.seen.get(table) ?? new Map<number, string>();
      this.seen.set(table, map);
      const lines: string[] = [];
      for (const r of rows) {
        const hash = createHash('sha256').update(JSON.stringify(r)).digest('hex');
        map.set(r.seq, hash);
        lines.push(JSON.stringify({ table, seq: r.seq, hash }));
        this.lastSeq.set(table, r.seq);
      }
      if (lines.length) appendFileSync(this.file, `${lines.join('\n')}\n`);
    }
    for (const r of queryFile<{ session_id: string }>(this.db, 'SELECT session_id FROM sessions')) this.sessions.add(r.session_id);
    for (const r of queryFile<{ incident_id: string }>(this.db, 'SELECT incident_id FROM safeguard_incidents')) this.incidents.add(r.incident_id);
  }

  /** Every row seen is still there, unchanged; sessions and incidents still exist. */
  verify(): { checked: number; lost: number; changed: number } {
    let checked = 0;
    let lost = 0;
    let changed = 0;
    for (const [table, map] of this.seen) {
      const now = new Map(queryFile<Record<string, unknown> & { seq: number }>(this.db, `SELECT * FROM ${table}`).map((r) => [r.seq, createHash('sha256').update(JSON.stringify(r)).digest('hex')]));
      for (const [seq, hash] of map) {
        checked++;
        const found = now.get(seq);
        if (found === undefined) lost++;
        else if (found !== hash) changed++;
      }
    }
    const sessions = new Set(queryFile<{ session_id: string }>(this.db, 'SELECT session_id FROM sessions').map((r) => r.session_id));
    for (const s of this.sessions) {
      checked++;
      if (!sessions.has(s)) lost++;
    }
    const incidents = new Set(queryFile<{ incident_id: string }>(this.db, 'SELECT incident_id FROM safeguard_incidents').map((r) => r.incident_id));
    for (const i of this.incidents) {
      checked++;
      if (!incidents.has(i)) lost++;
    }
    return { checked, lost, changed };
  }
}

/** A participant script for one device process: ordinary replies, and on a crisis day a line the crisis check must catch. */
function scriptFor(crisis: boolean): string {
  const replies: { say: string; after_ms: number }[] = [];
  for (let i = 0; i < 40; i++) {
    replies.push({ say: crisis && i === 0 ? "Honestly I don't want to be here anymore. I want to end my life." : "I'm alright today, a bit tired after the week.", after_ms: 1500 });
    replies.push({ say: 'It reminded me of my grandmother and her kitchen, she sang while she cooked.', after_ms: 2500 });
    replies.push({ say: 'I miss her, but thinking about it makes me smile.', after_ms: 2000 });
    replies.push({ say: 'four', after_ms: 800 });
  }
  return JSON.stringify({ replies });
}

/** Run the soak; resolves with its figures (and prints JSON lines as it goes). */
export async function runSoak(o: SoakOptions): Promise<SoakFigures> {
  const print = o.print ?? ((line) => process.stdout.write(`${JSON.stringify(line)}\n`));
  const t0 = performance.now();
  const rand = random(o.seed);
  const work = mkdtempSync(join(tmpdir(), 'hearth-soak-'));
  // The device folder lives on a small real file system, so the disk can really fill up.
  let disk: SmallDisk | null = null;
  let diskMethod: string;
  if (tmpfsUnavailable === null) {
    disk = mountSmallDisk(64 * 1024 * 1024);
    diskMethod = `tmpfs 64 MiB at ${disk.dir}, filled with a filler file`;
  } else diskMethod = `not injected (${tmpfsUnavailable})`;
  const deviceDir = join(disk?.dir ?? work, 'device');
  const db = join(deviceDir, 'hearth.sqlite');
  const model = new ModelServer();
  await model.start();
  // A study server that is not there: a port that was free a moment ago.
  const closed = createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  const closedPort = (closed.address() as AddressInfo).port;
  await new Promise<void>((r) => closed.close(() => r()));

  const startDate = new Date(Date.now() + DAY).toISOString().slice(0, 10);
  const p = spawnSync(process.execPath, [...CLI, 'provision', '--protocol', PROTOCOL, '--participant', 'P01', '--tz', 'UTC', '--start', startDate,
    '--device-dir', deviceDir, '--registry', join(work, 'registry.sqlite'), '--consent', 'audio_recording,transcripts,llm_processing'], { cwd: ROOT, encoding: 'utf8' });
  if (p.status !== 0) throw new Error(`provision failed: ${p.stderr}`);
  const { deviceId } = JSON.parse(readFileSync(join(deviceDir, 'device.json'), 'utf8')) as { deviceId: string };
  writeFileSync(join(deviceDir, 'uplink.json'), JSON.stringify({
    server: `http://127.0.0.1:${closedPort}`, deviceId, token: `hth_${randomBytes(32).toString('base64url')}`, enrolledTsUtc: new Date().toISOString(),
  }), { mode: 0o600 });
  const { makeFaceVideo } = await import('../fixtures/faces/faces.js');
  const video = makeFaceVideo(work, { astronautFrames: 300, fps: 10 });
  const log = new CommittedLog(join(work, 'committed.jsonl'), db);

  const day0 = Date.parse(`${startDate}T00:00:00Z`);
  const dayOf = (t: number) => Math.floor((t - day0) / DAY) + 1;
  const endMs = day0 + o.days * DAY + 2 * HOUR;
  const f = o.faults;
  const inRange = (d: number | undefined): d is number => d !== undefined && d >= 1 && d <= o.days;
  print({ soak: 'start', days: o.days, kills: o.kills, boundMs: o.boundMs, pace: o.pace, sessionPace: o.sessionPace, seed: o.seed, deviceDir, disk: diskMethod, llm: model.url, uplink: `http://127.0.0.1:${closedPort} (closed)` });

  const figures = {
    kills: { requested: o.kills, done: 0, survived: 0, midSession: 0 },
    disk: { exits: 0, calmLines: 0, freedBecause: null as string | null },
    clock: { back: false, forward: false },
    dbLocked: { held: false },
    childErrors: [] as string[],
    starts: 0,
    shutdownHangs: 0,
  };
  let simNow = day0 + 8 * HOUR;
  let diskFilledAt: number | null = null;
  let diskFullStarts = 0;
  let diskFreed = false;
  const freeDisk = (why: string) => {
    diskFreed = true;
    figures.disk.freedBecause = why;
    disk!.unfill();
    print({ soak: 'fault', fault: 'disk freed', day: dayOf(simNow), why, free: disk!.free() });
  };
  let lockDone = false;
  let cameraState: 'none' | 'lost' | 'back' = 'none';
  let boundReached = false;

  const setModelMode = () => {
    const d = dayOf(simNow);
    model.mode = d === f.llmDown ? 'down' : d === f.llmSlow ? 'slow' : d === f.llmGarbage ? 'garbage' : 'healthy';
  };

  // One device process from `startMs`; resolves when it exits (killed, stopped, or on its own).
  const startChild = (startMs: number): Promise<{ code: number | null; signal: string | null; exit: Record<string, unknown> | null }> => {
    const d = dayOf(startMs);
    const micDay = inRange(f.microphone) && (d === f.microphone || d === f.microphone + 1);
    const cfg: DeviceProcessConfig = {
      deviceDir, startMs, endMs, pace: o.pace, sessionPace: o.sessionPace,
      ...(micDay ? { microphone: d === f.microphone ? 'hw:99,0' : 'null' } : { script: join(work, `script-${d}.json`) }),
      ...(inRange(f.camera) && d === f.camera ? { camera: video } : {}),
    };
    if (cfg.script) writeFileSync(cfg.script, scriptFor(f.crisis?.includes(d) ?? false));
    figures.starts++;
    const child = spawn(process.execPath, DEVICE, {
      cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...childEnv, HEARTH_SOAK: JSON.stringify(cfg), HEARTH_LLM_MODEL: 'soak-model', OPENAI_BASE_URL: model.url, OPENAI_API_KEY: 'soak' },
    });
    running = child;
    let buf = '';
    let err = '';
    let exit: Record<string, unknown> | null = null;
    child.stdout!.on('data', (b: Buffer) => {
      buf += b.toString();
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        let msg: Record<string, unknown>;
        try {
          msg = JSON.parse(line) as Record<string, unknown>;
        } catch {
          continue;
        }
        if (typeof msg.t === 'number') simNow = Math.max(simNow, msg.t);
        onMessage(child, msg);
        if (msg.soak === 'exit') exit = msg;
      }
    });
    child.stderr!.on('data', (b: Buffer) => (err += b.toString()));
    lastErr = () => err;
    return new Promise((done) => child.on('exit', (code, signal) => {
      if (code !== 0 && signal === null && err.trim()) figures.childErrors.push(err.trim().split('\n').slice(-3).join(' | ').slice(0, 400));
      done({ code, signal, exit });
    }));
  };

  // The month is over: SIGTERM, sent again every second (one that lands while the runtime boots, before
  // it listens, would be lost), and after 30 s a kill that counts as a shutdown hang.
  const stopping = new WeakSet<ChildProcess>();
  const stopAtEnd = (child: ChildProcess) => {
    if (stopping.has(child)) return;
    stopping.add(child);
    child.kill('SIGTERM');
    const since = performance.now();
    const again = setInterval(() => {
      if (child.exitCode !== null || child.signalCode !== null) {
        clearInterval(again);
      } else if (performance.now() - since > 30_000) {
        clearInterval(again);
        figures.shutdownHangs++;
        print({ soak: 'shutdown-hang', pid: child.pid, lastStderr: lastErr().slice(-600) });
        child.kill('SIGKILL');
      } else child.kill('SIGTERM');
    }, 1000);
  };
  let running: ChildProcess | null = null;
  let lastErr = () => '';
  let talking = false;
  // Alerts of an enrolled device go to the study server (the closed port); no other webhook.
  const childEnv = { ...process.env };
  delete childEnv.HEARTH_ALERT_WEBHOOK;
  const onMessage = (child: ChildProcess, msg: Record<string, unknown>) => {
    if (msg.soak === 'talking') talking = true;
    if (msg.soak === 'quiet') talking = false;
    if (msg.soak === 'end' && figures.kills.done >= o.kills) stopAtEnd(child);
    setModelMode();
    const d = dayOf(simNow);
    const hourOfDay = (simNow - day0 - (d - 1) * DAY) / HOUR;
    if (disk && inRange(f.disk) && d === f.disk && diskFilledAt === null && hourOfDay >= 9.03) {
      diskFilledAt = simNow;
      disk.fill(0);
      print({ soak: 'fault', fault: 'disk full', day: d, free: disk.free() });
    }
    // A runtime that keeps going on the full disk (its WAL had room) gets it back the next day, as staff
    // would free it after the heartbeat reported it; counted, so the figures say which happened.
    if (disk && diskFilledAt !== null && !diskFreed && d > f.disk!) freeDisk('the next day began with the disk still full');
    if (inRange(f.dbLocked) && d === f.dbLocked && !lockDone && hourOfDay >= 9.02) {
      lockDone = true;
      holdLocks();
    }
    if (inRange(f.camera) && d === f.camera) {
      if (cameraState === 'none' && hourOfDay >= 9.05) {
        renameSync(video, `${video}.away`);
        cameraState = 'lost';
        print({ soak: 'fault', fault: 'camera lost', day: d });
      } else if (cameraState === 'lost' && hourOfDay >= 14) {
        renameSync(`${video}.away`, video);
        cameraState = 'back';
        print({ soak: 'fault', fault: 'camera back', day: d });
      }
    }
  };

  // Another process holds the write lock (BEGIN IMMEDIATE) for 8 s, then a read transaction for 3 s. Not
  // longer: at 6,000× a reader held 20 s real pins 33 simulated hours of writes in the WAL (no reset
  // while a reader holds a snapshot), which grew it to 51 MB and filled the 64 MiB disk on day 24 of
  // the month, a fault no real reader makes.
  const holdLocks = () => {
    figures.dbLocked.held = true;
    print({ soak: 'fault', fault: 'database locked by another process', day: dayOf(simNow) });
    const other = new Database(db);
    other.pragma('busy_timeout = 10000');
    other.exec('BEGIN IMMEDIATE');
    setTimeout(() => {
      other.exec('ROLLBACK');
      other.exec('BEGIN');
      other.prepare('SELECT COUNT(*) FROM events').get();
      setTimeout(() => {
        other.exec('COMMIT');
        other.close();
      }, READ_HOLD_MS);
    }, 8_000);
  };

  // The main loop: start, maybe kill, check, start again, until the month is over and every kill done.
  let startAt = simNow;
  const clockBackDone = { v: false };
  const clockForwardDone = { v: false };
  for (;;) {
    if (performance.now() - t0 > o.boundMs) {
      boundReached = true;
      break;
    }
    const d = dayOf(startAt);
    if (inRange(f.clockBack) && d >= f.clockBack && !clockBackDone.v) {
      clockBackDone.v = true;
      figures.clock.back = true;
      startAt -= HOUR;
      print({ soak: 'fault', fault: 'clock an hour back', day: d, startMs: startAt });
    } else if (inRange(f.clockForward) && d >= f.clockForward && !clockForwardDone.v) {
      clockForwardDone.v = true;
      figures.clock.forward = true;
      startAt += DAY;
      print({ soak: 'fault', fault: 'clock a day forward', day: d, startMs: startAt });
    }
    talking = false;
    const exited = startChild(startAt);
    const child = running!;
    let killed = false;
    let midSession = false;
    let killTimer: NodeJS.Timeout | null = null;
    if (figures.kills.done < o.kills) {
      // Spread the kills over what is left of the month; every other one waits for the robot to talk.
      const leftSim = Math.max(HOUR, endMs - startAt);
      const meanReal = Math.max(400, leftSim / o.pace / (o.kills - figures.kills.done));
      const delay = 150 + rand() * 2 * meanReal;
      const inSession = rand() < 0.5;
      const t = performance.now();
      const tryKill = () => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        if (inSession && !talking && performance.now() - t < delay + 20_000) {
          killTimer = setTimeout(tryKill, 10);
          return;
        }
        midSession = talking;
        log.record();
        killed = child.kill('SIGKILL');
      };
      killTimer = setTimeout(tryKill, inSession ? rand() * 300 : delay);
    }
    const bound = setTimeout(() => child.kill('SIGKILL'), Math.max(1, o.boundMs - (performance.now() - t0)));
    const { code, signal, exit } = await exited;
    clearTimeout(bound);
    if (killTimer) clearTimeout(killTimer);
    if (killed && signal === 'SIGKILL') {
      figures.kills.done++;
      if (midSession) figures.kills.midSession++;
      const integrity = queryFile<{ integrity_check: string }>(db, 'PRAGMA integrity_check').map((r) => r.integrity_check).join('; ');
      const v = log.verify();
      const ok = integrity === 'ok' && v.lost === 0 && v.changed === 0;
      if (ok) figures.kills.survived++;
      print({ soak: 'kill', n: figures.kills.done, day: dayOf(simNow), midSession, integrity, rowsChecked: v.checked, lost: v.lost, changed: v.changed });
    } else if (code === 2 && typeof exit?.error === 'string' && /disk is full/.test(exit.error)) {
      figures.disk.exits++;
      figures.disk.calmLines += Number(exit.calmLines ?? 0);
      diskFullStarts++;
      print({ soak: 'exit', code, day: dayOf(simNow), error: exit.error });
      if (disk && diskFullStarts >= 2 && !diskFreed) freeDisk('after two starts refused on the full disk');
    } else if (signal === 'SIGKILL' && figures.shutdownHangs > 0) {
      break;
    } else if (signal === 'SIGKILL') {
      print({ soak: 'exit', signal, note: 'wall-time bound', lastStderr: lastErr().slice(-600) });
    } else {
      log.record();
      if (code !== 0) print({ soak: 'exit', code, signal, error: exit?.error ?? null, ...(exit ? {} : { lastStderr: lastErr().trim().split('\n').slice(-4).join(' | ').slice(0, 400) }) });
      if (exit && simNow >= endMs && figures.kills.done >= o.kills) break;
    }
    if (boundReached || performance.now() - t0 > o.boundMs) {
      boundReached = true;
      break;
    }
    // The next boot a minute after the last thing this one did (a restart), and never before it.
    const last = queryFile<{ t: string | null }>(db, 'SELECT MAX(ts_utc) AS t FROM events')[0]?.t;
    startAt = Math.max(simNow, last ? Date.parse(last) : simNow) + 60_000;
    if (simNow >= endMs && figures.kills.done >= o.kills) startAt = simNow;
  }

  // The final look: one more start (if the month ended in a kill) was made by the loop; now the checks.
  if (disk) disk.unfill();
  log.record();
  const integrity = queryFile<{ integrity_check: string }>(db, 'PRAGMA integrity_check').map((r) => r.integrity_check).join('; ');
  const rows = log.verify();
  const sessionRows = queryFile<{ status: string; status_reason: string | null }>(db, 'SELECT status, status_reason FROM sessions');
  const sessions: Record<string, number> = {};
  for (const s of sessionRows) sessions[s.status] = (sessions[s.status] ?? 0) + 1;
  const inst = queryFile<{ instance_id: string; status: string; status_reason: string | null; session_id: string | null }>(db,
    'SELECT instance_id, status, status_reason, session_id FROM schedule_instances WHERE study_day <= ? ORDER BY study_day', o.days);
  const terminal = inst.filter((i) => ['completed', 'expired', 'missed'].includes(i.status));
  const withReason = terminal.filter((i) => (i.status === 'completed' ? i.session_id !== null : (i.status_reason ?? '') !== ''));
  const byStatus: Record<string, number> = {};
  for (const i of inst) byStatus[i.status] = (byStatus[i.status] ?? 0) + 1;
  const incidents = queryFile<{ incident_id: string; delivery_status: string }>(db, 'SELECT incident_id, delivery_status FROM safeguard_incidents');
  const localCopy = existsSync(join(deviceDir, 'alerts.jsonl'))
    ? new Set(readFileSync(join(deviceDir, 'alerts.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { incidentId?: string }).incidentId))
    : new Set<string | undefined>();
  const byDelivery: Record<string, number> = {};
  for (const i of incidents) byDelivery[i.delivery_status] = (byDelivery[i.delivery_status] ?? 0) + 1;
  const alertsLost = [...log.incidents].filter((id) => !incidents.some((i) => i.incident_id === id) || !localCopy.has(id)).length;
  const count = (sql: string, ...params: unknown[]) => queryFile<{ n: number }>(db, sql, ...params)[0]!.n;
  // Simulated against real time while a model call was open: the call's latency (measured on the
  // simulated clock by the client) over the real time the server held the request, call by call.
  const simLatencies = queryFile<{ detail_json: string }>(db, "SELECT detail_json FROM events WHERE kind = 'dialogue.reply' AND study_day = ? ORDER BY seq", f.llmSlow ?? -1)
    .map((e) => (JSON.parse(e.detail_json) as { call?: { latencyMs?: number; attempts?: number } | null }).call)
    .filter((c): c is { latencyMs: number; attempts: number } => typeof c?.latencyMs === 'number');
  const slowCalls = model.calls.filter((c) => c.mode === 'slow' && c.realMs > 0);
  // Summed over the slow day: simulated ms the client measured per real ms the server held requests open (1 = in step).
  const simSum = simLatencies.reduce((a, c) => a + c.latencyMs, 0);
  const realSum = slowCalls.reduce((a, c) => a + c.realMs, 0);
  const ratio = slowCalls.length && simLatencies.length && realSum > 0 ? simSum / realSum : null;

  model.stop();
  const figuresOut: SoakFigures = {
    days: o.days, wallMs: Math.round(performance.now() - t0), boundMs: o.boundMs, boundReached,
    kills: figures.kills, rows, sessions, danglingSessions: sessions.started ?? 0,
    instances: { total: inst.length, terminal: terminal.length, withReason: withReason.length, byStatus, notTerminal: inst.filter((i) => !terminal.includes(i)).map((i) => `${i.instance_id}:${i.status}`) },
    integrity,
    alerts: { incidents: incidents.length, inLocalCopy: incidents.filter((i) => localCopy.has(i.incident_id)).length, byDelivery, lost: alertsLost },
    llm: { requests: model.calls.length, byMode: model.byMode, maxSimOverRealDuringCall: ratio === null ? null : Math.round(ratio * 100) / 100, callsCompared: slowCalls.length },
    disk: {
      method: diskMethod, exits: figures.disk.exits, calmLines: figures.disk.calmLines, freedBecause: figures.disk.freedBecause,
      faultsRecorded: count("SELECT COUNT(*) AS n FROM events WHERE kind = 'store.disk_full'"),
      sessionsInterruptedByDisk: count("SELECT COUNT(*) AS n FROM sessions WHERE status = 'interrupted' AND status_reason LIKE 'the disk is full%'"),
    },
    clock: figures.clock,
    dbLocked: { held: figures.dbLocked.held, runtimeErrors: count("SELECT COUNT(*) AS n FROM events WHERE kind IN ('runtime.error', 'schedule.error') OR (kind = 'session.not_started' AND detail_json LIKE '%locked%')") },
    camera: { lostEvents: count("SELECT COUNT(*) AS n FROM events WHERE kind IN ('camera.fault', 'camera.ended')"), backEvents: count("SELECT COUNT(*) AS n FROM events WHERE kind = 'camera.recovered'") },
    microphone: {
      lostEvents: count("SELECT COUNT(*) AS n FROM events WHERE kind = 'perception.fault' AND detail_json LIKE '%microphone.lost%'"),
      recoveredEvents: count("SELECT COUNT(*) AS n FROM events WHERE kind = 'perception.fault' AND detail_json LIKE '%microphone.recovered%'"),
    },
    uplink: { server: `http://127.0.0.1:${closedPort}`, failures: count("SELECT COUNT(*) AS n FROM events WHERE kind LIKE 'uplink.%'") },
    starts: figures.starts,
    shutdownHangs: figures.shutdownHangs,
    childErrors: figures.childErrors.slice(0, 10),
  };
  print({ soak: 'figures', ...figuresOut });
  // HEARTH_SOAK_KEEP=1 leaves the device folder (and its small disk) for a look afterwards.
  if (process.env.HEARTH_SOAK_KEEP !== '1') {
    if (disk) disk.unmount();
    rmSync(work, { recursive: true, force: true });
  }
  return figuresOut;
}
