/**
 * The uplink's two files in the device folder: `uplink.json` (the enrollment, mode 0600 since it holds
 * the device token; PROTOCOL.md) and `uplink-state.json` (what the uplink knows of its progress, for the
 * next start and for `hearth status`). Both are written whole to a temporary file and renamed into
 * place, so a power cut leaves the old or the new file, never half of one.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { webhookUrlProblem } from '../../behaviors/index.js';
import { writeFileAtomic } from '../../study-protocol/index.js';
import { TOKEN } from './http-transport.js';

/** The enrollment file's name in the device folder. */
export const UPLINK_FILE = 'uplink.json';
/** The progress file's name in the device folder. */
export const UPLINK_STATE_FILE = 'uplink-state.json';

/** `uplink.json`: where the device reports and its token. */
export interface UplinkConfig {
  server: string;
  deviceId: string;
  token: string;
  enrolledTsUtc: string;
}

/** A bad `uplink.json`: the message names the file and the problem. */
export class UplinkConfigError extends Error {
  override readonly name = 'UplinkConfigError';
  readonly exitCode = 2;
}

/** The device folder's enrollment, or null when it has none. Throws `UplinkConfigError` for a bad file. */
export function readUplinkConfig(dir: string): UplinkConfig | null {
  const file = join(dir, UPLINK_FILE);
  if (!existsSync(file)) return null;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (cause) {
    throw new UplinkConfigError(`${file}: not readable JSON (${(cause as Error).message}); enroll again with hearth provision --server URL --code CODE`);
  }
  const c = raw as Partial<Record<keyof UplinkConfig, unknown>>;
  const bad = (field: string, why: string) => new UplinkConfigError(`${file}: ${field} ${why}; enroll again with hearth provision --server URL --code CODE`);
  if (typeof c.server !== 'string') throw bad('server', 'is missing');
  const problem = serverUrlProblem(c.server);
  if (problem) throw bad('server', problem);
  if (typeof c.deviceId !== 'string' || c.deviceId === '') throw bad('deviceId', 'is missing');
  if (typeof c.token !== 'string' || !TOKEN.test(c.token)) throw bad('token', 'is not a device token (hth_ and 43 base64url characters)');
  if (typeof c.enrolledTsUtc !== 'string' || Number.isNaN(Date.parse(c.enrolledTsUtc))) throw bad('enrolledTsUtc', 'is not a time');
  return { server: c.server, deviceId: c.deviceId, token: c.token, enrolledTsUtc: c.enrolledTsUtc };
}

/** Write `uplink.json` readable by its owner only (it holds the token). */
export function writeUplinkConfig(dir: string, config: UplinkConfig): string {
  const file = join(dir, UPLINK_FILE);
  writeFileAtomic(file, `${JSON.stringify(config, null, 2)}\n`, 0o600);
  return file;
}

/**
 * Why `value` cannot be a study server URL, or null: the alert webhook's rule (https, or plain http to
 * 127.0.0.1 / localhost only), since the token travels with every request; no query or fragment.
 */
export function serverUrlProblem(value: string): string | null {
  const problem = webhookUrlProblem(value);
  if (problem) return problem;
  const u = new URL(value);
  if (u.search || u.hash) return 'must not have a query or fragment (expected https://host[:port][/path])';
  return null;
}

/** What the uplink knows of its progress. */
export interface UplinkState {
  /** The enrollment this state belongs to (a new enrollment starts afresh). */
  server: string;
  enrolledTsUtc: string;
  /** The server's acknowledged `lastSeq` (null before the server was first asked). */
  cursor: number | null;
  /** Device-clock ms when the last acknowledged increment was built: rows changed since travel again. */
  changedSinceMs: number | null;
  lastHeartbeatUtc: string | null;
  lastBatch: { seqFrom: number; seqTo: number; rows: number; gzipBytes: number; buildMs: number; atUtc: string } | null;
  lastError: { message: string; atUtc: string } | null;
  revoked: { message: string; atUtc: string } | null;
}

/** Durable storage of `UplinkState` (a file in the device folder; tests may keep it in memory). */
export interface UplinkStateStore {
  load(): UplinkState;
  save(state: UplinkState): void;
}

/** A fresh state for an enrollment. */
export function freshUplinkState(config: Pick<UplinkConfig, 'server' | 'enrolledTsUtc'>): UplinkState {
  return {
    server: config.server, enrolledTsUtc: config.enrolledTsUtc, cursor: null, changedSinceMs: null,
    lastHeartbeatUtc: null, lastBatch: null, lastError: null, revoked: null,
  };
}

/** The state file of a device folder, or null when the uplink never ran. */
export function readUplinkState(dir: string): UplinkState | null {
  const file = join(dir, UPLINK_STATE_FILE);
  if (!existsSync(file)) return null;
  try {
    const s = JSON.parse(readFileSync(file, 'utf8')) as UplinkState;
    return s && typeof s === 'object' && typeof s.server === 'string' ? s : null;
  } catch {
    // A state file is only a cache of what the server can tell again: unreadable means start afresh.
    return null;
  }
}

/** `uplink-state.json` in a device folder, for one enrollment. */
export function fileStateStore(dir: string, config: Pick<UplinkConfig, 'server' | 'enrolledTsUtc'>): UplinkStateStore {
  const file = join(dir, UPLINK_STATE_FILE);
  return {
    load: () => {
      const s = readUplinkState(dir);
      return s && s.server === config.server && s.enrolledTsUtc === config.enrolledTsUtc ? s : freshUplinkState(config);
    },
    save: (state) => writeFileAtomic(file, `${JSON.stringify(state, null, 2)}\n`, 0o644),
  };
}
