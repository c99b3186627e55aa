/**
 * The alert outbox: every incident is a row in the device database before anything touches the
 * network (`SqliteSafeguardRecords.recordIncident`), and this worker delivers the unsent ones to
 * study staff in the background — one request at a time, with a timeout, exponential backoff with
 * jitter, and an `Idempotency-Key` so a retry after a lost response is not a second alert.
 *
 * `AlertOutbox` is the `AlertChannel` the safeguard layer is given: `send()` writes the local copy
 * (`alerts.jsonl`) and wakes the worker; it never waits on the network.
 */
import { backoffDelay, type BackoffPolicy, type OutboxEntry } from '../../data/index.js';
import type { AlertChannel, IncidentReport } from './alerts.js';

/** Where the outbox lives (implemented by `SqliteSafeguardRecords` in `data/`). */
export interface AlertOutboxStore {
  /**
   * Unsent incidents due at `atMs` (null: every unsent one), in the order to send them; a retry planned
   * after `horizonMs` counts as due (the clock moved back since it was planned).
   */
  dueAlerts(atMs: number | null, limit?: number, horizonMs?: number | null): OutboxEntry[];
  /** When the next unsent incident is due (ms), or null when none is waiting. */
  nextAlertDueMs(): number | null;
  /** Count an attempt before its request goes out, and hold the incident until `retryAtMs`. */
  alertAttempted(incidentId: string, attempt: number, retryAtMs: number, atMs: number): void;
  /** The receiver took it (2xx): final. */
  alertDelivered(incidentId: string, outcome: 'sent' | 'acknowledged', atMs: number): void;
  /** The attempt failed: retry at `retryAtMs`, or stop for good (`permanent`), keeping the reason. */
  alertFailed(incidentId: string, failure: { error: string; permanent: boolean; retryAtMs: number | null }, atMs: number): void;
}

/** One request to deliver: the incident id (the idempotency key), the attempt number and the JSON body. */
export interface AlertRequest {
  incidentId: string;
  attempt: number;
  body: string;
}

/** Delivers one incident to study staff (implemented by `WebhookAlertTransport`). */
export interface AlertTransport {
  /**
   * Resolve `sent` (the receiver took it) or `acknowledged` (it also said so); reject with an
   * `AlertDeliveryError` (or any error: retried) otherwise. Must give up when `signal` aborts.
   */
  deliver(request: AlertRequest, signal: AbortSignal): Promise<'sent' | 'acknowledged'>;
  /** Where alerts go, for logs: no secret, no query string. */
  readonly describe: string;
}

/** A failed delivery: `permanent` failures are not retried (and are shown, never dropped). */
export class AlertDeliveryError extends Error {
  override readonly name = 'AlertDeliveryError';
  readonly permanent: boolean;
  /** How long the receiver asked us to wait (`Retry-After`), if it did. */
  readonly retryAfterMs: number | undefined;
  constructor(message: string, options: { permanent: boolean; retryAfterMs?: number; cause?: unknown }) {
    super(message, { cause: options.cause });
    this.permanent = options.permanent;
    this.retryAfterMs = options.retryAfterMs;
  }
}

/** Time as a port (the runtime's `Clock` fits): tests drive it by hand. */
export interface OutboxTimers {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export type { BackoffPolicy } from '../../data/index.js';

/** 5 s, 10 s, 20 s … doubling to 15 minutes. */
export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 5_000, maxMs: 15 * 60_000 };
/** Retries of one incident logged as `alerts.retrying` events one by one; after these, one in RETRY_EVENT_EVERY. */
export const RETRY_EVENTS_IN_FULL = 5;
export const RETRY_EVENT_EVERY = 16;
/** A request with no answer within this long is abandoned and retried. */
export const DEFAULT_ALERT_TIMEOUT_MS = 10_000;

/**
 * Delay before retry `attempt` (1 = after the first failure): `baseMs · 2^(attempt-1)` capped at
 * `maxMs`, with "equal jitter" (between half and all of it) so devices that lost the network together
 * do not retry together. `random` returns [0, 1).
 */
export function retryDelayMs(attempt: number, random: () => number, policy: BackoffPolicy = DEFAULT_BACKOFF): number {
  return backoffDelay(attempt, policy, random);
}

/** Everything the outbox needs. */
export interface AlertOutboxOptions {
  store: AlertOutboxStore;
  /** Where alerts go; null when no webhook is configured (incidents then wait in the outbox). */
  transport: AlertTransport | null;
  /** The device, sent with every incident. */
  deviceId: string;
  /** The local copy staff sync (`JsonlAlertChannel`), written by `send()` before it returns. */
  localCopy?: AlertChannel;
  timers: OutboxTimers;
  timeoutMs?: number;
  backoff?: BackoffPolicy;
  random?: () => number;
  /** Delivery events for the device log (`alerts.delivered`, `alerts.retrying`, `alerts.failed`, `alerts.outbox-fault`). */
  onEvent?: (kind: string, detail: Record<string, unknown>) => void;
  /** How many incidents one pass takes at most. */
  batch?: number;
}

