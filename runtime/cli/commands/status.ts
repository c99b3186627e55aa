import type { Command } from 'commander';
import { dirname } from 'node:path';
import { SCHEMA_VERSION, SqliteStore, StoreError, uplinkBacklog, type DeliveryStatus, type OutboxLine, type Store, type StoreStats } from '../../../data/index.js';
import { readUplinkConfig, readUplinkState, UPLINK_FILE } from '../../uplink/config.js';

/** Where the device said alerts go, at its last start (`alerts.webhook` / `alerts.no-webhook` events). */
interface WebhookState {
  configured: boolean;
  /** Scheme, host and path (never a query or a secret). */
  url: string | null;
  signed: boolean;
  asOfUtc: string;
}

const STATUSES: readonly DeliveryStatus[] = ['unsent', 'sent', 'acknowledged', 'failed'];

/** `hearth status`: health of a device database — schema, integrity, sessions by status, and the alert outbox. */
export function register(program: Command): void {
  program
    .command('status')
    .description('check a Hearth database: schema version, integrity, sessions by status, last activity, alert outbox')
    .requiredOption('--db <file>', 'SQLite file')
    .option('--json', 'print one JSON object')
    .action((o: { db: string; json?: boolean }) => {
      const store = openReadOnly(o.db);
      try {
        const stats = store.stats;
        const now = Date.now();
        const sessions = stats.sessionsByStatus();
        const rows = stats.counts();
        const outbox = stats.incidentOutbox();
        const counts = Object.fromEntries(STATUSES.map((s) => [s, outbox.filter((l) => l.deliveryStatus === s).length])) as Record<DeliveryStatus, number>;
        const webhook = webhookState(stats);
        const safeguards = safeguardState(stats);
        const uplink = uplinkState(store, dirname(store.path));
        const summary = {
          db: store.path, schema_version: stats.schemaVersion, integrity: stats.integrityCheck(),
          devices: rows.devices, participants: rows.participants, sessions, turns: rows.turns, last_event_utc: stats.lastEventTsUtc(),
        };
        if (o.json) {
          console.log(JSON.stringify({ ...summary, safeguards, alerts: { webhook, counts, incidents: outbox }, uplink }));
          return;
        }
        const sessionText = Object.entries(sessions).map(([s, n]) => `${s} ${n}`).join(', ') || 'none';
        console.log(`${summary.db}: schema ${summary.schema_version}, integrity ${summary.integrity}; ${summary.devices} device(s), ${summary.participants} participant(s); ` +
          `sessions: ${sessionText}; ${summary.turns} turns; last event ${summary.last_event_utc ?? 'none'}`);
        console.log(webhookLine(webhook));
        console.log(`alert outbox: ${outbox.length} incident${outbox.length === 1 ? '' : 's'} — ${STATUSES.map((s) => `${counts[s]} ${s}`).join(', ')}`);
        const idWidth = Math.max(0, ...outbox.map((l) => l.incidentId.length));
        for (const line of outbox) console.log(`  ${outboxLine(line, now, idWidth)}`);
        console.log(safeguardLine(safeguards));
        console.log(uplinkLine(uplink, now));
      } catch (e) {
        // A Hearth-versioned file whose tables are not Hearth's: the query fails; say so in one line.
        if (e instanceof StoreError || !String((e as { code?: unknown }).code ?? '').startsWith('SQLITE')) throw e;
        throw new StoreError(`${store.path}: not a readable Hearth database (${(e as Error).message}); hearth status only reads, the file was not modified`, { cause: e });
      } finally {
        store.close();
      }
    });
}

/**
 * Open a database for `hearth status` without writing to it: read-only, never created, never migrated.
 * A file that is not Hearth's (another application's database, a zero-byte file) or from an older
 * Hearth is refused in one line, untouched; the device itself upgrades an older file at its next start.
 */
