/**
 * Delivering alerts to an HTTPS webhook (Node's built-in `fetch`, the only network code in the
 * safeguard layer), and reading the webhook settings from the environment and the protocol.
 *
 * The request: `POST <url>` with `Content-Type: application/json`, `Idempotency-Key: <incidentId>`,
 * `X-Hearth-Attempt: <n>` and, with a shared secret, `X-Hearth-Signature: sha256=<hex>` — the
 * HMAC-SHA256 of the exact body bytes under the secret. The body is an `AlertEnvelope`
 * (`{"hearthAlert":1,"deviceId":…,"incident":{…IncidentReport}}`).
 *
 * The answer: any 2xx means the receiver has the incident (`sent`); a 2xx whose JSON body has
 * `"acknowledged": true` means it also confirms it has reached study staff (`acknowledged`). Both
 * are final. 408, 429 (honouring `Retry-After`), 5xx, timeouts and connection errors are retried.
 * Any other status (3xx, since redirects are not followed, and 4xx) is a permanent failure, kept
 * with its reason. The receiver must de-duplicate on `Idempotency-Key`: a retry after a lost
 * response repeats the same incident id.
 */
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { networkReason, retryAfterMs } from '../../data/index.js';
import { AlertDeliveryError, DEFAULT_ALERT_TIMEOUT_MS, type AlertRequest, type AlertTransport } from './alert-outbox.js';

/** Webhook settings, resolved and checked. */
export interface AlertWebhookSettings {
  url: string;
  /** Where the URL came from (`HEARTH_ALERT_WEBHOOK`, or `FILE: device.alert_webhook.url`). */
  source: string;
  /** The shared secret for `X-Hearth-Signature`, or null to send unsigned. */
  secret: string | null;
  secretSource: string | null;
  timeoutMs: number;
  /** A device token sent as `Authorization: Bearer …` (the study server's alerts route); absent for a plain webhook. */
  bearerToken?: string | null;
}

/** The protocol's `device.alert_webhook` section (field names as in the file). */
export interface AlertWebhookProtocolSetting {
  url?: string;
  /** The NAME of an environment variable holding the shared secret. */
  secret_env?: string;
  /** A file in the device folder holding the shared secret. */
  secret_file?: string;
  timeout_seconds?: number;
}

/** The result of reading the settings: none configured is not an error; a bad one is. */
export type AlertWebhookResolution = { ok: true; settings: AlertWebhookSettings | null } | { ok: false; reason: string };

/** Environment variable that sets (and overrides) the webhook URL. */
export const ALERT_WEBHOOK_ENV = 'HEARTH_ALERT_WEBHOOK';
/** Environment variable holding the shared secret when the protocol names none. */
export const ALERT_SECRET_ENV = 'HEARTH_ALERT_SECRET';

const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * Why `value` cannot be a webhook URL, or null when it can: an absolute `https://` URL, or plain
 * `http://` only to 127.0.0.1 / localhost (tests, a study server on the device), with no user or
 * password in it (a secret belongs in `secret_env` or `secret_file`).
 */
export function webhookUrlProblem(value: string): string | null {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `"${value}" is not a URL (expected https://host/path)`;
  }
  if (url.username || url.password) return 'the URL must not carry a user or password; put the shared secret in secret_env or secret_file';
  if (url.protocol === 'https:') return null;
  if (url.protocol === 'http:') {
    return LOCAL_HOSTS.has(url.hostname) ? null : `plain http is allowed only to 127.0.0.1 or localhost, not ${url.hostname}; use https://`;
  }
  return `${url.protocol.replace(/:$/, '')}:// is not allowed; use https://`;
}

