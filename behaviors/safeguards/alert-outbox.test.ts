import { createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteStore, type DeviceLog, type IncidentRecord, type SafeguardRecords } from '../../data/index.js';
import { buildIncident, type IncidentReport } from './alerts.js';
import { AlertOutbox, DEFAULT_BACKOFF, retryDelayMs, type AlertEnvelope, type OutboxTimers } from './alert-outbox.js';
import { resolveAlertWebhook, WebhookAlertTransport, type AlertWebhookSettings } from './alert-outbox-webhook.js';
import { SafeguardLayer } from './guard.js';
import { JsonlAlertChannel } from './jsonl-alert-channel.js';

// A real webhook on 127.0.0.1 (random port) that can fail, hang, refuse, lose its answer and come back;
// time for backoff and request timeouts is driven by hand, so nothing here sleeps for seconds.

/** What the webhook does with one request. */
type Behaviour = 'ok' | 'ack' | 'hang' | 'lose' | { status: number; retryAfter?: string };

interface Received {
  key: string | undefined;
  attempt: string | undefined;
  signature: string | undefined;
  raw: string;
  body: AlertEnvelope;
}

/** A webhook that de-duplicates on Idempotency-Key, as the contract asks receivers to. */
class Webhook {
  readonly received: Received[] = [];
  /** Incidents the receiver has taken (processed once per key). */
  readonly processed = new Map<string, AlertEnvelope>();
  queue: Behaviour[] = [];
  fallback: Behaviour = 'ack';
  port = 0;
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();

  get url(): string {
    return `http://127.0.0.1:${this.port}/hearth/alerts`;
  }

  async listen(): Promise<void> {
    const server = createServer((req, res) => this.handle(req, res));
    server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  /** Go away: the port then refuses connections until `listen()` again. */
  async close(): Promise<void> {
    const server = this.server;
    this.server = null;
    for (const s of this.sockets) s.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private handle(req: IncomingMessage, res: import('node:http').ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const key = req.headers['idempotency-key'] as string | undefined;
      this.received.push({ key, attempt: req.headers['x-hearth-attempt'] as string | undefined, signature: req.headers['x-hearth-signature'] as string | undefined, raw, body: JSON.parse(raw) as AlertEnvelope });
      const b = this.queue.shift() ?? this.fallback;
      res.setHeader('connection', 'close');
      if (b === 'hang') return;
      if (typeof b === 'object') {
        if (b.retryAfter) res.setHeader('retry-after', b.retryAfter);
        res.writeHead(b.status, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'echo of the request', raw }));
        return;
      }
      if (key && !this.processed.has(key)) this.processed.set(key, JSON.parse(raw) as AlertEnvelope);
      // The receiver took it, but its answer never reaches the device.
      if (b === 'lose') return void req.socket.destroy();
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(b === 'ack' ? { acknowledged: true } : { ok: true }));
    });
  }
}

/** Timers driven by hand: `advance(ms)` fires what falls due, in order. */
class HandTimers implements OutboxTimers {
  nowMs = Date.UTC(2026, 2, 3, 15, 0);
  private timers: { id: number; at: number; fn: () => void }[] = [];
  private nextId = 1;
  now(): number {
    return this.nowMs;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.timers.push({ id, at: this.nowMs + Math.max(0, ms), fn });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.timers = this.timers.filter((t) => t.id !== handle);
  }
  /** When the earliest timer fires, relative to now (null when none is set). */
  get nextInMs(): number | null {
    return this.timers.length ? Math.min(...this.timers.map((t) => t.at)) - this.nowMs : null;
  }
  /** The wall clock jumps (NTP, a device without a real-time clock); timers keep their delays. */
  jumpClock(ms: number): void {
    this.nowMs += ms;
    for (const t of this.timers) t.at += ms;
  }
  advance(ms: number): void {
    const end = this.nowMs + ms;
    for (;;) {
      const due = this.timers.filter((t) => t.at <= end).sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (!due) break;
      this.timers = this.timers.filter((t) => t !== due);
      this.nowMs = Math.max(this.nowMs, due.at);
      due.fn();
    }
    this.nowMs = end;
  }
}

