/**
 * The device uplink (issue 12, runtime/server/PROTOCOL.md): store-and-forward from the device
 * database to the study server. The database itself is the outbox: rows are identified by
 * `(device_id, seq)`, so what is left to send is every row above the server's cursor, and nothing is
 * queued anywhere else. One async loop, one request at a time:
 *
 * - on start (and after any failure, since an upload may have landed without its answer) it asks the
 *   server's cursor, and sends increments from there: resumable after any interruption, and a replay
 *   adds nothing on the server;
 * - every 5 minutes a heartbeat, recorded first as a local `device.heartbeat` event (export's
 *   `device_health`) whether or not the server is reachable;
 * - failures back off (`data/backoff.ts`, honouring `Retry-After`); a revoked token stops it for good
 *   and is recorded for `hearth status`.
 *
 * It never blocks a session: all network I/O is async, each increment is a small synchronous SQLite
 * slice (`maxRows`, 5,000 by default) built on its own connection, gzip runs on libuv's pool, and the
 * loop yields between batches. Offline for weeks, the backlog is simply the rows above the cursor.
 */
import { readFile, rm } from 'node:fs/promises';
import {
  backoffDelay, buildIncrement, changedRowsSince, isoUtc, uplinkBacklog, type BackoffPolicy, type DeviceLog, type Store,
} from '../../data/index.js';
import type { UplinkState, UplinkStateStore } from './config.js';
import { UplinkError, type HeartbeatBody, type UplinkTransport } from './transport.js';

/** Time as a port (the runtime's `Clock` fits): the device clock, which also stamps the rows. */
export interface UplinkTimers {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** What the heartbeat says about the device, apart from what the uplink itself knows. */
export type DeviceHealth = Omit<HeartbeatBody, 'tsUtc' | 'deviceClockMs' | 'clockOffsetMs' | 'uplinkBacklogRows'>;

/** PROTOCOL.md: a heartbeat every 5 minutes. */
export const HEARTBEAT_INTERVAL_MS = 5 * 60_000;
/** How often the database is looked at for new rows when the backlog is empty. */
export const DEFAULT_POLL_MS = 30_000;
/** New rows per increment: a slice takes tens of milliseconds to build (see runtime/README.md, "Uplink"). */
export const DEFAULT_MAX_ROWS = 5_000;
/** 5 s, 10 s, 20 s … doubling to 15 minutes, as the alert outbox. */
export const UPLINK_BACKOFF: BackoffPolicy = { baseMs: 5_000, maxMs: 15 * 60_000 };

/** Everything the uplink needs; effects are injected. */
export interface UplinkOptions {
  transport: UplinkTransport;
  /** The device database (a `SqliteStore`): rows are read from it, never written but through `log`. */
  store: Store;
  /** The device's log: `device.heartbeat` and `uplink.*` events. */
  log: DeviceLog;
  deviceId: string;
  state: UplinkStateStore;
  health: () => DeviceHealth;
  timers: UplinkTimers;
  heartbeatMs?: number;
  pollMs?: number;
  maxRows?: number;
  backoff?: BackoffPolicy;
  random?: () => number;
  /** Where increment files are written (default: the system's temporary folder). */
  tmpDir?: string;
  /**
   * True while a session runs: data batches wait (heartbeats and alerts do not). Building a batch
   * holds the event loop for tens of milliseconds (measured: about 40 ms for 5,000 rows, up to 80 ms on
   * a loaded machine), which a session should never feel; between sessions there is time to spare.
   */
  busy?: () => boolean;
}

/** What the uplink is doing, for tests and `hearth status` in-process. */
export type UplinkPhase = 'idle' | 'running' | 'backing-off' | 'revoked' | 'stopped';

/** The uplink worker: `start()` runs it in the background, `stop()` ends it (aborting a request in flight). */
export class Uplink {
  private readonly o: UplinkOptions;
  private state: UplinkState;
  private phase: UplinkPhase = 'idle';
  private loop: Promise<void> | null = null;
  private readonly abort = new AbortController();
  private wake: (() => void) | null = null;
  /** Whether the cursor was asked in this run since the last failure. */
  private synced = false;
  private failures = 0;
  private nextHeartbeatMs = 0;
  private pendingHeartbeat: HeartbeatBody | null = null;
  private lastChangedOnlyMs = -Infinity;
  private clockOffsetMs: number | null = null;
  private resyncs = 0;

