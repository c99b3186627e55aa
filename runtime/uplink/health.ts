/**
 * What a device's heartbeat says about it (runtime/server/PROTOCOL.md, heartbeat body): read from the
 * device folder, its database and the running services each time a heartbeat is due. Nothing here
 * carries a participant's words.
 */
import { existsSync, statfsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { DeviceLog, Store } from '../../data/index.js';
import type { DeviceHealth } from './uplink.js';

/** Where the health facts come from. */
export interface HealthSources {
  dir: string;
  store: Store;
  log: DeviceLog;
  participantId: string;
  hearthVersion: string;
  protocolHash: string | null;
  clockSource: 'system' | 'simulated';
  /** The perception service's state, when one runs (`{ microphone: 'running', … }`). */
  perception?: () => Record<string, unknown> | undefined;
  /** Whether the OS clock is NTP-synchronised (default: systemd-timesyncd's marker file). */
  ntpSynchronised?: () => boolean;
}

/** A `health()` function for the uplink. */
export function deviceHealth(s: HealthSources): () => DeviceHealth {
  const ntp = s.ntpSynchronised ?? (() => existsSync('/run/systemd/timesync/synchronized'));
  return () => {
    const last = s.log.sessions(s.participantId).at(-1);
    const gate = s.store.stats.latestEvent(['safeguards.ready', 'safeguards.recovered', 'safeguards.degraded']);
    const perception = s.perception?.();
    return {
      // 'system' is the OS clock: NTP when timesyncd says so, else not known to be synchronised.
      clockSource: s.clockSource === 'simulated' ? 'simulated' : ntp() ? 'ntp' : 'unsynced',
      hearthVersion: s.hearthVersion,
      protocolHash: s.protocolHash,
      freeDiskBytes: freeBytes(s.dir),
      dbBytes: fileBytes(join(s.dir, 'hearth.sqlite')),
      lastSession: last ? { sessionId: last.sessionId, status: last.status, tsUtc: last.endedTsUtc ?? last.startedTsUtc ?? new Date(last.lastActivityMs ?? 0).toISOString() } : null,
      perception: perception ? Object.entries(perception).filter(([k]) => k !== 'lastFault').map(([k, v]) => `${k}=${String(v)}`).join(' ') : 'off',
      safeguards: gate ? gate.kind.replace(/^safeguards\./, '').replace('recovered', 'ready') : 'unknown',
      alertOutbox: s.store.stats.incidentOutbox().filter((l) => l.deliveryStatus === 'unsent').length,
    };
  };
}

function freeBytes(dir: string): number | null {
  try {
    const f = statfsSync(dir);
    return f.bavail * f.bsize;
  } catch {
    return null;
  }
}

/** The database's size on disk, its write-ahead log included. */
function fileBytes(file: string): number | null {
  try {
    return statSync(file).size + (existsSync(`${file}-wal`) ? statSync(`${file}-wal`).size : 0);
  } catch {
    return null;
  }
}
