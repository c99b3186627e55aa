/**
 * Enrollment and provisioning: check the participant id, time zone and start date, allocate a
 * condition from the concealed registry, and write the device folder (device.json, a frozen
 * protocol.yaml, hearth.sqlite with the enrollment, schedule and any staff-recorded consent).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { DateTime } from 'luxon';
import {
  isValidTimeZone, localDate, SqliteStore, type Store,
  type AllocationRecord, type ClockSource,
} from '../data/index.js';
import { assignSlot, newAllocationSeed, stratumKey } from './allocation.js';
import { StudyError } from './errors.js';
import { packageRoot } from './paths.js';
import { CONSENT_MODALITIES, loadProtocol, parseProtocol, protocolHash, type ConsentModality, type LoadedProtocol, type Protocol } from './protocol.js';
import { generateSchedule } from './schedule.js';

/** File names inside a device folder. */
export const DEVICE_FILES = { config: 'device.json', protocol: 'protocol.yaml', database: 'hearth.sqlite' } as const;

/** The device's configuration (`DIR/device.json`). */
export interface DeviceConfig {
  hearthDevice: 1;
  status: 'active' | 'withdrawn';
  deviceId: string;
  participantId: string;
  /** The participant's IANA time zone; every schedule window is local to it. */
  tz: string;
  /** Study day 1, local date YYYY-MM-DD. */
  startDate: string;
  condition: string;
  storySelection: 'matched' | 'random';
  allocation: {
    method: 'blocked' | 'simple';
    stratum: string;
    slot: number;
    blockIndex: number | null;
    blockSize: number | null;
    seed: string;
    registry: string;
  };
  protocol: { id: string; version: string; hash: string; file: string };
  hardware: NonNullable<Protocol['device']>;
  safeguards: NonNullable<Protocol['safeguards']>;
  provisionedTsUtc: string;
  provisionedTsLocal: string;
  /** Earlier protocol versions this device ran, oldest first. */
  protocolHistory: { version: string; hash: string; replacedTsUtc: string }[];
  /** Set once the participant has withdrawn. */
  withdrawnTsUtc?: string;
}

/** What `provisionDevice` needs. */
export interface ProvisionOptions {
  protocolFile: string;
  participantId: string;
  tz: string;
  /** Study day 1 (local date YYYY-MM-DD); today or later. */
  startDate: string;
  deviceDir: string;
  /** Current time, epoch ms. */
  now: number;
  /** Allocation registry (SQLite) shared by every device of the study; see `defaultRegistryPath`. */
  registryFile?: string;
  /** Stratification levels, e.g. { household: 'lives_alone' }, when the protocol stratifies. */
  strata?: Record<string, string>;
  /** Modalities the participant consented to with staff (the rest recorded as declined); omit to let the robot ask. */
  consentGranted?: readonly ConsentModality[];
  clockSource?: ClockSource;
}

/** The allocation registry used when none is given: `$HEARTH_REGISTRY`, else under `$XDG_DATA_HOME` or `~/.local/share`. */
export function defaultRegistryPath(): string {
  if (process.env.HEARTH_REGISTRY) return resolve(process.env.HEARTH_REGISTRY);
  const base = process.env.XDG_DATA_HOME || join(homedir(), '.local', 'share');
  return join(base, 'hearth', 'allocation-registry.sqlite');
}

const DEFAULT_ID = /^[A-Za-z]{0,4}[-_]?[0-9]{1,6}$/;

/**
 * Reject participant ids that are not pseudonymous codes: emails, names, spaces, anything but
 * letters, digits, `-` and `_`, and (when the protocol sets one) ids not matching its pattern.
 */
export function checkParticipantId(id: string, pattern?: string): void {
  const show = JSON.stringify(id);
  if (id.includes('@')) throw new StudyError(`participant id ${show} looks like an email address: use a pseudonymous code such as P01`);
  if (/\s/.test(id)) throw new StudyError(`participant id ${show} contains spaces (a name?): use a pseudonymous code such as P01`);
  if (!/^[A-Za-z0-9_-]{1,32}$/.test(id)) throw new StudyError(`participant id ${show} may only contain letters, digits, - and _ (at most 32): use a code such as P01`);
  if (!/[0-9]/.test(id)) throw new StudyError(`participant id ${show} has no digits and may be a name: use a pseudonymous code such as P01`);
  if (pattern !== undefined) {
    if (!new RegExp(pattern).test(id)) throw new StudyError(`participant id ${show} does not match the protocol's participant_id_pattern ${pattern}`);
  } else if (!DEFAULT_ID.test(id)) {
    throw new StudyError(`participant id ${show} does not look like a pseudonymous code (up to 4 letters then digits, e.g. P01, ES-041); set study.participant_id_pattern to allow other codes`);
  }
}

/** Check a time zone; throws a StudyError naming it. */
export function checkTimeZone(tz: string): void {
  if (!isValidTimeZone(tz)) throw new StudyError(`time zone ${JSON.stringify(tz)} is not a valid IANA time zone name (e.g. America/New_York, Europe/Berlin)`);
}