/** Wait (in real time, briefly) for real I/O to reach a state. */
async function until(what: string, cond: () => boolean, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

const SECRET = 'correct horse battery staple';
const WORDS = 'I have the pills counted out on the table';
let dir: string;
let store: SqliteStore;
let log: DeviceLog;
let records: SafeguardRecords;
let timers: HandTimers;
let hook: Webhook;
let events: { kind: string; detail: Record<string, unknown> }[];
const outboxes: AlertOutbox[] = [];

const settings = (over: Partial<AlertWebhookSettings> = {}): AlertWebhookSettings => ({
  url: hook.url, source: 'test', secret: SECRET, secretSource: 'test', timeoutMs: 10_000, ...over,
});
const outbox = (over: Partial<ConstructorParameters<typeof AlertOutbox>[0]> = {}): AlertOutbox => {
  const o = new AlertOutbox({
    store: records, transport: new WebhookAlertTransport(settings()), deviceId: 'dev-1', timers, random: () => 0,
    localCopy: new JsonlAlertChannel(dir), onEvent: (kind, detail) => events.push({ kind, detail }), timeoutMs: 10_000, ...over,
  });
  outboxes.push(o);
  return o;
};
let n = 0;
/** Record an incident as the safeguard layer does: the row first, then the channel. */
const incident = (kind: IncidentReport['kind'] = 'crisis'): IncidentReport => {
  const report = buildIncident({
    incidentId: `inc-${++n}`, kind, atMs: timers.now(), deviceId: 'dev-1', participantId: 'p1', sessionId: 's1', turnId: null, robotAction: 'I am here with you. Call or text 988.',
    checks: [{ check: 'crisis', version: '3', score: 0.9, threshold: 0.5, decision: 'flag', evidenceSpan: { start: 0, end: WORDS.length, text: WORDS, cue: 'crisis.means' } }],
  });
  records.recordIncident(report, timers.now());
  return report;
};
const row = (id: string): IncidentRecord => records.incident(id)!;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hearth-outbox-'));
  store = SqliteStore.open(join(dir, 'hearth.sqlite'));
  timers = new HandTimers();
  log = store.forDevice({ deviceId: 'dev-1', tz: 'Europe/London', clockSource: 'simulated' });
  log.registerDevice({ hardware: 'test', hearthVersion: '0.1.0' }, timers.now());
  log.enrollParticipant({ participantId: 'p1', startDate: '2026-03-01', condition: null, protocolId: null, protocolVersion: null, protocolHash: null }, timers.now());
  log.startSession({ sessionId: 's1', participantId: 'p1', studyDay: 3, protocolHash: null, condition: null }, timers.now());
  records = store.safeguards(log);
  hook = new Webhook();
  await hook.listen();
  events = [];
  n = 0;
});
afterEach(async () => {
  await Promise.all(outboxes.splice(0).map((o) => o.stop(0)));
  await hook.close();
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('AlertOutbox delivering to a webhook', () => {
  it('posts each incident once with its Idempotency-Key, a verifiable HMAC signature and the report + device id', async () => {
    const a = incident('crisis');
    const b = incident('minor');
    hook.queue = ['ack', 'ok'];
    outbox().start();
    await until('both delivered', () => row(a.incidentId).deliveryStatus !== 'unsent' && row(b.incidentId).deliveryStatus !== 'unsent');

    expect(hook.received.map((r) => r.key)).toEqual([a.incidentId, b.incidentId]);
    for (const r of hook.received) {
      expect(r.signature).toBe(`sha256=${createHmac('sha256', SECRET).update(r.raw).digest('hex')}`);
      expect(r.attempt).toBe('1');
    }
    expect(hook.received[0]!.body).toMatchObject({
      hearthAlert: 1, deviceId: 'dev-1',
      incident: { incidentId: a.incidentId, kind: 'crisis', severity: 'serious', participantId: 'p1', sessionId: 's1', eventDate: a.eventDate, robotAction: a.robotAction, reportDueBy: a.reportDueBy },
    });
    // The participant's words stay on the device: the body names the rule that fired, with its score.
    expect(hook.received[0]!.body.incident.checks).toEqual([{ check: 'crisis', version: '3', score: 0.9, threshold: 0.5, decision: 'flag', cue: 'crisis.means' }]);
    expect(hook.received.map((r) => r.raw).join('')).not.toContain('pills');
    // A 2xx with {"acknowledged": true} is acknowledged; any other 2xx is sent. Both are final.
    expect(row(a.incidentId)).toMatchObject({ deliveryStatus: 'acknowledged', deliveryAttempts: 1, sentTsUtc: a.eventDate, acknowledgedTsUtc: a.eventDate, nextAttemptTsUtc: null });
    expect(row(b.incidentId)).toMatchObject({ deliveryStatus: 'sent', deliveryAttempts: 1, acknowledgedTsUtc: null });
    expect(timers.nextInMs).toBeNull();
    timers.advance(DEFAULT_BACKOFF.maxMs * 10);
    await new Promise((r) => setTimeout(r, 20));
    expect(hook.received).toHaveLength(2);
    expect(events.map((e) => e.kind)).toEqual(['alerts.delivered', 'alerts.delivered']);
  });

  it('retries a 500, a hang (timeout) and a refused connection with growing backoff, then delivers when the server comes back', async () => {
    const a = incident();
    hook.queue = [{ status: 500 }, 'hang'];
    outbox().start();
    await until('first attempt failed', () => row(a.incidentId).lastError !== null);
    expect(row(a.incidentId)).toMatchObject({ deliveryStatus: 'unsent', deliveryAttempts: 1, lastError: 'HTTP 500 Internal Server Error' });
    // The answer's body (which echoed the request) is never kept.
    expect(row(a.incidentId).lastError).not.toMatch(/pills/);
    expect(timers.nextInMs).toBe(retryDelayMs(1, () => 0));

    timers.advance(timers.nextInMs!);
    await until('second request arrived', () => hook.received.length === 2);
    expect(row(a.incidentId).deliveryStatus).toBe('unsent');
    timers.advance(10_000); // the request timeout
    await until('timeout recorded', () => row(a.incidentId).deliveryAttempts === 2 && row(a.incidentId).lastError !== 'HTTP 500 Internal Server Error');
    expect(row(a.incidentId).lastError).toBe('no answer within 10 s');
    expect(timers.nextInMs).toBe(retryDelayMs(2, () => 0));

    await hook.close();
    timers.advance(timers.nextInMs!);
    await until('refusal recorded', () => row(a.incidentId).deliveryAttempts === 3 && /cannot reach/.test(row(a.incidentId).lastError ?? ''));
    // Under load the closing server may reset rather than refuse: either way the device could not reach it.
    expect(row(a.incidentId).lastError).toMatch(new RegExp(`^cannot reach ${hook.url.replace(/[.?*+^$()[\]{}|\\/]/g, '\\$&')} \\(\\w[^)]*\\)$`));
    expect(timers.nextInMs).toBe(retryDelayMs(3, () => 0));

    await hook.listen(); // same port
    timers.advance(timers.nextInMs!);
    await until('delivered', () => row(a.incidentId).deliveryStatus === 'acknowledged');
    expect(row(a.incidentId)).toMatchObject({ deliveryAttempts: 4, lastError: expect.stringMatching(/^cannot reach /) });
    // The refused attempt (3) never reached the server.
    expect(hook.received.map((r) => [r.key, r.attempt])).toEqual([[a.incidentId, '1'], [a.incidentId, '2'], [a.incidentId, '4']]);
    expect(hook.processed.size).toBe(1);
    expect(events.map((e) => e.kind)).toEqual(['alerts.retrying', 'alerts.retrying', 'alerts.retrying', 'alerts.delivered']);
  });

  it('names the first five retries of an incident in the device log and then one in sixteen, while the outbox row counts every attempt', async () => {
    const a = incident();
    let calls = 0;
    const refusing = { deliver: async () => { throw new Error(`cannot reach the server (ECONNREFUSED, call ${++calls})`); } };
    outbox({ transport: refusing as never }).start();
    for (let i = 1; i <= 40; i++) {
      // Failed and recorded (the message names the call), so the timer now set is the retry's.
      await until(`attempt ${i}`, () => (row(a.incidentId).lastError ?? '').endsWith(`call ${i})`));
      timers.advance(timers.nextInMs!);
    }
    await until('attempt 41', () => (row(a.incidentId).lastError ?? '').endsWith('call 41)'));
    expect(row(a.incidentId).deliveryAttempts).toBe(41);
    const logged = events.filter((e) => e.kind === 'alerts.retrying').map((e) => e.detail.attempt);
    expect(logged).toEqual([1, 2, 3, 4, 5, 16, 32]);
    expect(row(a.incidentId).deliveryStatus).not.toBe('acknowledged');
  });

  it('a lost response is retried with the same Idempotency-Key: the receiver takes the incident exactly once', async () => {
    const a = incident();
    const b = incident('harm');
    hook.queue = ['lose', 'ack', 'ack'];
    outbox().start();
    await until('first answer lost', () => row(a.incidentId).lastError !== null);
    await until('second incident delivered', () => row(b.incidentId).deliveryStatus === 'acknowledged');
    timers.advance(timers.nextInMs!);
    await until('retried and acknowledged', () => row(a.incidentId).deliveryStatus === 'acknowledged');
    expect(hook.received.map((r) => r.key)).toEqual([a.incidentId, b.incidentId, a.incidentId]);
    expect(hook.received[0]!.raw).toBe(hook.received[2]!.raw);
    expect([...hook.processed.keys()].sort()).toEqual([a.incidentId, b.incidentId].sort());
    expect(row(a.incidentId).deliveryAttempts).toBe(2);
  });

  it('a 4xx is a permanent failure kept with its reason; 408 and 429 are retried, honouring Retry-After', async () => {
    const a = incident();
    hook.queue = [{ status: 429, retryAfter: '120' }, { status: 408 }, { status: 403 }];
    outbox().start();
    await until('429 recorded', () => row(a.incidentId).lastError !== null);
    expect(row(a.incidentId)).toMatchObject({ deliveryStatus: 'unsent', lastError: 'HTTP 429 Too Many Requests' });
    expect(timers.nextInMs).toBe(120_000);
    timers.advance(120_000);
    await until('408 recorded', () => row(a.incidentId).deliveryAttempts === 2 && row(a.incidentId).lastError === 'HTTP 408 Request Timeout');
    timers.advance(timers.nextInMs!);
    await until('403 recorded', () => row(a.incidentId).deliveryStatus === 'failed');
    expect(row(a.incidentId)).toMatchObject({ deliveryAttempts: 3, lastError: 'HTTP 403 Forbidden: refused by the receiver; not retried', nextAttemptTsUtc: null });
    // Still shown as not delivered, never dropped, and not retried on its own.
    expect(records.unsentIncidents().map((i) => i.incidentId)).toEqual([a.incidentId]);
    expect(timers.nextInMs).toBeNull();
    expect(events.at(-1)).toMatchObject({ kind: 'alerts.failed', detail: { incidentId: a.incidentId, error: expect.stringMatching(/403/) } });
  });

  it('survives a restart: the next start resumes every unsent incident at once, and sends nothing twice', async () => {
    const done = incident('medical');
    const waiting = incident();
    hook.queue = ['ack', { status: 503 }];
    const first = outbox();
    first.start();
    await until('one delivered, one waiting', () => row(done.incidentId).deliveryStatus === 'acknowledged' && row(waiting.incidentId).lastError !== null);
    await first.stop();
    expect(row(waiting.incidentId).nextAttemptTsUtc).not.toBeNull();

    // Power cut and reboot: a new process, a new store on the same file.
    store.close();
    store = SqliteStore.open(join(dir, 'hearth.sqlite'));
    log = store.forDevice({ deviceId: 'dev-1', tz: 'Europe/London', clockSource: 'simulated' });
    records = store.safeguards(log);
    outbox().start();
    await until('resumed', () => row(waiting.incidentId).deliveryStatus === 'acknowledged');
    expect(hook.received.map((r) => r.key)).toEqual([done.incidentId, waiting.incidentId, waiting.incidentId]);
  });

  it('never blocks the session: the crisis reply is ready while the webhook hangs, and the local copy is written first', async () => {
    hook.fallback = 'hang';
    const box = outbox();
    box.start();
    const layer = new SafeguardLayer({
      log, alerts: box, deviceId: 'dev-1', participantId: 'p1', region: 'US', now: () => timers.now(), values: records, incidents: records, newId: () => 'inc-live',
    });
    const decision = await layer.onParticipantTurn("I don't want to be alive anymore.", { sessionId: 's1', turnId: null, studyDay: 3 });
    expect(decision).toMatchObject({ action: 'crisis', reply: { text: expect.stringMatching(/988/) } });
    expect(row('inc-live')).toMatchObject({ alertStatus: 'sent', deliveryStatus: 'unsent' });
    expect(JSON.parse(readFileSync(join(dir, 'alerts.jsonl'), 'utf8')).incidentId).toBe('inc-live');
    await until('the request is out', () => hook.received.length === 1);
    expect(row('inc-live').deliveryStatus).toBe('unsent');
    await box.stop(0);
    expect(row('inc-live')).toMatchObject({ deliveryStatus: 'unsent', lastError: 'interrupted: the device stopped' });
  });

  it('without a webhook, incidents stay unsent in the outbox and in alerts.jsonl, and nothing is sent', async () => {
    const box = outbox({ transport: null });
    box.start();
    const a = incident();
    await box.send(a);
    timers.advance(DEFAULT_BACKOFF.maxMs);
    await new Promise((r) => setTimeout(r, 20));
    expect(hook.received).toEqual([]);
    expect(row(a.incidentId)).toMatchObject({ deliveryStatus: 'unsent', deliveryAttempts: 0 });
    expect(readFileSync(join(dir, 'alerts.jsonl'), 'utf8')).toContain(a.incidentId);
  });

  it('a clock moved back does not strand a planned retry', async () => {
    const a = incident();
    hook.queue = [{ status: 500 }];
    outbox().start();
    await until('first attempt failed', () => row(a.incidentId).lastError !== null);
    timers.jumpClock(-86_400_000);
    timers.advance(timers.nextInMs!);
    await until('delivered anyway', () => row(a.incidentId).deliveryStatus === 'acknowledged');
    expect(row(a.incidentId).deliveryAttempts).toBe(2);
  });

  it('deliverAllOnce tries every unsent incident once and says what happened', async () => {
    incident();
    incident();
    hook.queue = ['ack', { status: 500 }];
    const pass = await outbox().deliverAllOnce();
    expect(pass).toEqual({ attempted: 2, delivered: 1, retrying: 1, failed: 0 });
  });
});

describe('retryDelayMs', () => {
  it('starts near 5 s, doubles, is capped at 15 minutes, and is jittered between half and all of it', () => {
    expect([1, 2, 3, 4].map((a) => retryDelayMs(a, () => 0.999999))).toEqual([5_000, 10_000, 20_000, 40_000]);
    expect(retryDelayMs(1, () => 0)).toBe(2_500);
    expect(retryDelayMs(20, () => 0.999999)).toBe(900_000);
    expect(retryDelayMs(500, () => 0)).toBe(450_000);
  });
});

describe('resolveAlertWebhook', () => {
  const base = { protocolFile: 'devices/P07/protocol.yaml', deviceDir: '/nonexistent' };
  it('takes the URL from HEARTH_ALERT_WEBHOOK over the protocol, and the secret from the variable the protocol names', () => {
    const r = resolveAlertWebhook({ ...base, env: { HEARTH_ALERT_WEBHOOK: 'https://alerts.example.edu/in', STUDY_SECRET: 's3' }, protocol: { url: 'https://other.example.edu', secret_env: 'STUDY_SECRET' } });
    expect(r).toEqual({ ok: true, settings: { url: 'https://alerts.example.edu/in', source: 'HEARTH_ALERT_WEBHOOK', secret: 's3', secretSource: 'environment variable STUDY_SECRET (devices/P07/protocol.yaml: device.alert_webhook.secret_env)', timeoutMs: 10_000 } });
  });
  it('reads a secret file in the device folder; none configured is not an error', () => {
    const r = resolveAlertWebhook({ ...base, env: {}, protocol: { url: 'https://a.example.edu', secret_file: 'alert-secret', timeout_seconds: 5 }, readFile: (p) => (p === '/nonexistent/alert-secret' ? 'abc\n' : '') });
    expect(r).toMatchObject({ ok: true, settings: { secret: 'abc', timeoutMs: 5_000 } });
    expect(resolveAlertWebhook({ ...base, env: {} })).toEqual({ ok: true, settings: null });
  });
  it('names the source of every problem', () => {
    expect(resolveAlertWebhook({ ...base, env: { HEARTH_ALERT_WEBHOOK: 'http://alerts.example.edu/in' } })).toEqual({
      ok: false, reason: 'HEARTH_ALERT_WEBHOOK: plain http is allowed only to 127.0.0.1 or localhost, not alerts.example.edu; use https://',
    });
    expect(resolveAlertWebhook({ ...base, env: {}, protocol: { url: 'https://user:pw@a.example.edu' } })).toMatchObject({
      ok: false, reason: expect.stringMatching(/^devices\/P07\/protocol\.yaml: device\.alert_webhook\.url: the URL must not carry a user or password/),
    });
    expect(resolveAlertWebhook({ ...base, env: {}, protocol: { url: 'ftp://a.example.edu' } })).toMatchObject({ ok: false, reason: expect.stringMatching(/url: ftp:\/\/ is not allowed/) });
    expect(resolveAlertWebhook({ ...base, env: {}, protocol: { url: 'not a url' } })).toMatchObject({ ok: false, reason: expect.stringMatching(/"not a url" is not a URL/) });
    expect(resolveAlertWebhook({ ...base, env: {}, protocol: { url: 'https://a.example.edu', secret_env: 'MISSING' } })).toEqual({
      ok: false, reason: 'devices/P07/protocol.yaml: device.alert_webhook.secret_env: environment variable MISSING is not set; set it to the shared secret or remove secret_env',
    });
    expect(resolveAlertWebhook({ ...base, env: {}, protocol: { url: 'https://a.example.edu', secret_file: 'alert-secret' } })).toMatchObject({
      ok: false, reason: 'devices/P07/protocol.yaml: device.alert_webhook.secret_file: cannot read /nonexistent/alert-secret (ENOENT)',
    });
    expect(resolveAlertWebhook({ ...base, env: { HEARTH_ALERT_WEBHOOK: 'http://localhost:8080/a' } })).toMatchObject({ ok: true, settings: { url: 'http://localhost:8080/a', secret: null } });
  });
});
