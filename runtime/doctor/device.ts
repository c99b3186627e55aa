/**
 * Device-folder checks: the database (through data/'s `StoreStats`, opened read-only), and the frozen
 * protocol and consent (through study-protocol/'s loaders). Nothing here writes to the folder.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { SCHEMA_VERSION, SqliteStore, studyDay, type Store } from '../../data/index.js';
import { consentStateFor, DEVICE_FILES, loadDevice, type DeviceConfig, type LoadedProtocol } from '../../study-protocol/index.js';
import { result, type CheckResult } from './check.js';
import type { LoggingFacts } from './system.js';

/** A device folder as far as it could be opened; every part that failed says why. */
export interface DeviceFacts {
  dir: string;
  config: DeviceConfig | null;
  protocol: LoadedProtocol | null;
  /** Why device.json or the frozen protocol could not be read. */
  configProblem: string | null;
  store: Store | null;
  /** Why the database could not be opened. */
  storeProblem: string | null;
  dbFile: string;
  close(): void;
}

/** Open what can be opened of a device folder, read-only. */
export function openDeviceFacts(deviceDir: string): DeviceFacts {
  const dir = resolve(deviceDir);
  let config: DeviceConfig | null = null;
  let protocol: LoadedProtocol | null = null;
  let configProblem: string | null = null;
  try {
    ({ config, protocol } = loadDevice(dir));
  } catch (e) {
    configProblem = (e as Error).message;
  }
  const dbFile = join(dir, DEVICE_FILES.database);
  let store: Store | null = null;
  let storeProblem: string | null = null;
  if (!existsSync(dbFile)) storeProblem = `${dbFile} not found`;
  else {
    try {
      store = SqliteStore.open(dbFile, { create: false, readonly: true });
    } catch (e) {
      storeProblem = (e as Error).message;
    }
  }
  return { dir, config, protocol, configProblem, store, storeProblem, dbFile, close: () => store?.close() };
}

const KEEP_FIX = 'stop the robot, copy hearth.sqlite off the device for the study team (do not delete it), and call them; `hearth collect` reads what it can of a damaged copy';

/** Schema version and `integrity_check` of the device's database. */
export function databaseCheck(d: DeviceFacts): CheckResult {
  if (!d.store) return result('database', 'fail', d.storeProblem ?? 'not opened', existsSync(d.dbFile) ? KEEP_FIX : 'provision the device again (hearth provision … --device-dir DIR)');
  const version = d.store.stats.schemaVersion;
  let integrity: string;
  try {
    integrity = d.store.stats.integrityCheck();
  } catch (e) {
    integrity = (e as Error).message;
  }
  if (integrity !== 'ok') return result('database', 'fail', `${d.dbFile}: integrity check failed (${integrity.slice(0, 300)})`, KEEP_FIX);
  if (version < SCHEMA_VERSION) {
    return result('database', 'warn', `${d.dbFile}: integrity ok; schema version ${version}, older than this Hearth's ${SCHEMA_VERSION}`, 'nothing to do: the next `hearth run` upgrades it (keep a copy first if you like)');
  }
  return result('database', 'ok', `${d.dbFile}: integrity ok, schema version ${version}`);
}

/** device.json and the frozen protocol (its hash as at provisioning). */
export function protocolCheck(d: DeviceFacts): CheckResult {
  if (!d.config || !d.protocol) return result('protocol', 'fail', d.configProblem ?? 'not loaded', 'provision the device again with the study\'s protocol (hearth provision --protocol FILE … --device-dir DIR)');
  const p = d.protocol.protocol;
  return result('protocol', 'ok', `${p.study.id} v${p.study.version} (${d.protocol.hash.slice(0, 19)}…), participant ${d.config.participantId}, condition ${d.config.condition}, day 1 ${d.config.startDate}`);
}

/** Consent of the current version: everything answered, nothing required declined. */
export function consentCheck(d: DeviceFacts): CheckResult {
  if (!d.config || !d.protocol) return result('consent', 'skip', 'no protocol to read consent questions from (see protocol)');
  if (!d.store) return result('consent', 'skip', 'the database did not open (see database)');
  const state = consentStateFor(d.store.consent, d.protocol.protocol, d.config.participantId);
  const summary = Object.entries(state.summary()).map(([m, s]) => `${m} ${s}`).join(', ');
  const head = `consent version ${state.currentVersion}: ${summary}`;
  const declined = state.declinedRequired();
  if (declined.length) return result('consent', 'fail', `${head}; required consent declined (${declined.join(', ')}): no session can run`, 'talk with the participant; without the required consent they cannot take part (withdraw with hearth withdraw if they wish)');
  const pending = state.pending();
  if (pending.length) return result('consent', 'warn', `${head}; the robot will ask ${pending.length} question${pending.length === 1 ? '' : 's'} before the next session`, 'nothing to do if the robot should ask; to record the answers with the participant now, run hearth provision again with --consent LIST');
  return result('consent', 'ok', head);
}

/** What the disk check needs to know of the device's logging, when device.json was read. */
export function loggingFacts(d: DeviceFacts, now: number): LoggingFacts | null {
  if (!d.config || !d.protocol) return null;
  const today = studyDay(now, d.config.startDate, d.config.tz);
  const days = d.protocol.protocol.study.days;
  return { dbFile: d.dbFile, sinceMs: Date.parse(d.config.provisionedTsUtc), studyDaysLeft: Math.max(0, days - Math.max(1, today) + 1) };
}