/** Check a start date: a real YYYY-MM-DD date, not before today in the participant's zone. */
export function checkStartDate(startDate: string, tz: string, now: number): void {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(startDate) || !DateTime.fromISO(startDate).isValid) {
    throw new StudyError(`start date ${JSON.stringify(startDate)} is not a date (YYYY-MM-DD)`);
  }
  const today = localDate(now, tz);
  if (startDate < today) throw new StudyError(`start date ${startDate} is in the past (today is ${today} in ${tz})`);
}

/**
 * Provision a device folder for a participant. Idempotent: provisioning the same participant
 * again returns the same configuration and never reassigns the condition. Re-provisioning with a
 * new version of the same study replaces the frozen protocol (the condition is kept; a new consent
 * version is then asked before the next session). Everything is checked before anything is written.
 */
export function provisionDevice(o: ProvisionOptions): DeviceConfig {
  const deviceDir = resolve(o.deviceDir);
  const loaded = loadProtocol(o.protocolFile);
  const { protocol } = loaded;
  checkParticipantId(o.participantId, protocol.study.participant_id_pattern);
  checkTimeZone(o.tz);
  const existing = existsSync(join(deviceDir, DEVICE_FILES.config)) ? readDeviceConfig(deviceDir) : undefined;
  if (existing) {
    const same = (what: string, a: string, b: string): void => {
      if (a !== b) throw new StudyError(`${deviceDir} is already provisioned with ${what} ${a}, not ${b}; provisioning cannot change it`);
    };
    same('participant', existing.participantId, o.participantId);
    same('study', existing.protocol.id, protocol.study.id);
    same('time zone', existing.tz, o.tz);
    same('start date', existing.startDate, o.startDate);
    if (!protocol.conditions.some((c) => c.id === existing.condition)) {
      throw new StudyError(`protocol ${protocol.study.version} has no condition "${existing.condition}", which ${o.participantId} was allocated to; keep that condition in the new version`);
    }
  } else {
    checkStartDate(o.startDate, o.tz, o.now);
    if (existsSync(deviceDir) && !statSync(deviceDir).isDirectory()) throw new StudyError(`${deviceDir} exists and is not a folder`);
  }
  const stratum = stratumKey(protocol, o.strata ?? {});
  const clockSource = o.clockSource ?? 'system';
  const registryFile = resolve(o.registryFile ?? defaultRegistryPath());

  // Allocation: read-only checks first, then one atomic write in the registry.
  const registry: Store = SqliteStore.open(registryFile);
  let allocation: AllocationRecord;
  try {
    const prior = registry.study.findAllocation(protocol.study.id, o.participantId);
    if (prior && !protocol.conditions.some((c) => c.id === prior.condition)) {
      throw new StudyError(`registry ${registryFile}: ${o.participantId} is allocated to "${prior.condition}", which this protocol does not define`);
    }
    if (prior && existing && prior.condition !== existing.condition) {
      throw new StudyError(`registry ${registryFile} allocates ${o.participantId} to "${prior.condition}" but ${deviceDir} says "${existing.condition}"; check you are using the study's registry`);
    }
    if (!prior && existing) {
      throw new StudyError(`${deviceDir} was provisioned from another allocation registry than ${registryFile}; pass --registry with the study's registry`);
    }
    // Registry rows are stamped in the zone of the participant being provisioned; the registry has no device seq.
    const at = { atMs: o.now, tz: o.tz, clockSource };
    const seed = prior?.seed ?? registry.study.allocationSeed(protocol.study.id, newAllocationSeed, at);
    allocation = registry.study.allocateOnce(
      { studyId: protocol.study.id, participantId: o.participantId, stratum, seed, protocolHash: loaded.hash, ...at },
      (slot) => assignSlot(protocol, seed, stratum, slot),
    ).record;
  } finally {
    registry.close();
  }

  const condition = protocol.conditions.find((c) => c.id === allocation.condition)!;
  const protocolChanged = existing !== undefined && existing.protocol.hash !== loaded.hash;
  const nowUtc = new Date(o.now).toISOString();
  const config: DeviceConfig = existing && !protocolChanged ? existing : {
    hearthDevice: 1,
    status: 'active',
    deviceId: existing?.deviceId ?? `dev-${randomBytes(6).toString('hex')}`,
    participantId: o.participantId,
    tz: o.tz,
    startDate: o.startDate,
    condition: condition.id,
    storySelection: condition.story_selection,
    allocation: {
      method: allocation.method,
      stratum: allocation.stratum,
      slot: allocation.slot,
      blockIndex: allocation.blockIndex,
      blockSize: allocation.blockSize,
      seed: allocation.seed,
      registry: registryFile,
    },
    protocol: { id: protocol.study.id, version: protocol.study.version, hash: loaded.hash, file: DEVICE_FILES.protocol },
    hardware: protocol.device ?? {},
    safeguards: protocol.safeguards ?? {},
    provisionedTsUtc: existing?.provisionedTsUtc ?? nowUtc,
    provisionedTsLocal: existing?.provisionedTsLocal ?? DateTime.fromMillis(o.now, { zone: o.tz }).toISO()!,
    protocolHistory: existing ? [...existing.protocolHistory, { version: existing.protocol.version, hash: existing.protocol.hash, replacedTsUtc: nowUtc }] : [],
  };

  mkdirSync(deviceDir, { recursive: true });
  writeAtomic(join(deviceDir, DEVICE_FILES.protocol), loaded.source);
  const store: Store = SqliteStore.open(join(deviceDir, DEVICE_FILES.database));
  try {
    const identity = { deviceId: config.deviceId, tz: o.tz, clockSource };
    const log = store.forDevice(identity);
    if (!existing) log.registerDevice({ hardware: 'unprovisioned', hearthVersion: hearthVersion() }, o.now);
    log.enrollParticipant({
      participantId: o.participantId, startDate: o.startDate, condition: config.condition,
      protocolId: protocol.study.id, protocolVersion: protocol.study.version, protocolHash: loaded.hash,
    }, o.now);
    if (protocolChanged) {
      log.updateParticipantProtocol(o.participantId, protocol.study.version, loaded.hash);
    }
    const instances = generateSchedule(protocol, o.startDate, o.tz).map((i) => ({
      participantId: o.participantId, instanceId: i.id, slot: i.slot, studyDay: i.studyDay, localDate: i.localDate,
      templateId: i.templateId, windowStartUtc: i.windowStartUtc, windowEndUtc: i.windowEndUtc,
      windowStartLocal: i.windowStartLocal, windowEndLocal: i.windowEndLocal, protocolHash: loaded.hash,
    }));
    // A new protocol version adds instances it defines; instances already stored keep their status.
    const added = store.study.saveScheduleInstances(identity, instances, o.now);
    if (o.consentGranted) {
      const version = protocol.consent.versions.find((v) => v.version === protocol.consent.current_version)!;
      const asked = CONSENT_MODALITIES.filter((m) => version.modalities[m]);
      store.consent.record(identity, asked.map((m) => ({
        participantId: o.participantId, consentVersion: version.version, modality: m,
        granted: o.consentGranted!.includes(m), method: 'staff', prompt: version.modalities[m]!.prompt, protocolHash: loaded.hash,
      })), o.now);
    }
    if (!existing || protocolChanged) {
      log.recordEvent(existing ? 'study.protocol_updated' : 'study.provisioned', {
        protocolId: protocol.study.id, protocolVersion: protocol.study.version, protocolHash: loaded.hash,
        condition: config.condition, stratum: allocation.stratum, slot: allocation.slot, scheduleInstancesAdded: added,
      }, o.now);
    }
  } finally {
    store.close();
  }
  writeAtomic(join(deviceDir, DEVICE_FILES.config), `${JSON.stringify(config, null, 2)}\n`);
  return config;
}

