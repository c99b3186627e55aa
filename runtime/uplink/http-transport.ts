/**
 * The uplink over HTTP(S) with Node's built-in `fetch` (runtime/server/PROTOCOL.md): the device
 * routes under a bearer token, and enrollment with a one-time code. Every answer is parsed and checked
 * where it enters; nothing from the server is trusted to have the right shape.
 */
import { describeWebhookUrl } from '../../behaviors/index.js';
import { networkReason, retryAfterMs } from '../../data/index.js';
import {
  UplinkError, type BatchAnswer, type BatchUpload, type CursorAnswer, type HeartbeatAnswer, type HeartbeatBody, type UplinkTransport,
} from './transport.js';

/** A request with no answer within this long is abandoned (and retried by the uplink). */
export const DEFAULT_UPLINK_TIMEOUT_MS = 30_000;
/** The most of an answer read: the protocol's answers are a few hundred bytes. */
const MAX_ANSWER_BYTES = 64 * 1024;

/** Settings of `HttpUplinkTransport`. */
export interface HttpUplinkSettings {
  /** The server's base URL (`https://study.example.edu`); routes are under `/api/v1`. */
  server: string;
  deviceId: string;
  token: string;
  timeoutMs?: number;
  /** Injected for tests; the global `fetch` otherwise. */
  fetch?: typeof fetch;
}

/** `UplinkTransport` over HTTP: one request per call, a timeout on each, redirects not followed. */
export class HttpUplinkTransport implements UplinkTransport {
  readonly server: string;
  private readonly base: string;
  private readonly settings: HttpUplinkSettings;
  private readonly fetchImpl: typeof fetch;

  constructor(settings: HttpUplinkSettings) {
    this.settings = settings;
    this.fetchImpl = settings.fetch ?? fetch;
    this.server = describeWebhookUrl(settings.server);
    this.base = `${settings.server.replace(/\/+$/, '')}/api/v1/devices/${encodeURIComponent(settings.deviceId)}`;
  }

  /** The URL of the alerts route, for the alert outbox's webhook transport. */
  get alertsUrl(): string {
    return `${this.base}/alerts`;
  }

  async cursor(signal: AbortSignal): Promise<CursorAnswer> {
    const body = await this.call('GET', '/cursor', null, {}, signal);
    const lastSeq = body.lastSeq;
    if (!isCount(lastSeq) || typeof body.serverTimeMs !== 'number') throw this.unreadable('cursor', 'lastSeq and serverTimeMs');
    return { lastSeq, serverTimeMs: body.serverTimeMs };
  }

  async heartbeat(heartbeat: HeartbeatBody, signal: AbortSignal): Promise<HeartbeatAnswer> {
    const body = await this.call('POST', '/heartbeat', JSON.stringify(heartbeat), { 'content-type': 'application/json' }, signal);
    if (typeof body.receivedTsUtc !== 'string' || typeof body.serverTimeMs !== 'number') throw this.unreadable('heartbeat', 'receivedTsUtc and serverTimeMs');
    return { receivedTsUtc: body.receivedTsUtc, serverTimeMs: body.serverTimeMs };
  }

  async uploadBatch(batch: BatchUpload, signal: AbortSignal): Promise<BatchAnswer> {
    const body = await this.call('POST', '/batches', batch.body, {
      'content-type': 'application/vnd.hearth.increment+sqlite', 'content-encoding': 'gzip', 'x-hearth-batch': `${batch.seqFrom}-${batch.seqTo}`,
    }, signal);
    if (!isCount(body.lastSeq)) throw this.unreadable(`batch ${batch.seqFrom}-${batch.seqTo}`, 'lastSeq');
    return { lastSeq: body.lastSeq, ...(isCount(body.queued) ? { queued: body.queued } : {}) };
  }

  private async call(method: string, route: string, body: string | Uint8Array | null, headers: Record<string, string>, signal: AbortSignal): Promise<Record<string, unknown>> {
    const answer = await request(this.fetchImpl, `${this.base}${route}`, {
      method, body, signal, timeoutMs: this.settings.timeoutMs ?? DEFAULT_UPLINK_TIMEOUT_MS, server: this.server,
      headers: { ...headers, authorization: `Bearer ${this.settings.token}` },
    });
    if (answer.status >= 200 && answer.status < 300) return answer.json ?? {};
    throw failureOf(this.server, `${method} ${route}`, answer);
  }

  private unreadable(what: string, fields: string): UplinkError {
    return new UplinkError(`${this.server}: the ${what} answer lacks ${fields}`, { failure: 'retry', status: 200 });
  }
}

/** What `enrollDevice` gets back. */
export interface Enrollment {
  deviceId: string;
  token: string;
  serverTimeMs: number;
}

/**
 * Enroll a device with a one-time code (`POST /api/v1/enroll`). Throws `UplinkError` with one line
 * naming the server and the problem (code refused, bound to another device, too many attempts, unreachable).
 */