/** The delivery body: the incident report and the device it came from. */
export interface AlertEnvelope {
  hearthAlert: 1;
  deviceId: string;
  incident: IncidentReport | OutboxEntry['report'];
}

/** What one pass over the outbox did. */
export interface DeliveryPass {
  attempted: number;
  delivered: number;
  retrying: number;
  failed: number;
}

/**
 * The delivery worker and the `AlertChannel` for the safeguard layer. `start()` resumes every unsent
 * incident (after a restart too); `send()` wakes it for a new one; it then sleeps until the next retry
 * is due. At most one request is in flight. Store and transport faults are logged and retried, never thrown.
 */
export class AlertOutbox implements AlertChannel {
  private readonly o: AlertOutboxOptions;
  private readonly timeoutMs: number;
  private running: Promise<void> | null = null;
  private again: 'none' | 'due' | 'all' = 'none';
  private timer: unknown = null;
  private inflight: AbortController | null = null;
  private started = false;
  private stopped = false;

  constructor(options: AlertOutboxOptions) {
    this.o = options;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_ALERT_TIMEOUT_MS;
  }

  /** Write the local copy, then wake the worker. Resolves without waiting on the network. */
  async send(alert: IncidentReport, signal?: AbortSignal): Promise<void> {
    try {
      await this.o.localCopy?.send(alert, signal);
    } finally {
      // The incident row was written before `send` (same transaction as the incident): deliver it even if the file failed.
      this.wake('due');
    }
  }

  /** Begin delivering: every unsent incident is tried now (whatever its retry time), then on schedule. */
  start(): void {
    if (this.started || this.stopped) return;
    this.started = true;
    this.wake('all');
  }

  /**
   * Stop: let a request in flight finish for up to `graceMs`, then abort it (it stays unsent and is
   * tried again at the next start). Resolves when the worker is idle; the store is not used after.
   */
  async stop(graceMs = 2_000): Promise<void> {
    this.stopped = true;
    this.clearTimer();
    const running = this.running;
    if (!running) return;
    const interrupt = () => this.inflight?.abort(new AlertDeliveryError('interrupted: the device stopped', { permanent: false }));
    if (graceMs <= 0) interrupt();
    const grace = graceMs > 0 ? this.o.timers.setTimeout(interrupt, graceMs) : null;
    try {
      await running;
    } finally {
      if (grace !== null) this.o.timers.clearTimeout(grace);
    }
  }

  /** Resolves when no pass is running (tests, and draining before exit). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  /**
   * Try every unsent incident once now and report what happened (a device whose participant withdrew
   * runs no sessions, but its retained alerts must still go out).
   */
  async deliverAllOnce(): Promise<DeliveryPass> {
    await this.idle();
    // Registered as the running pass, so a `send()` meanwhile waits for it instead of sending twice.
    const pass = this.pass(true);
    this.running = pass.then(() => undefined).finally(() => {
      this.running = null;
      const again = this.again;
      this.again = 'none';
      if (again !== 'none') this.wake(again);
    });
    return pass;
  }

  /** Run a pass now, or right after the one running. (`send()` before `start()` delivers too.) */
  private wake(scope: 'due' | 'all'): void {
    if (this.stopped || !this.o.transport) return;
    if (this.running) {
      if (this.again !== 'all') this.again = scope;
      return;
    }
    this.clearTimer();
    this.running = this.loop(scope).finally(() => {
      this.running = null;
    });
  }

  private async loop(first: 'due' | 'all'): Promise<void> {
    let scope: 'none' | 'due' | 'all' = first;
    while (scope !== 'none' && !this.stopped) {
      this.again = 'none';
      await this.pass(scope === 'all');
      scope = this.again;
    }
    this.schedule();
  }

  private async pass(all: boolean): Promise<DeliveryPass> {
    const result: DeliveryPass = { attempted: 0, delivered: 0, retrying: 0, failed: 0 };
    let due: OutboxEntry[];
    try {
      const now = this.o.timers.now();
      due = this.o.store.dueAlerts(all ? null : now, this.o.batch ?? 50, now + (this.o.backoff ?? DEFAULT_BACKOFF).maxMs);
    } catch (error) {
      this.event('alerts.outbox-fault', { message: (error as Error).message });
      return result;
    }
    for (const entry of due) {
      if (this.stopped || !this.o.transport) break;
      result.attempted++;
      const outcome = await this.deliverOne(entry, this.o.transport);
      result[outcome]++;
    }
    return result;
  }