/** Read `DIR/device.json`, with errors that say what to do. */
export function readDeviceConfig(dir: string): DeviceConfig {
  const deviceDir = resolve(dir);
  const file = join(deviceDir, DEVICE_FILES.config);
  if (!existsSync(deviceDir)) throw new StudyError(`device folder ${deviceDir} does not exist`);
  if (!existsSync(file)) throw new StudyError(`${file} not found: this folder is not provisioned (run hearth provision --device-dir ${dir} …)`);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (cause) {
    throw new StudyError(`${file}: not valid JSON (${(cause as Error).message})`, { cause });
  }
  const c = raw as Partial<DeviceConfig>;
  if (c.status === 'withdrawn') {
    throw new StudyError(`${file}: participant ${String(c.participantId)} withdrew on ${String(c.withdrawnTsUtc)}; this device holds only the withdrawal record`);
  }
  const missing = (['deviceId', 'participantId', 'tz', 'startDate', 'condition', 'protocol', 'status'] as const).filter((k) => c[k] === undefined);
  if (c.hearthDevice !== 1 || missing.length > 0) {
    throw new StudyError(`${file}: not a Hearth device configuration${missing.length ? ` (missing ${missing.join(', ')})` : ' (hearthDevice must be 1)'}`);
  }
  if (!isValidTimeZone(c.tz!)) throw new StudyError(`${file}: time zone ${JSON.stringify(c.tz)} is not a valid IANA time zone`);
  return c as DeviceConfig;
}

/** A device's configuration and its frozen protocol, checked against the hash recorded at provisioning. */
export function loadDevice(dir: string): { config: DeviceConfig; protocol: LoadedProtocol } {
  const config = readDeviceConfig(dir);
  const file = join(resolve(dir), config.protocol.file);
  if (!existsSync(file)) throw new StudyError(`${file} not found: the frozen protocol is missing; provision the device again`);
  const source = readFileSync(file, 'utf8');
  const hash = protocolHash(source);
  if (hash !== config.protocol.hash) throw new StudyError(`${file} was changed after provisioning (hash ${hash}, expected ${config.protocol.hash}); provision again with the new protocol file`);
  return { config, protocol: parseProtocol(source, file) };
}

function writeAtomic(file: string, text: string): void {
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}

function hearthVersion(): string {
  try {
    return (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}