function openReadOnly(file: string): Store {
  const store: Store = SqliteStore.open(file, { create: false, readonly: true });
  const version = store.stats.schemaVersion;
  if (version === SCHEMA_VERSION) return store;
  store.close();
  if (version === 0) throw new StoreError(`${store.path}: not a Hearth database (schema version 0, no Hearth schema); hearth status only reads, the file was not modified`);
  throw new StoreError(
    `${store.path}: database schema version ${version} is older than this Hearth's (${SCHEMA_VERSION}); hearth status only reads and does not upgrade it ` +
      '(the file was not modified); the device upgrades it at its next hearth run or hearth talk',
  );
}

/** The study-server uplink of the device folder holding the database (`uplink.json`, `uplink-state.json`). */
type UplinkStatus =
  | { enrolled: false; problem: string | null }
  | {
    enrolled: true; server: string; deviceId: string; enrolledTsUtc: string; revoked: { message: string; atUtc: string } | null;
    /** The server's acknowledged last seq (null before the uplink first reached it). */
    cursor: number | null; lastSeq: number; backlogRows: number;
    lastHeartbeatUtc: string | null; lastBatchUtc: string | null; lastError: { message: string; atUtc: string } | null;
  };

function uplinkState(store: Store, dir: string): UplinkStatus {
  let config;
  try {
    config = readUplinkConfig(dir);
  } catch (e) {
    return { enrolled: false, problem: (e as Error).message };
  }
  if (!config) return { enrolled: false, problem: null };
  const s = readUplinkState(dir);
  const state = s && s.server === config.server && s.enrolledTsUtc === config.enrolledTsUtc ? s : null;
  const cursor = state?.cursor ?? null;
  const backlog = uplinkBacklog(store, config.deviceId, cursor ?? 0);
  return {
    enrolled: true, server: config.server, deviceId: config.deviceId, enrolledTsUtc: config.enrolledTsUtc, revoked: state?.revoked ?? null,
    cursor, lastSeq: backlog.lastSeq, backlogRows: backlog.rows, lastHeartbeatUtc: state?.lastHeartbeatUtc ?? null,
    lastBatchUtc: state?.lastBatch?.atUtc ?? null, lastError: state?.lastError ?? null,
  };
}

function uplinkLine(u: UplinkStatus, now: number): string {
  if (!u.enrolled) return u.problem ? `uplink: ${u.problem}` : `uplink: not enrolled with a study server (no ${UPLINK_FILE} in the device folder)`;
  const ago = (iso: string | null) => (iso ? `${iso} (${age(now - Date.parse(iso))} ago)` : 'never');
  const head = `uplink: ${u.server} as ${u.deviceId} (enrolled ${u.enrolledTsUtc})`;
  if (u.revoked) {
    return `${head}: REVOKED at ${u.revoked.atUtc} — nothing is sent; ${u.backlogRows} rows wait (cursor ${u.cursor ?? 'unknown'} of last_seq ${u.lastSeq}); ` +
      'enroll again with hearth provision --server URL --code CODE --device-dir DIR';
  }
  const cursor = u.cursor === null ? `server not reached yet; ${u.backlogRows} rows to send (last_seq ${u.lastSeq})` : `cursor ${u.cursor} of last_seq ${u.lastSeq} (${u.backlogRows} rows waiting)`;
  const error = u.lastError ? `; last error ${u.lastError.atUtc}: ${u.lastError.message}` : '';
  return `${head}; ${cursor}; last heartbeat ${ago(u.lastHeartbeatUtc)}; last batch ${ago(u.lastBatchUtc)}${error}`;
}

/** The learned safeguard layer's last recorded state (`safeguards.ready/recovered/degraded` events). */
interface SafeguardState {
  state: 'ready' | 'degraded' | 'unknown';
  encoder: string | null;
  model: string | null;
  message: string | null;
  policy: string | null;
  asOfUtc: string | null;
}