  private async deliverOne(entry: OutboxEntry, transport: AlertTransport): Promise<'delivered' | 'retrying' | 'failed'> {
    const { store, timers } = this.o;
    const attempt = entry.attempts + 1;
    const random = this.o.random ?? Math.random;
    const startedAt = timers.now();
    try {
      store.alertAttempted(entry.incidentId, attempt, startedAt + retryDelayMs(attempt, random, this.o.backoff), startedAt);
    } catch (error) {
      this.event('alerts.outbox-fault', { incidentId: entry.incidentId, message: (error as Error).message });
      return 'retrying';
    }
    const envelope: AlertEnvelope = { hearthAlert: 1, deviceId: this.o.deviceId, incident: entry.report };
    const controller = new AbortController();
    this.inflight = controller;
    const timeout = timers.setTimeout(
      () => controller.abort(new AlertDeliveryError(`no answer within ${formatSeconds(this.timeoutMs)}`, { permanent: false })),
      this.timeoutMs,
    );
    try {
      const outcome = await transport.deliver({ incidentId: entry.incidentId, attempt, body: JSON.stringify(envelope) }, controller.signal);
      this.record(() => store.alertDelivered(entry.incidentId, outcome, timers.now()), entry.incidentId);
      this.event('alerts.delivered', { incidentId: entry.incidentId, kind: entry.kind, attempt, outcome });
      return 'delivered';
    } catch (thrown) {
      const error = asDeliveryError(controller.signal.aborted ? controller.signal.reason : thrown);
      const retryAtMs = error.permanent ? null : timers.now() + Math.min(this.o.backoff?.maxMs ?? DEFAULT_BACKOFF.maxMs, error.retryAfterMs ?? retryDelayMs(attempt, random, this.o.backoff));
      this.record(() => store.alertFailed(entry.incidentId, { error: error.message, permanent: error.permanent, retryAtMs }, timers.now()), entry.incidentId);
      if (error.permanent) {
        this.event('alerts.failed', { incidentId: entry.incidentId, kind: entry.kind, attempt, error: error.message });
        return 'failed';
      }
      // Every attempt is counted in the outbox row; the device log names the first few and then one in
      // RETRY_EVENT_EVERY (a month without the server: about 3,500 retries an incident at the 15-minute cap).
      if (attempt <= RETRY_EVENTS_IN_FULL || attempt % RETRY_EVENT_EVERY === 0) {
        this.event('alerts.retrying', { incidentId: entry.incidentId, kind: entry.kind, attempt, error: error.message, retryAt: new Date(retryAtMs!).toISOString() });
      }
      return 'retrying';
    } finally {
      timers.clearTimeout(timeout);
      this.inflight = null;
    }
  }

  /** Sleep until the next unsent incident is due. */
  private schedule(): void {
    if (this.stopped || !this.o.transport) return;
    let due: number | null;
    try {
      due = this.o.store.nextAlertDueMs();
    } catch (error) {
      this.event('alerts.outbox-fault', { message: (error as Error).message });
      due = this.o.timers.now() + (this.o.backoff ?? DEFAULT_BACKOFF).baseMs;
    }
    if (due === null) return;
    this.clearTimer();
    // Never sleep longer than the longest backoff: after the clock moves back, a planned time can lie far ahead.
    const wait = Math.min(Math.max(0, due - this.o.timers.now()), (this.o.backoff ?? DEFAULT_BACKOFF).maxMs);
    this.timer = this.o.timers.setTimeout(() => {
      this.timer = null;
      this.wake('due');
    }, wait);
  }

  private clearTimer(): void {
    if (this.timer !== null) this.o.timers.clearTimeout(this.timer);
    this.timer = null;
  }

  private record(fn: () => void, incidentId: string): void {
    try {
      fn();
    } catch (error) {
      // The attempt stays counted with its retry time, so the incident is tried again; say why on the log.
      this.event('alerts.outbox-fault', { incidentId, message: (error as Error).message });
    }
  }

  private event(kind: string, detail: Record<string, unknown>): void {
    try {
      this.o.onEvent?.(kind, detail);
    } catch {
      // A log fault must not stop delivery; the row itself still records the attempt.
    }
  }
}

/** Any failure as a delivery error: unknown errors are transient (retried). */
function asDeliveryError(e: unknown): AlertDeliveryError {
  if (e instanceof AlertDeliveryError) return e;
  const message = e instanceof Error ? e.message : String(e);
  return new AlertDeliveryError(message, { permanent: false, cause: e });
}

function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}