/** A URL safe to print and log: scheme, host, port and path; never the query (it may hold a token). */
export function describeWebhookUrl(value: string): string {
  try {
    const u = new URL(value);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}

/**
 * The webhook settings for a device: the URL from `HEARTH_ALERT_WEBHOOK` or else the protocol's
 * `device.alert_webhook.url`; the secret from the protocol's `secret_env` (an environment variable's
 * name) or `secret_file` (a file in the device folder), else `HEARTH_ALERT_SECRET` if set. Every
 * problem names its source.
 */
export function resolveAlertWebhook(o: {
  env: Readonly<Record<string, string | undefined>>;
  protocol?: AlertWebhookProtocolSetting | undefined;
  /** The protocol file, to name it in messages. */
  protocolFile: string;
  deviceDir: string;
  readFile?: (path: string) => string;
}): AlertWebhookResolution {
  const fromEnv = o.env[ALERT_WEBHOOK_ENV]?.trim();
  const setting = o.protocol;
  const where = `${o.protocolFile}: device.alert_webhook`;
  const url = fromEnv || setting?.url;
  if (!url) return { ok: true, settings: null };
  const source = fromEnv ? ALERT_WEBHOOK_ENV : `${where}.url`;
  const problem = webhookUrlProblem(url);
  if (problem) return { ok: false, reason: `${source}: ${problem}` };

  let secret: string | null = null;
  let secretSource: string | null = null;
  const read = o.readFile ?? ((p: string) => readFileSync(p, 'utf8'));
  if (setting?.secret_env) {
    secretSource = `environment variable ${setting.secret_env} (${where}.secret_env)`;
    secret = o.env[setting.secret_env]?.trim() || null;
    if (!secret) return { ok: false, reason: `${where}.secret_env: environment variable ${setting.secret_env} is not set; set it to the shared secret or remove secret_env` };
  } else if (setting?.secret_file) {
    const file = isAbsolute(setting.secret_file) ? setting.secret_file : join(o.deviceDir, setting.secret_file);
    secretSource = `${file} (${where}.secret_file)`;
    try {
      secret = read(file).trim() || null;
    } catch (cause) {
      return { ok: false, reason: `${where}.secret_file: cannot read ${file} (${(cause as NodeJS.ErrnoException).code ?? (cause as Error).message})` };
    }
    if (!secret) return { ok: false, reason: `${where}.secret_file: ${file} is empty` };
  } else if (o.env[ALERT_SECRET_ENV]?.trim()) {
    secret = o.env[ALERT_SECRET_ENV]!.trim();
    secretSource = `environment variable ${ALERT_SECRET_ENV}`;
  }
  const timeoutMs = setting?.timeout_seconds !== undefined ? setting.timeout_seconds * 1000 : DEFAULT_ALERT_TIMEOUT_MS;
  return { ok: true, settings: { url, source, secret, secretSource, timeoutMs } };
}

/** `sha256=<hex>`: the HMAC-SHA256 of `body` under `secret`, as sent in `X-Hearth-Signature`. */
export function signAlertBody(body: string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body, 'utf8').digest('hex')}`;
}

/** The most of a 2xx answer read to look for `"acknowledged": true`. */
const MAX_ANSWER_BYTES = 64 * 1024;

/** Posts alerts to a webhook (see the module comment for the contract). */
export class WebhookAlertTransport implements AlertTransport {
  private readonly settings: AlertWebhookSettings;
  private readonly fetchImpl: typeof fetch;
  readonly describe: string;

  constructor(settings: AlertWebhookSettings, fetchImpl: typeof fetch = fetch) {
    this.settings = settings;
    this.fetchImpl = fetchImpl;
    this.describe = `${describeWebhookUrl(settings.url)} (${settings.bearerToken ? 'with the device token' : settings.secret ? 'signed with HMAC-SHA256' : 'unsigned'})`;
  }

  async deliver(request: AlertRequest, signal: AbortSignal): Promise<'sent' | 'acknowledged'> {
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'idempotency-key': request.incidentId,
      'x-hearth-attempt': String(request.attempt),
      'user-agent': 'hearth-alerts/1',
    };
    if (this.settings.secret) headers['x-hearth-signature'] = signAlertBody(request.body, this.settings.secret);
    if (this.settings.bearerToken) headers.authorization = `Bearer ${this.settings.bearerToken}`;
    let res: Response;
    try {
      res = await this.fetchImpl(this.settings.url, { method: 'POST', headers, body: request.body, signal, redirect: 'manual' });
    } catch (cause) {
      if (signal.aborted) throw signal.reason;
      throw new AlertDeliveryError(`cannot reach ${describeWebhookUrl(this.settings.url)} (${networkReason(cause)})`, { permanent: false, cause });
    }
    const status = `HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`;
    if (res.status >= 200 && res.status < 300) return (await acknowledged(res, signal)) ? 'acknowledged' : 'sent';
    // The answer's body is never kept: a receiver may echo the request, and the request holds the report.
    await res.body?.cancel().catch(() => undefined);
    if (res.status === 408 || res.status === 429 || res.status >= 500) {
      throw new AlertDeliveryError(status, { permanent: false, retryAfterMs: retryAfterMs(res.headers.get('retry-after')) });
    }
    if (res.status >= 300 && res.status < 400) {
      throw new AlertDeliveryError(`${status}: redirects are not followed; configure the final URL`, { permanent: true });
    }
    throw new AlertDeliveryError(`${status}: refused by the receiver; not retried`, { permanent: true });
  }
}

/** True when a 2xx answer is JSON with `"acknowledged": true`. A body that cannot be read still counts as sent. */
async function acknowledged(res: Response, signal: AbortSignal): Promise<boolean> {
  if (!res.body) return false;
  try {
    const reader = res.body.getReader();
    const chunks: Uint8Array[] = [];
    let size = 0;
    for (;;) {
      if (signal.aborted) break;
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
      if (size > MAX_ANSWER_BYTES) {
        await reader.cancel();
        return false;
      }
    }
    const parsed = JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
    return parsed !== null && typeof parsed === 'object' && (parsed as { acknowledged?: unknown }).acknowledged === true;
  } catch {
    return false;
  }
}