  constructor(options: UplinkOptions) {
    this.o = options;
    this.state = options.state.load();
  }

  /** The current durable state (a copy). */
  get snapshot(): UplinkState {
    return structuredClone(this.state);
  }

  get status(): UplinkPhase {
    return this.phase;
  }

  /** Start in the background. A revoked enrollment does not start. */
  start(): void {
    if (this.loop) return;
    if (this.state.revoked) {
      this.phase = 'revoked';
      this.loop = Promise.resolve();
      return;
    }
    this.phase = 'running';
    this.nextHeartbeatMs = this.o.timers.now();
    this.event('uplink.started', { server: this.o.transport.server, cursor: this.state.cursor });
    this.loop = this.run().catch((e: unknown) => {
      // Nothing in run() should throw; if it does, say so and stop rather than crash the device.
      this.fail(`uplink stopped by an unexpected error: ${(e as Error).message}`);
      this.phase = 'stopped';
    });
  }

  /**
   * Send everything waiting once, without heartbeats or retries, and say how it went: for a device
   * that runs no sessions any more (its participant withdrew), whose tombstone must still reach the
   * server so the server's copy is purged too.
   */
  async flush(): Promise<{ batches: number; caughtUp: boolean; error: string | null }> {
    if (this.state.revoked) return { batches: 0, caughtUp: false, error: this.state.revoked.message };
    let batches = 0;
    try {
      await this.sync();
      while (await this.sendBatch()) batches++;
      return { batches, caughtUp: true, error: null };
    } catch (e) {
      const err = e instanceof UplinkError ? e : new UplinkError(`${this.o.transport.server}: ${(e as Error).message}`, { failure: 'retry', cause: e });
      // Kept in the state file only: a withdrawn device gains no rows.
      const at = { message: err.message, atUtc: isoUtc(this.o.timers.now()) };
      this.save(err.failure === 'revoked' ? { revoked: at, lastError: at } : { lastError: at });
      return { batches, caughtUp: false, error: err.message };
    }
  }

  /** Look at the database now (new rows were written), instead of at the next poll. */
  nudge(): void {
    this.wake?.();
  }

  /**
   * Stop: with `drainMs`, first give the backlog that long to go out (a `hearth talk` session just
   * ended); then a request in flight is aborted (the server keeps or drops it whole). Resolves when the
   * loop has ended.
   */
  async stop(o: { drainMs?: number } = {}): Promise<void> {
    if (o.drainMs && this.loop && (this.phase === 'running' || this.phase === 'backing-off')) {
      const deadline = this.o.timers.now() + o.drainMs;
      // A server already failing is not waited for: the backlog goes on the next start.
      const failing = () => this.failures > 0 || (this.phase as UplinkPhase) === 'revoked';
      this.nudge();
      while (this.o.timers.now() < deadline && !failing() && !this.caughtUp()) {
        await new Promise<void>((r) => this.o.timers.setTimeout(r, 20));
      }
    }
    if (this.phase !== 'revoked') this.phase = 'stopped';
    this.abort.abort();
    this.wake?.();
    await this.loop;
  }

  private caughtUp(): boolean {
    return this.state.cursor !== null && uplinkBacklog(this.o.store, this.o.deviceId, this.state.cursor).lastSeq === this.state.cursor;
  }

