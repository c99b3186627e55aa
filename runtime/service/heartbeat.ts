/**
 * The service heartbeat: `hearth run` rewrites a small file in the device folder every 30 seconds
 * from its event loop, and `hearth service-check` (run by a systemd timer) says whether it is fresh.
 * Ages are measured on the kernel's monotonic clock (with the boot id, so a heartbeat from before a
 * reboot is never read as fresh): an NTP jump on a device without a real-time clock neither hides a
 * hung runtime nor restarts a healthy one.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../../study-protocol/index.js';

/** The heartbeat file's name inside the device folder. */
export const HEARTBEAT_FILE = 'service-heartbeat.json';

/** How often `hearth run` rewrites the heartbeat. */
export const HEARTBEAT_INTERVAL_MS = 30_000;

/** The heartbeat file of a device folder. */
export function heartbeatPath(deviceDir: string): string {
  return join(deviceDir, HEARTBEAT_FILE);
}

/** What the heartbeat file holds. */
export interface HeartbeatRecord {
  pid: number;
  /** The kernel's boot id when written (`/proc/sys/kernel/random/boot_id`), or null where there is none. */
  bootId: string | null;
  /** The monotonic clock (ms since boot) when written. */
  monotonicMs: number;
  /** The wall clock when written, for people reading the file. */
  utc: string;
  intervalMs: number;
}

/** The effects the heartbeat needs; `systemHeartbeatEffects` is the real machine. */
export interface HeartbeatEffects {
  /** Milliseconds on a clock shared by every process of this boot (CLOCK_MONOTONIC). */
  monotonicMs(): number;
  bootId(): string | null;
  nowUtc(): string;
  pid: number;
  /** Replace the file's content in one step (a reader never sees half a file). */
  writeAtomic(path: string, text: string): void;
  /** The file's text, or null when there is no file. */
  read(path: string): string | null;
  setInterval(fn: () => void, ms: number): { unref?: () => void } | number;
  clearInterval(handle: unknown): void;
}

/** The real machine: process.hrtime (CLOCK_MONOTONIC on Linux), /proc's boot id, node:fs. */
export function systemHeartbeatEffects(): HeartbeatEffects {
  return {
    monotonicMs: () => Number(process.hrtime.bigint() / 1_000_000n),
    bootId: () => {
      try {
        return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() || null;
      } catch {
        return null;
      }
    },
    nowUtc: () => new Date().toISOString(),
    pid: process.pid,
    writeAtomic: (path, text) => writeFileAtomic(path, text),
    read: (path) => {
      try {
        return readFileSync(path, 'utf8');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw e;
      }
    },
    setInterval: (fn, ms) => setInterval(fn, ms),
    clearInterval: (h) => clearInterval(h as NodeJS.Timeout),
  };
}

/**
 * Rewrites the heartbeat file now and every `intervalMs` until stopped. A failed write (disk full,
 * folder gone) is reported once through `onError` and retried on the next beat; it never throws.
 */
export class ServiceHeartbeat {
  private handle: unknown = null;
  private failing = false;
  constructor(
    private readonly path: string,
    private readonly fx: HeartbeatEffects,
    private readonly o: { intervalMs?: number; onError?: (message: string) => void } = {},
  ) {}

  /** Write the first beat and keep beating. */
  start(): void {
    if (this.handle !== null) return;
    this.beat();
    const h = this.fx.setInterval(() => this.beat(), this.intervalMs);
    // The heartbeat alone never keeps the process alive.
    if (typeof h === 'object' && h.unref) h.unref();
    this.handle = h;
  }

  /** Stop beating (the file stays: its age then says how long ago the runtime stopped). */
  stop(): void {
    if (this.handle === null) return;
    this.fx.clearInterval(this.handle);
    this.handle = null;
  }

