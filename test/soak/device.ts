/**
 * The soak's device process: what `hearth run` does (the device lock, the service heartbeat, and
 * `runDevice`, the runtime itself) on a simulated clock the soak starts where it wants, paced to at
 * most `pace` simulated milliseconds per real one. Real I/O is real: the language model over HTTP
 * (tracked, so the clock follows real time while a call is pending), ffmpeg for the camera, arecord
 * for the microphone, the uplink's fetch to its closed port, and every SQLite commit.
 *
 * The soak (test/soak/soak.ts) kills it with SIGKILL at random points, or stops it with SIGTERM.
 * stdout carries JSON lines only: `{"soak":"ready"}`, `{"soak":"t","t":MS}` each simulated hour,
 * `{"soak":"end"}` when the clock reached `endMs`, `{"soak":"exit",...}` at the end.
 * Configuration: one JSON object in the environment variable HEARTH_SOAK (see `DeviceProcessConfig`).
 */
import { Writable } from 'node:stream';
import { ManualClock, runUntil } from '../../runtime/clock.js';
import { lockExistingDevice } from '../../runtime/device-lock.js';
import { DISK_FULL_LINE, runDevice } from '../../runtime/live.js';
import { withServiceHeartbeat } from '../../runtime/service/index.js';

/** What the soak tells one device process. */
export interface DeviceProcessConfig {
  deviceDir: string;
  /** Simulated instant the clock starts at (the clock jumps are made here). */
  startMs: number;
  /** Stop advancing the clock here and say `end`. */
  endMs: number;
  /** Simulated milliseconds per real millisecond, at most, between sessions. */
  pace: number;
  /** The same while the robot is talking (a line in the last 10 simulated minutes), so kills can land inside sessions. */
  sessionPace: number;
  script?: string;
  camera?: string;
  microphone?: string;
}

const cfg = JSON.parse(process.env.HEARTH_SOAK ?? '{}') as DeviceProcessConfig;
const emit = (o: Record<string, unknown>) => process.stdout.write(`${JSON.stringify({ soak: 'line', ...o })}\n`);
const say = (kind: string, o: Record<string, unknown> = {}) => emit({ soak: kind, ...o });

const clock = new ManualClock(cfg.startMs);
let robotLines = 0;
let calmLines = 0;
let lastLineAt = Number.NEGATIVE_INFINITY;
// The robot's lines and the runtime's notices: counted, not printed (stdout is the soak's channel).
const output = new Writable({
  write(chunk: Buffer, _enc, next) {
    const text = chunk.toString();
    const lines = (text.match(/^Hearth: /gm) ?? []).length;
    robotLines += lines;
    if (lines > 0) lastLineAt = clock.now();
    if (text.includes(DISK_FULL_LINE)) calmLines++;
    next();
  },
});

let finished = false;
let terminating = false;
process.on('SIGTERM', () => (terminating = true));

const lock = lockExistingDevice(cfg.deviceDir, 'run');
const run = withServiceHeartbeat(cfg.deviceDir, () => runDevice({
  deviceDir: cfg.deviceDir, participantId: 'P01', tz: 'UTC', requireProvisioned: true, hearthVersion: 'soak',
  script: cfg.script, camera: cfg.camera, microphone: cfg.microphone, timeScale: 1,
  input: process.stdin, output, clock, env: process.env,
})).finally(() => {
  finished = true;
  lock?.release();
});
let failure: unknown = null;
run.catch((e) => (failure = e));

say('ready', { pid: process.pid, t: clock.now() });
let lastHour = Math.floor(clock.now() / 3_600_000);
let ended = false;
let talking = false;
// How far simulated time may go now: it grows with real time, slower while the robot talks.
let limit = clock.now();
let lastReal = performance.now();
const paceLimit = () => {
  const real = performance.now();
  const pace = clock.now() - lastLineAt < 10 * 60_000 ? cfg.sessionPace : cfg.pace;
  limit = Math.max(clock.now(), limit + pace * (real - lastReal));
  lastReal = real;
  return terminating ? Number.POSITIVE_INFINITY : Math.min(cfg.endMs, limit);
};
while (!finished) {
  // Fire every timer due before the pace limit (runUntil follows real time while tracked I/O is pending).
  await runUntil(clock, () => finished || (clock.ioPending === 0 && (clock.nextAt ?? Number.POSITIVE_INFINITY) > paceLimit()), { ioWaitMs: 60_000 });
  const nowTalking = clock.now() - lastLineAt < 10 * 60_000;
  if (nowTalking !== talking) {
    talking = nowTalking;
    say(talking ? 'talking' : 'quiet', { t: clock.now() });
  }
  const hour = Math.floor(clock.now() / 3_600_000);
  if (hour !== lastHour) {
    lastHour = hour;
    say('t', { t: clock.now() });
  }
  if (!ended && !terminating && paceLimit() >= cfg.endMs && (clock.nextAt ?? Number.POSITIVE_INFINITY) > cfg.endMs && clock.ioPending === 0) {
    // Nothing left to fire before the end: time stands at the end until the soak stops this process.
    if (clock.now() < cfg.endMs && (clock.nextAt ?? Number.POSITIVE_INFINITY) > cfg.endMs) clock.jumpTo(cfg.endMs);
    ended = true;
    say('end', { t: clock.now() });
  }
  await new Promise((r) => setTimeout(r, 2));
}
await run.catch(() => undefined);
const message = failure instanceof Error ? failure.message : failure === null ? null : String(failure);
say('exit', { t: clock.now(), robotLines, calmLines, error: message });
process.exitCode = failure === null ? 0 : (failure as { exitCode?: number }).exitCode === 2 || (failure as Error).name === 'StoreError' ? 2 : 1;