function safeguardState(stats: StoreStats): SafeguardState {
  const r = stats.latestEvent(['safeguards.ready', 'safeguards.recovered', 'safeguards.degraded']);
  if (!r) return { state: 'unknown', encoder: null, model: null, message: null, policy: null, asOfUtc: null };
  const d = (r.detail ?? {}) as { encoder?: string; model?: string; message?: string; policy?: string };
  return r.kind === 'safeguards.degraded'
    ? { state: 'degraded', encoder: null, model: null, message: d.message ?? null, policy: d.policy ?? null, asOfUtc: r.tsUtc }
    : { state: 'ready', encoder: d.encoder ?? null, model: d.model ?? null, message: null, policy: null, asOfUtc: r.tsUtc };
}

function safeguardLine(s: SafeguardState): string {
  if (s.state === 'unknown') return 'safeguards: no session prepared yet (state of the learned layer unknown)';
  if (s.state === 'ready') return `safeguards: rules + learned layer (${s.model ?? '?'}, encoder ${s.encoder ?? '?'}), as of ${s.asOfUtc}`;
  return `safeguards: DEGRADED since ${s.asOfUtc} — the learned layer did not load (${s.message ?? 'unknown'}); ` +
    `${s.policy === 'rules_only' ? 'sessions run on the rules alone' : 'no new session starts'}. Re-run \`bash scripts/setup.sh\` on the device`;
}

/** The latest start-up record of where alerts go, or null if the device never recorded one. */
function webhookState(stats: StoreStats): WebhookState | null {
  const r = stats.latestEvent(['alerts.webhook', 'alerts.no-webhook']);
  if (!r) return null;
  const detail = (r.detail ?? {}) as { url?: string; signed?: boolean };
  return { configured: r.kind === 'alerts.webhook', url: detail.url ?? null, signed: detail.signed === true, asOfUtc: r.tsUtc };
}

function webhookLine(w: WebhookState | null): string {
  if (!w) return 'alert webhook: unknown (no start-up of the device recorded in this file)';
  if (!w.configured) {
    return `alert webhook: NONE configured (at the start of ${w.asOfUtc}) — incidents wait in the outbox and alerts.jsonl; set device.alert_webhook in the protocol or HEARTH_ALERT_WEBHOOK`;
  }
  return `alert webhook: ${w.url} (${w.signed ? 'signed with HMAC-SHA256' : 'unsigned'}; at the start of ${w.asOfUtc})`;
}

/** One incident: status, id, kind, severity, age, attempts, next attempt, last error — never the participant's words. */
function outboxLine(l: OutboxLine, now: number, idWidth: number): string {
  const parts = [
    l.deliveryStatus.padEnd(12), l.incidentId.padEnd(idWidth), l.kind.padEnd(16), l.severity.padEnd(8), `${age(now - Date.parse(l.eventTsUtc))} old`,
    `${l.attempts} attempt${l.attempts === 1 ? '' : 's'}`,
  ];
  if (l.deliveryStatus === 'unsent' && l.nextAttemptTsUtc) parts.push(`next ${Date.parse(l.nextAttemptTsUtc) <= now ? 'due now' : `in ${age(Date.parse(l.nextAttemptTsUtc) - now)}`}`);
  if (l.acknowledgedTsUtc) parts.push(`acknowledged ${l.acknowledgedTsUtc}`);
  else if (l.sentTsUtc) parts.push(`sent ${l.sentTsUtc}`);
  if (l.lastError) parts.push(`last error: ${l.lastError}`);
  if (l.retainedTsUtc) parts.push('kept after withdrawal without the participant\'s words');
  return parts.join('  ');
}

/** A duration for people: 45s, 12m, 3h 5m, 2d 4h. */
function age(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h${m % 60 ? ` ${m % 60}m` : ''}`;
  const d = Math.floor(h / 24);
  return `${d}d${h % 24 ? ` ${h % 24}h` : ''}`;
}
