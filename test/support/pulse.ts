// A real sound device on a machine without a sound card: a PulseAudio null sink. Whatever plays into
// the sink comes out of its `.monitor` source, which `arecord -D pulse` records like a microphone.
// Used by the audio-path test and `npm run bench:voice`. Idempotent: a running server is reused, a
// stopped one is started (as root too), and sinks left by a killed run are unloaded.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';

const has = (tool: string) => spawnSync('which', [tool]).status === 0;
const pactl = (...args: string[]) => spawnSync('pactl', args, { encoding: 'utf8', timeout: 10_000 });
const serverUp = () => pactl('info').status === 0;
const sleepMs = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/** PulseAudio is usable, or why not (the message names the tool or the start attempts and their complaints). */
export type PulseStatus = { ok: true; how: string } | { ok: false; reason: string };

let cached: PulseStatus | undefined;

/**
 * Make sure a PulseAudio server answers: reuse a running one; else `pulseaudio --start` (a per-user
 * daemon, which also works as root with a warning); else a system-wide daemon (`--system`, with
 * `PULSE_SERVER` set for this process and its children). Not ok only when none of these can run.
 */
export function ensurePulse(): PulseStatus {
  if (cached?.ok && serverUp()) return cached;
  const missing = ['pulseaudio', 'pactl', 'paplay', 'pacat', 'arecord', 'aplay'].filter((t) => !has(t));
  if (missing.length) return (cached = { ok: false, reason: `not installed: ${missing.join(', ')} (scripts/setup.sh installs pulseaudio, pulseaudio-utils and alsa-utils)` });
  if (!alsaPulsePlugin()) return (cached = { ok: false, reason: 'ALSA has no "pulse" device (Debian package libasound2-plugins, a dependency of pulseaudio)' });
  if (serverUp()) return (cached = { ok: true, how: 'already running' });
  const tried: string[] = [];
  const user = spawnSync('pulseaudio', ['--start', '--exit-idle-time=-1'], { encoding: 'utf8', timeout: 15_000 });
  if (waitUp()) return (cached = { ok: true, how: 'pulseaudio --start' });
  tried.push(`pulseaudio --start: ${lastLine(user.stderr) || `exit ${user.status}`}`);
  const sys = spawnSync('pulseaudio', ['--system', '--daemonize', '--exit-idle-time=-1', '--disallow-exit', '--disallow-module-loading=no'], { encoding: 'utf8', timeout: 15_000 });
  for (const socket of ['/run/pulse/native', '/var/run/pulse/native']) {
    if (!existsSync(socket)) continue;
    process.env.PULSE_SERVER = `unix:${socket}`;
    if (waitUp()) return (cached = { ok: true, how: `pulseaudio --system (${socket})` });
    delete process.env.PULSE_SERVER;
  }
  tried.push(`pulseaudio --system: ${lastLine(sys.stderr) || `exit ${sys.status}`}`);
  return (cached = { ok: false, reason: `PulseAudio could not start here (${tried.join('; ')})` });
}

function waitUp(ms = 5000): boolean {
  for (const end = Date.now() + ms; Date.now() < end; sleepMs(100)) if (serverUp()) return true;
  return false;
}

function lastLine(s: string | null | undefined): string {
  return (s ?? '').trim().split('\n').filter((l) => !/not intended to be run as root/.test(l)).at(-1)?.trim() ?? '';
}

function alsaPulsePlugin(): boolean {
  const r = spawnSync('arecord', ['-L'], { encoding: 'utf8', timeout: 10_000 });
  return r.status === 0 && /^pulse$/m.test(r.stdout);
}

let counter = 0;

/** A null sink of this process: `name` to play into (PULSE_SINK), `monitor` to record from (PULSE_SOURCE). */
export interface NullSink {
  name: string;
  monitor: string;
  moduleId: string;
  /** Unload the sink; safe to call twice. */
  close(): void;
}

/** Load a fresh null sink named `<prefix>_<pid>_<n>`; sinks of the same prefix whose process is gone are unloaded first. */
export function nullSink(prefix = 'hearth'): NullSink {
  unloadStale(prefix);
  const name = `${prefix}_${process.pid}_${++counter}`;
  const r = pactl('load-module', 'module-null-sink', `sink_name=${name}`, `sink_properties=device.description=${name}`);
  if (r.status !== 0) throw new Error(`pactl load-module module-null-sink: ${lastLine(r.stderr) || `exit ${r.status}`}`);
  const moduleId = r.stdout.trim();
  let closed = false;
  return {
    name, monitor: `${name}.monitor`, moduleId,
    close: () => {
      if (closed) return;
      closed = true;
      pactl('unload-module', moduleId);
    },
  };
}

/** Unload `<prefix>_<pid>_n` null sinks whose pid is no longer running (left by a killed test or bench). */
function unloadStale(prefix: string): void {
  const r = pactl('list', 'short', 'modules');
  if (r.status !== 0) return;
  const re = new RegExp(`^(\\d+)\\s+module-null-sink\\s+.*sink_name=${prefix}_(\\d+)_\\d+`);
  for (const line of r.stdout.split('\n')) {
    const m = re.exec(line);
    if (!m || Number(m[2]) === process.pid) continue;
    try {
      process.kill(Number(m[2]), 0);
    } catch {
      pactl('unload-module', m[1]!);
    }
  }
}

/** A looped recording playing into a sink until stopped. */
export interface Playing {
  stop(): void;
  /** Resolves when playback has ended (drained, or stopped). */
  done: Promise<void>;
}

/**
 * Faint room noise (about −60 dBFS, white) into `sink` until stopped. A null sink's monitor only
 * delivers samples while something plays into it; a real microphone never stops, so the tests keep a
 * room playing. sox makes the noise and pacat plays it, outside Node's event loop.
 */
export function roomTone(sink: string): Playing {
  const child = spawn('sh', ['-c', 'sox -q -n -r 16000 -c 1 -b 16 -e signed-integer -t raw - synth 36000 whitenoise vol 0.001 | pacat --raw --format=s16le --rate=16000 --channels=1 --latency-msec=20'],
    { env: { ...process.env, PULSE_SINK: sink }, stdio: 'ignore', detached: true });
  return track(child);
}

/** Play a WAV file into `sink` with paplay. */
export function playInto(sink: string, wav: string): Playing {
  return track(spawn('paplay', [wav], { env: { ...process.env, PULSE_SINK: sink }, stdio: 'ignore', detached: true }));
}

function track(child: ChildProcess): Playing {
  const done = new Promise<void>((resolve) => {
    child.once('close', () => resolve());
    child.once('error', () => resolve());
  });
  return {
    done,
    stop: () => {
      if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        child.kill();
      }
    },
  };
}