  private get stopped(): boolean {
    return this.abort.signal.aborted || this.phase === 'revoked';
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      try {
        this.heartbeatIfDue();
        if (this.pendingHeartbeat) await this.sendHeartbeat();
        if (!this.synced) await this.sync();
        const sent = this.o.busy?.() ? false : await this.sendBatch();
        if (sent) this.resyncs = 0;
        this.recovered();
        if (sent) {
          // Let the session's work run between slices.
          await new Promise<void>((r) => setImmediate(r));
          continue;
        }
        await this.sleep(Math.min(this.o.pollMs ?? DEFAULT_POLL_MS, Math.max(0, this.nextHeartbeatMs - this.o.timers.now())));
      } catch (e) {
        if (this.stopped) break;
        const err = e instanceof UplinkError ? e : new UplinkError(`${this.o.transport.server}: ${(e as Error).message}`, { failure: 'retry', cause: e });
        if (err.failure === 'revoked') {
          this.revoke(err.message);
          break;
        }
        // The server's cursor is behind ours (it lost rows, or our cursor is stale): rebuild from its
        // cursor now. Only the first few in a row skip the backoff, so a confused server is not hammered.
        if (err.failure === 'resync' && ++this.resyncs <= 3) {
          this.synced = false;
          if (err.lastSeq !== undefined) this.save({ cursor: err.lastSeq, changedSinceMs: null });
          continue;
        }
        this.synced = false;
        this.failures++;
        this.fail(err.message);
        this.phase = 'backing-off';
        const backoff = this.o.backoff ?? UPLINK_BACKOFF;
        // A permanent refusal is not repeated at once: the longest wait, then again (a server fixed meanwhile resumes).
        const delay = err.failure === 'permanent' ? backoff.maxMs : Math.max(backoffDelay(this.failures, backoff, this.o.random ?? Math.random), err.retryAfterMs ?? 0);
        // Woken early for the next local heartbeat, which is due even while the server is away.
        await this.sleep(Math.min(delay, Math.max(0, this.nextHeartbeatMs - this.o.timers.now())));
        if (!this.stopped) this.phase = 'running';
      }
    }
  }

  /** Record a local heartbeat when one is due; it is sent to the server (latest one only) as soon as possible. */
  private heartbeatIfDue(): void {
    const now = this.o.timers.now();
    if (now < this.nextHeartbeatMs) return;
    this.nextHeartbeatMs = now + (this.o.heartbeatMs ?? HEARTBEAT_INTERVAL_MS);
    const backlog = uplinkBacklog(this.o.store, this.o.deviceId, this.state.cursor ?? 0);
    const body: HeartbeatBody = {
      ...this.o.health(), tsUtc: isoUtc(now), deviceClockMs: now, clockOffsetMs: this.clockOffsetMs, uplinkBacklogRows: backlog.rows,
    };
    // Field order as PROTOCOL.md lists it, so a heartbeat reads the same in the log and on the wire.
    const ordered = {
      tsUtc: body.tsUtc, deviceClockMs: body.deviceClockMs, clockSource: body.clockSource, clockOffsetMs: body.clockOffsetMs,
      hearthVersion: body.hearthVersion, protocolHash: body.protocolHash, freeDiskBytes: body.freeDiskBytes, dbBytes: body.dbBytes,
      lastSession: body.lastSession, perception: body.perception, safeguards: body.safeguards, alertOutbox: body.alertOutbox,
      uplinkBacklogRows: body.uplinkBacklogRows,
    };
    this.o.log.recordEvent('device.heartbeat', ordered, now);
    this.pendingHeartbeat = ordered;
  }

  private async sendHeartbeat(): Promise<void> {
    const body = this.pendingHeartbeat!;
    try {
      const sentMs = this.o.timers.now();
      const answer = await this.o.transport.heartbeat(body, this.abort.signal);
      this.measureOffset(sentMs, answer.serverTimeMs);
      this.pendingHeartbeat = null;
      this.save({ lastHeartbeatUtc: body.tsUtc });
    } catch (e) {
      // A refused heartbeat is dropped (and shown), so it cannot hold back the data behind it.
      if (e instanceof UplinkError && e.failure === 'permanent') {
        this.pendingHeartbeat = null;
        this.fail(e.message);
        return;
      }
      throw e;
    }
  }

  /** Ask the server where this device's data stands. */
  private async sync(): Promise<void> {
    const sentMs = this.o.timers.now();
    const answer = await this.o.transport.cursor(this.abort.signal);
    this.measureOffset(sentMs, answer.serverTimeMs);
    this.synced = true;
    if (answer.lastSeq !== this.state.cursor) this.save({ cursor: answer.lastSeq });
  }

