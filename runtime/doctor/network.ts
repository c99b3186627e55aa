/**
 * Can the device reach the people who need to hear from it: the alert webhook (a HEAD request, so no
 * alert is sent), the study server (the uplink's own cursor request, which also proves the token), and
 * how many rows wait for the uplink.
 */
import { join } from 'node:path';
import { ALERT_WEBHOOK_ENV, describeWebhookUrl, resolveAlertWebhook } from '../../behaviors/index.js';
import { uplinkBacklog } from '../../data/index.js';
import { readUplinkConfig, readUplinkState, UPLINK_FILE, type UplinkConfig } from '../uplink/config.js';
import { HttpUplinkTransport } from '../uplink/http-transport.js';
import { UplinkError } from '../uplink/transport.js';
import { result, type CheckResult } from './check.js';
import type { DeviceFacts } from './device.js';

/** How the network checks reach out. */
export interface NetworkParts {
  fetch: typeof fetch;
  env: Readonly<Record<string, string | undefined>>;
  /** Per request. Default 5 s. */
  timeoutMs: number;
}

const NETWORK_FIX = 'check the device is online (Wi-Fi, cable) and that the address is right; ask the study team whether the receiver is up';

/** Why a request got no answer, in a few words. */
function noAnswer(e: unknown, timeoutMs: number): string {
  const err = e as Error & { cause?: { code?: string; message?: string } };
  if (err.name === 'TimeoutError' || err.name === 'AbortError') return `no answer within ${timeoutMs} ms`;
  return err.cause?.code ?? err.cause?.message ?? err.message;
}

/** HEAD the URL; any HTTP answer means it is reachable (the receiver may refuse HEAD). */
async function probe(url: string, net: NetworkParts): Promise<{ status: number; ms: number } | { error: string }> {
  const t0 = performance.now();
  try {
    const answer = await net.fetch(url, { method: 'HEAD', redirect: 'manual', signal: AbortSignal.timeout(net.timeoutMs) });
    return { status: answer.status, ms: Math.round(performance.now() - t0) };
  } catch (e) {
    return { error: noAnswer(e, net.timeoutMs) };
  }
}

/** The enrollment in the device folder: null when not enrolled, a problem string when uplink.json is bad. */
export function enrollmentOf(d: DeviceFacts): UplinkConfig | null | { problem: string } {
  try {
    return readUplinkConfig(d.dir);
  } catch (e) {
    return { problem: (e as Error).message };
  }
}

/** Where safeguard alerts go from this device, and whether that address answers. */
export async function alertWebhookCheck(d: DeviceFacts | null, net: NetworkParts): Promise<CheckResult> {
  let url: string;
  let source: string;
  const enrollment = d ? enrollmentOf(d) : null;
  if (enrollment && 'problem' in enrollment) return result('alert webhook', 'fail', enrollment.problem, 'enroll the device again: hearth provision --server URL --code CODE --device-dir DIR');
  if (enrollment) {
    url = new HttpUplinkTransport({ server: enrollment.server, deviceId: enrollment.deviceId, token: enrollment.token }).alertsUrl;
    source = `the study server's alerts route (${UPLINK_FILE})`;
  } else {
    const resolved = resolveAlertWebhook({
      env: net.env, protocol: d?.protocol?.protocol.device?.alert_webhook, protocolFile: join(d?.dir ?? '.', 'protocol.yaml'), deviceDir: d?.dir ?? '.',
    });
    if (!resolved.ok) return result('alert webhook', 'fail', resolved.reason, 'correct device.alert_webhook in the protocol (or HEARTH_ALERT_WEBHOOK) and provision again');
    if (!resolved.settings) {
      if (!d) return result('alert webhook', 'skip', `no device folder and no ${ALERT_WEBHOOK_ENV}: nothing to reach`);
      return result('alert webhook', 'warn', 'none configured: safeguard incidents stay on the device (alerts.jsonl, hearth.sqlite) and no one is told',
        'set device.alert_webhook in the protocol (or enroll with the study server) so staff hear of a crisis at once');
    }
    url = resolved.settings.url;
    source = resolved.settings.source;
  }
  const shown = describeWebhookUrl(url);
  const answer = await probe(url, net);
  if ('error' in answer) return result('alert webhook', 'fail', `${shown} (from ${source}) cannot be reached: ${answer.error}; alerts wait in the outbox`, NETWORK_FIX);
  return result('alert webhook', 'ok', `${shown} (from ${source}) answered HTTP ${answer.status} to HEAD in ${answer.ms} ms (no alert sent)`);
}