  /** Write one beat. */
  beat(): void {
    const record: HeartbeatRecord = {
      pid: this.fx.pid, bootId: this.fx.bootId(), monotonicMs: this.fx.monotonicMs(), utc: this.fx.nowUtc(), intervalMs: this.intervalMs,
    };
    try {
      this.fx.writeAtomic(this.path, `${JSON.stringify(record)}\n`);
      if (this.failing) this.o.onError?.(`service heartbeat: writing ${this.path} works again`);
      this.failing = false;
    } catch (e) {
      if (!this.failing) this.o.onError?.(`service heartbeat: cannot write ${this.path}: ${(e as Error).message}; retrying every ${this.intervalMs / 1000} s`);
      this.failing = true;
    }
  }

  private get intervalMs(): number {
    return this.o.intervalMs ?? HEARTBEAT_INTERVAL_MS;
  }
}

/** Run `body` (the device runtime) with the service heartbeat beating in `deviceDir`. */
export async function withServiceHeartbeat<T>(deviceDir: string, body: () => Promise<T>, fx: HeartbeatEffects = systemHeartbeatEffects()): Promise<T> {
  const heartbeat = new ServiceHeartbeat(heartbeatPath(deviceDir), fx, { onError: (m) => process.stderr.write(`[hearth] ${m}\n`) });
  heartbeat.start();
  try {
    return await body();
  } finally {
    heartbeat.stop();
  }
}

/** The answer of a heartbeat check: `line` is the one line `hearth service-check` prints. */
export interface HeartbeatCheck {
  ok: boolean;
  line: string;
  /** Seconds since the last beat, when that is known. */
  ageSec: number | null;
}

/** Is the heartbeat at `path` younger than `maxAgeSec`? Missing, unreadable, or from before a reboot is not. */
export function checkHeartbeat(path: string, maxAgeSec: number, fx: Pick<HeartbeatEffects, 'monotonicMs' | 'bootId' | 'read'> = systemHeartbeatEffects()): HeartbeatCheck {
  let text: string | null;
  try {
    text = fx.read(path);
  } catch (e) {
    return { ok: false, ageSec: null, line: `heartbeat ${path} cannot be read: ${(e as Error).message}` };
  }
  if (text === null) return { ok: false, ageSec: null, line: `no heartbeat at ${path}: hearth run is not running for this device folder (or has never started)` };
  const record = parseRecord(text);
  if (!record) return { ok: false, ageSec: null, line: `heartbeat ${path} is not a Hearth heartbeat (expected JSON with pid, bootId, monotonicMs)` };
  const bootId = fx.bootId();
  if (record.bootId !== bootId) {
    return { ok: false, ageSec: null, line: `heartbeat ${path} was written before this machine last booted (pid ${record.pid}, ${record.utc}): hearth run has not beaten since` };
  }
  const ageSec = Math.max(0, Math.round((fx.monotonicMs() - record.monotonicMs) / 1000));
  if (ageSec > maxAgeSec) {
    return { ok: false, ageSec, line: `heartbeat ${path} is ${ageSec} s old (limit ${maxAgeSec} s; pid ${record.pid}, last at ${record.utc}): hearth run is hung or stopped` };
  }
  return { ok: true, ageSec, line: `heartbeat ok: ${ageSec} s old (limit ${maxAgeSec} s), pid ${record.pid}` };
}

function parseRecord(text: string): HeartbeatRecord | null {
  try {
    const r = JSON.parse(text) as Partial<HeartbeatRecord>;
    if (typeof r !== 'object' || r === null || !Number.isInteger(r.pid) || typeof r.monotonicMs !== 'number' || !(typeof r.bootId === 'string' || r.bootId === null)) return null;
    return { pid: r.pid!, bootId: r.bootId, monotonicMs: r.monotonicMs, utc: typeof r.utc === 'string' ? r.utc : '?', intervalMs: typeof r.intervalMs === 'number' ? r.intervalMs : HEARTBEAT_INTERVAL_MS };
  } catch {
    return null;
  }
}