  /** Send one increment if anything is waiting; true when one went. */
  private async sendBatch(): Promise<boolean> {
    const cursor = this.state.cursor ?? 0;
    const { store, deviceId } = this.o;
    const backlog = uplinkBacklog(store, deviceId, cursor);
    if (backlog.lastSeq < cursor) {
      throw new UplinkError(`${this.o.transport.server}: the server holds this device's rows up to seq ${cursor}, but this database only up to ${backlog.lastSeq} ` +
        '(was the device database re-created? enroll it as a new device)', { failure: 'permanent' });
    }
    const now = this.o.timers.now();
    const since = this.state.changedSinceMs;
    if (backlog.lastSeq === cursor) {
      if (backlog.lastSeq === 0) return false;
      // Only rows changed in place (a schedule instance's status): at most once per heartbeat interval,
      // so a row stamped in the future (a clock set back) cannot make it upload in a loop.
      const changed = since === null || changedRowsSince(store, deviceId, cursor, since) > 0;
      if (!changed || now - this.lastChangedOnlyMs < (this.o.heartbeatMs ?? HEARTBEAT_INTERVAL_MS)) return false;
      this.lastChangedOnlyMs = now;
    }
    const started = performance.now();
    const inc = await buildIncrement(store, { deviceId, seqFrom: cursor, maxRows: this.o.maxRows ?? DEFAULT_MAX_ROWS, changedSince: since, ...(this.o.tmpDir ? { dir: this.o.tmpDir } : {}) });
    const buildMs = Math.round(performance.now() - started);
    let body: Buffer;
    try {
      body = await readFile(inc.file);
    } finally {
      await rm(inc.file, { force: true });
    }
    const answer = await this.o.transport.uploadBatch({ seqFrom: inc.seqFrom, seqTo: inc.seqTo, body }, this.abort.signal);
    if (answer.lastSeq < inc.seqTo) {
      throw new UplinkError(`${this.o.transport.server}: batch ${inc.seqFrom}-${inc.seqTo} answered lastSeq ${answer.lastSeq}, short of ${inc.seqTo}`, { failure: 'retry' });
    }
    this.save({
      cursor: answer.lastSeq, changedSinceMs: now,
      lastBatch: { seqFrom: inc.seqFrom, seqTo: inc.seqTo, rows: inc.rows + inc.changedRows, gzipBytes: inc.gzipBytes, buildMs, atUtc: isoUtc(this.o.timers.now()) },
    });
    return true;
  }

  /** Server time minus device time at the middle of the round trip. */
  private measureOffset(sentMs: number, serverTimeMs: number): void {
    this.clockOffsetMs = Math.round(serverTimeMs - (sentMs + this.o.timers.now()) / 2);
  }

  private recovered(): void {
    if (this.failures === 0) return;
    this.event('uplink.recovered', { after: this.failures });
    this.failures = 0;
  }

  /** Keep the last error (shown by `hearth status`); the first of a run of failures is also a local event. */
  private fail(message: string): void {
    if (this.failures <= 1) this.event('uplink.failing', { error: message });
    this.save({ lastError: { message, atUtc: isoUtc(this.o.timers.now()) } });
  }

  private revoke(message: string): void {
    this.phase = 'revoked';
    this.save({ revoked: { message, atUtc: isoUtc(this.o.timers.now()) }, lastError: { message, atUtc: isoUtc(this.o.timers.now()) } });
    this.event('uplink.revoked', { server: this.o.transport.server, error: message });
  }

  private save(change: Partial<UplinkState>): void {
    this.state = { ...this.state, ...change };
    try {
      this.o.state.save(this.state);
    } catch (e) {
      // A full disk must not stop the uplink: the server's cursor is the truth, asked again on start.
      this.event('uplink.state-unsaved', { error: (e as Error).message });
    }
  }

  private event(kind: string, detail: Record<string, unknown>): void {
    try {
      this.o.log.recordEvent(kind, detail, this.o.timers.now());
    } catch {
      // The log is the session's; if it cannot be written the session will say so, not the uplink.
    }
  }

  private sleep(ms: number): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = () => {
        this.o.timers.clearTimeout(handle);
        this.wake = null;
        resolve();
      };
      const handle = this.o.timers.setTimeout(done, ms);
      this.wake = done;
    });
  }
}