export async function enrollDevice(o: { server: string; code: string; deviceId: string; hearthVersion: string; fetch?: typeof fetch; timeoutMs?: number }): Promise<Enrollment> {
  const server = describeWebhookUrl(o.server);
  const answer = await request(o.fetch ?? fetch, `${o.server.replace(/\/+$/, '')}/api/v1/enroll`, {
    method: 'POST', body: JSON.stringify({ code: o.code, deviceId: o.deviceId, hearthVersion: o.hearthVersion }),
    headers: { 'content-type': 'application/json' }, signal: new AbortController().signal, timeoutMs: o.timeoutMs ?? DEFAULT_UPLINK_TIMEOUT_MS, server,
  });
  if (answer.status === 201 || answer.status === 200) {
    const b = answer.json ?? {};
    if (typeof b.token !== 'string' || !TOKEN.test(b.token) || typeof b.deviceId !== 'string') {
      throw new UplinkError(`${server}: the enrollment answer has no valid token (expected hth_ and 43 base64url characters)`, { failure: 'permanent', status: answer.status });
    }
    if (b.deviceId !== o.deviceId) throw new UplinkError(`${server}: enrolled device ${b.deviceId}, but this device is ${o.deviceId}`, { failure: 'permanent', status: answer.status });
    return { deviceId: b.deviceId, token: b.token, serverTimeMs: typeof b.serverTimeMs === 'number' ? b.serverTimeMs : Date.now() };
  }
  const why: Record<number, string> = {
    401: 'enrollment code not accepted (unknown, already used or expired); create a new one with hearth serve enroll',
    409: `the enrollment code is bound to another device id, not ${o.deviceId}`,
    429: 'too many enrollment attempts from this address; wait and try again',
  };
  const known = why[answer.status];
  if (known) throw new UplinkError(`${server}: ${known}`, { failure: 'permanent', status: answer.status });
  throw failureOf(server, 'POST /enroll', answer);
}

/** The shape of a device token (PROTOCOL.md: `hth_` and 43 base64url characters). */
export const TOKEN = /^hth_[A-Za-z0-9_-]{43}$/;

interface Answer {
  status: number;
  statusText: string;
  json: Record<string, unknown> | null;
  retryAfter: string | null;
}

/** One request with a timeout; network failures become `retry` errors naming the server. */
async function request(
  fetchImpl: typeof fetch, url: string,
  o: { method: string; body: string | Uint8Array | null; headers: Record<string, string>; signal: AbortSignal; timeoutMs: number; server: string },
): Promise<Answer> {
  const timeout = AbortSignal.timeout(o.timeoutMs);
  const signal = AbortSignal.any([o.signal, timeout]);
  try {
    const res = await fetchImpl(url, {
      method: o.method, headers: { 'user-agent': 'hearth-uplink/1', ...o.headers }, body: o.body, signal, redirect: 'manual',
    });
    return { status: res.status, statusText: res.statusText, json: await readJson(res), retryAfter: res.headers.get('retry-after') };
  } catch (cause) {
    if (o.signal.aborted) throw new UplinkError(`${o.server}: stopped`, { failure: 'retry', cause });
    if (timeout.aborted) throw new UplinkError(`${o.server}: no answer within ${Math.round(o.timeoutMs / 1000)} s`, { failure: 'retry', cause });
    throw new UplinkError(`${o.server}: cannot reach the server (${networkReason(cause)})`, { failure: 'retry', cause });
  }
}

/** The error for a non-2xx answer, classified by PROTOCOL.md's retry rule. */
function failureOf(server: string, what: string, a: Answer): UplinkError {
  const code = typeof a.json?.error === 'string' ? a.json.error : null;
  const message = typeof a.json?.message === 'string' ? a.json.message.slice(0, 300) : null;
  const status = `HTTP ${a.status}${code ? ` ${code}` : a.statusText ? ` ${a.statusText}` : ''}`;
  const line = `${server}: ${what} answered ${status}${message ? `: ${message}` : ''}`;
  if (a.status === 401 && code === 'revoked') return new UplinkError(`${server}: the device token was revoked (${status}); enroll the device again`, { failure: 'revoked', status: a.status });
  if (a.status === 409 && code === 'gap') {
    return new UplinkError(line, { failure: 'resync', status: a.status, ...(isCount(a.json?.lastSeq) ? { lastSeq: a.json.lastSeq } : {}) });
  }
  if (a.status === 408 || a.status === 429 || a.status >= 500) {
    return new UplinkError(line, { failure: 'retry', status: a.status, retryAfterMs: retryAfterMs(a.retryAfter) });
  }
  return new UplinkError(line, { failure: 'permanent', status: a.status });
}

/** The answer's JSON object, read up to a limit; null when there is none or it is not JSON. */
async function readJson(res: Response): Promise<Record<string, unknown> | null> {
  if (!res.body) return null;
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_ANSWER_BYTES) {
      await reader.cancel();
      return null;
    }
    chunks.push(value);
  }
  try {
    const parsed = JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0;
}