/** What the study-server check learned, for the backlog check. */
export interface ServerReach {
  check: CheckResult;
  enrollment: UplinkConfig | null;
  /** The server's cursor when it answered. */
  cursor: number | null;
}

/** The study server answers the uplink's cursor request under this device's token. */
export async function studyServerCheck(d: DeviceFacts | null, net: NetworkParts): Promise<ServerReach> {
  if (!d) return { check: result('study server', 'skip', 'no device folder: no enrollment to check'), enrollment: null, cursor: null };
  const enrollment = enrollmentOf(d);
  if (!enrollment) return { check: result('study server', 'skip', `not enrolled with a study server (no ${UPLINK_FILE}); data leaves the device only by hearth collect`), enrollment: null, cursor: null };
  if ('problem' in enrollment) return { check: result('study server', 'fail', enrollment.problem, 'enroll the device again: hearth provision --server URL --code CODE --device-dir DIR'), enrollment: null, cursor: null };
  const transport = new HttpUplinkTransport({ server: enrollment.server, deviceId: enrollment.deviceId, token: enrollment.token, timeoutMs: net.timeoutMs, fetch: net.fetch });
  const t0 = performance.now();
  try {
    const { lastSeq, serverTimeMs } = await transport.cursor(AbortSignal.timeout(net.timeoutMs + 1000));
    const ms = Math.round(performance.now() - t0);
    const skew = Math.round((Date.now() - ms / 2 - serverTimeMs) / 1000);
    const detail = `${transport.server} answered in ${ms} ms as device ${enrollment.deviceId}; it holds rows up to seq ${lastSeq}`;
    if (Math.abs(skew) > 300) return { check: result('study server', 'warn', `${detail}; but this clock is ${skew} s off the server's`, 'fix the clock (see clock)'), enrollment, cursor: lastSeq };
    return { check: result('study server', 'ok', detail), enrollment, cursor: lastSeq };
  } catch (e) {
    if (e instanceof UplinkError && e.failure === 'revoked') {
      return { check: result('study server', 'fail', `${transport.server} refused the device token: ${e.message}`, `enroll again with a new code: hearth provision --server ${enrollment.server} --code CODE --device-dir ${d.dir}`), enrollment, cursor: null };
    }
    const why = e instanceof UplinkError ? e.message : `${transport.server}: ${noAnswer(e, net.timeoutMs)}`;
    return { check: result('study server', 'fail', `cannot reach the study server: ${why}`, NETWORK_FIX), enrollment, cursor: null };
  }
}

/** Rows still to send: above the server's cursor, or the last one the uplink recorded when the server did not answer. */
export function uplinkBacklogCheck(d: DeviceFacts | null, reach: ServerReach): CheckResult {
  if (!d || !reach.enrollment) return result('uplink backlog', 'skip', d ? 'not enrolled with a study server (see study server)' : 'no device folder');
  if (!d.store) return result('uplink backlog', 'skip', 'the database did not open (see database)');
  const state = readUplinkState(d.dir);
  const recorded = state && state.server === reach.enrollment.server && state.enrolledTsUtc === reach.enrollment.enrolledTsUtc ? state.cursor : null;
  const cursor = reach.cursor ?? recorded ?? 0;
  const backlog = uplinkBacklog(d.store, reach.enrollment.deviceId, cursor);
  const detail = `${backlog.rows} row${backlog.rows === 1 ? '' : 's'} waiting (cursor ${cursor} of last seq ${backlog.lastSeq}${reach.cursor === null ? ', as last recorded' : ''})`;
  if (reach.cursor === null && backlog.rows > 0) {
    return result('uplink backlog', 'warn', `${detail}; they go out once the server answers${state?.lastError ? ` (last error ${state.lastError.atUtc}: ${state.lastError.message})` : ''}`, 'fix the connection to the study server (see study server); nothing is lost meanwhile');
  }
  return result('uplink backlog', 'ok', detail);
}
