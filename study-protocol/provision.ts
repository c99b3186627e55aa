/**
 * Enrollment and provisioning: check the participant id, time zone and start date, allocate a
 * condition from the concealed registry, and write the device folder (device.json, a frozen
 * protocol.yaml, hearth.sqlite with the enrollment, schedule and any staff-recorded consent).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { DateTime } from 'luxon';
import {
  addDays, isValidTimeZone, localDate, SqliteStore, type Store,
  type AllocationRecord, type ClockSource,
} from '../data/index.js';
import { assignSlot, newAllocationSeed, stratumKey } from './allocation.js';
import { StudyError } from './errors.js';
import { packageRoot } from './paths.js';
import { CONSENT_MODALITIES, loadProtocol, parseProtocol, protocolHash, type ConsentModality, type LoadedProtocol, type Protocol } from './protocol.js';
import { readRegularFile, writeFileAtomic } from './files.js';
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

/**
 * Check a time zone and return its canonical IANA spelling (`europe/berlin` → `Europe/Berlin`, links such
 * as `US/Eastern` → `America/New_York`), so what is stored matches what every tool prints; throws a
 * StudyError naming it.
 */
export function checkTimeZone(tz: string): string {
  if (!isValidTimeZone(tz)) throw new StudyError(`time zone ${JSON.stringify(tz)} is not a valid IANA time zone name (e.g. America/New_York, Europe/Berlin)`, { field: 'tz' });
  return new Intl.DateTimeFormat('en', { timeZone: tz }).resolvedOptions().timeZone;
}

/**
 * The last start date whose schedule can be stored: every window is stored as ISO-8601 UTC with a
 * four-digit year, so the study's last day (and a zone up to a day behind UTC) must fall in year 9999.
 */
export function latestStartDate(studyDays: number): string {
  return addDays('9999-12-31', -Math.max(1, studyDays));
}

/** Check a start date: a real YYYY-MM-DD date, not before today in the participant's zone, and one the schedule of a `studyDays`-day study can store. */
export function checkStartDate(startDate: string, tz: string, now: number, studyDays = 1): void {
  const today = localDate(now, tz);
  const latest = latestStartDate(studyDays);
  const range = `from ${today} (today in ${tz}) to ${latest}`;
  if (!/^\d{4}-\d{2}-\d{2}$/.test(startDate) || !DateTime.fromISO(startDate).isValid) {
    throw new StudyError(`start date ${JSON.stringify(startDate)} is not a date: give YYYY-MM-DD ${range}`, { field: 'startDate' });
  }
  if (startDate < today) throw new StudyError(`start date ${startDate} is in the past: allowed ${range}`, { field: 'startDate' });
  if (startDate > latest) throw new StudyError(`start date ${startDate} is too late for the ${studyDays}-day schedule to be stored: allowed ${range}`, { field: 'startDate' });
}

/**
 * Provision a device folder for a participant. Idempotent: provisioning the same participant
 * again returns the same configuration and never reassigns the condition. Re-provisioning with a
 * new version of the same study replaces the frozen protocol (the condition is kept; a new consent
 * version is then asked before the next session). Everything is checked before anything is written.
 *
 * A new folder is built beside its destination and renamed into place, so a failure leaves nothing
 * behind. A new participant's registry slot is taken in the same registry transaction that builds and
 * renames the folder: the slot commits only once the folder exists, and any failure (or a kill) before
 * the commit rolls the slot back. Deleting the slot after a failure instead would leave it used by a
 * folder that does not exist whenever the process died between the two steps.
 */
export function provisionDevice(o: ProvisionOptions): DeviceConfig {
  const deviceDir = resolve(o.deviceDir);
  const registryFile = resolve(o.registryFile ?? defaultRegistryPath());
  const loaded = loadProtocol(o.protocolFile);
  const { protocol } = loaded;
  checkParticipantId(o.participantId, protocol.study.participant_id_pattern);
  const tz = checkTimeZone(o.tz);
  const existing = existsSync(join(deviceDir, DEVICE_FILES.config)) ? readDeviceConfig(deviceDir) : undefined;
  if (existing) {
    const same = (what: string, a: string, b: string): void => {
      if (a !== b) throw new StudyError(`${deviceDir} is already provisioned with ${what} ${a}, not ${b}; provisioning cannot change it`);
    };
    same('participant', existing.participantId, o.participantId);
    same('study', existing.protocol.id, protocol.study.id);
    same('time zone', checkTimeZone(existing.tz), tz);
    same('start date', existing.startDate, o.startDate);
    if (!protocol.conditions.some((c) => c.id === existing.condition)) {
      throw new StudyError(`protocol ${protocol.study.version} has no condition "${existing.condition}", which ${o.participantId} was allocated to; keep that condition in the new version`);
    }
  } else {
    checkStartDate(o.startDate, tz, o.now, protocol.study.days);
    if (existsSync(deviceDir)) {
      if (!statSync(deviceDir).isDirectory()) throw new StudyError(`${deviceDir} exists and is not a folder`);
      // The new files are built beside the folder and moved in, so it must hold nothing to lose: only
      // a runtime's lock (a demo `hearth talk` holds it while it provisions) or the registry itself.
      if (readdirSync(deviceDir).some((f) => !mayStay(f, deviceDir, registryFile))) {
        throw new StudyError(`${deviceDir} holds files but no ${DEVICE_FILES.config}: provision into a new or empty folder`);
      }
    }
  }
  const stratum = stratumKey(protocol, o.strata ?? {});
  const clockSource = o.clockSource ?? 'system';
  const write = (dir: string, allocation: Allocated): DeviceConfig =>
    writeDevice(dir, { o, tz, loaded, existing, allocation, registryFile, clockSource });

  const registry: Store = SqliteStore.open(registryFile);
  try {
    const prior = registry.study.findAllocation(protocol.study.id, o.participantId);
    if (prior && !protocol.conditions.some((c) => c.id === prior.condition)) {
      throw new StudyError(`registry ${registryFile}: ${o.participantId} is allocated to "${prior.condition}", which this protocol does not define`);
    }
    if (prior && existing && prior.condition !== existing.condition) {
      throw new StudyError(`registry ${registryFile} allocates ${o.participantId} to "${prior.condition}" but ${deviceDir} says "${existing.condition}"; check you are using the study's registry`);
    }
    if (!prior && existing) {
      if (resolve(existing.allocation.registry) === registryFile) {
        throw new StudyError(`${deviceDir} names registry ${registryFile}, which holds no allocation for ${o.participantId}: its provisioning was interrupted before the registry recorded it; remove ${deviceDir} and provision again`);
      }
      throw new StudyError(`${deviceDir} was provisioned from another allocation registry than ${registryFile}; pass --registry with the study's registry`);
    }
    if (existing) return write(deviceDir, prior!);
    if (prior) return buildBeside(deviceDir, (dir) => write(dir, prior));
    // Registry rows are stamped in the zone of the participant being provisioned; the registry has no device seq.
    const at = { atMs: o.now, tz, clockSource };
    const seed = registry.study.allocationSeed(protocol.study.id, newAllocationSeed, at);
    let config: DeviceConfig | undefined;
    try {
      registry.study.allocateOnce(
        { studyId: protocol.study.id, participantId: o.participantId, stratum, seed, protocolHash: loaded.hash, ...at },
        (slot) => {
          // Runs inside the registry's transaction: a throw here rolls the slot back.
          const assigned = assignSlot(protocol, seed, stratum, slot);
          config = buildBeside(deviceDir, (dir) => write(dir, { ...assigned, stratum, slot, seed }));
          return assigned;
        },
      );
    } catch (error) {
      // The files are in place but the slot did not commit (e.g. the registry's disk is full): take out
      // what provisioning wrote, keeping a lock or registry the folder held before.
      if (config) {
        for (const f of readdirSync(deviceDir)) if (!mayStay(f, deviceDir, registryFile)) rmSync(join(deviceDir, f), { recursive: true, force: true });
      }
      throw error;
    }
    return config!;
  } finally {
    registry.close();
  }
}

/** The allocation fields a device configuration records. */
type Allocated = Pick<AllocationRecord, 'condition' | 'method' | 'stratum' | 'slot' | 'blockIndex' | 'blockSize' | 'seed'>;

/** Files a new device's folder may already hold: a runtime's lock, and the allocation registry being used. */
function mayStay(name: string, deviceDir: string, registryFile: string): boolean {
  if (/^hearth\.lock(\.json)?$/.test(name)) return true;
  const path = join(deviceDir, name);
  return [registryFile, `${registryFile}-wal`, `${registryFile}-shm`, `${registryFile}-journal`].includes(path);
}

/**
 * Build a new device folder in a temporary folder beside `deviceDir` and rename it into place; into a
 * folder that exists, the files are moved in, `device.json` last. On any failure what was built or
 * moved is removed, and nothing that was there before is touched.
 */
function buildBeside<T>(deviceDir: string, build: (dir: string) => T): T {
  mkdirSync(dirname(deviceDir), { recursive: true });
  const tmp = join(dirname(deviceDir), `.${basename(deviceDir)}.provisioning-${randomBytes(4).toString('hex')}`);
  mkdirSync(tmp);
  const moved: string[] = [];
  try {
    const result = build(tmp);
    try {
      if (existsSync(deviceDir)) {
        // The folder exists (empty, or holding a lock that must stay where its holder has it): move
        // the files in, device.json last, since a folder without it is not a device.
        const names = readdirSync(tmp).sort((a, b) => Number(a === DEVICE_FILES.config) - Number(b === DEVICE_FILES.config));
        for (const name of names) {
          renameSync(join(tmp, name), join(deviceDir, name));
          moved.push(join(deviceDir, name));
        }
        rmSync(tmp, { recursive: true, force: true });
      } else {
        renameSync(tmp, deviceDir);
      }
    } catch (cause) {
      throw new StudyError(`cannot move the new device folder into ${deviceDir} (${(cause as NodeJS.ErrnoException).code ?? (cause as Error).message}): provision into a new or empty folder`, { cause });
    }
    return result;
  } catch (error) {
    for (const file of moved) rmSync(file, { force: true });
    rmSync(tmp, { recursive: true, force: true });
    throw error;
  }
}

/** Write (or update in place) the device's files in `dir`; returns the configuration written. */
function writeDevice(dir: string, w: {
  o: ProvisionOptions; tz: string; loaded: LoadedProtocol; existing: DeviceConfig | undefined; allocation: Allocated;
  registryFile: string; clockSource: ClockSource;
}): DeviceConfig {
  const { o, tz, loaded, existing, allocation, clockSource } = w;
  const { protocol } = loaded;
  const condition = protocol.conditions.find((c) => c.id === allocation.condition)!;
  const protocolChanged = existing !== undefined && existing.protocol.hash !== loaded.hash;
  const nowUtc = new Date(o.now).toISOString();
  const config: DeviceConfig = existing && !protocolChanged ? existing : {
    hearthDevice: 1,
    status: 'active',
    deviceId: existing?.deviceId ?? `dev-${randomBytes(6).toString('hex')}`,
    participantId: o.participantId,
    tz: existing?.tz ?? tz,
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
      registry: w.registryFile,
    },
    protocol: { id: protocol.study.id, version: protocol.study.version, hash: loaded.hash, file: DEVICE_FILES.protocol },
    hardware: protocol.device ?? {},
    safeguards: protocol.safeguards ?? {},
    provisionedTsUtc: existing?.provisionedTsUtc ?? nowUtc,
    provisionedTsLocal: existing?.provisionedTsLocal ?? DateTime.fromMillis(o.now, { zone: tz }).toISO()!,
    protocolHistory: existing ? [...existing.protocolHistory, { version: existing.protocol.version, hash: existing.protocol.hash, replacedTsUtc: nowUtc }] : [],
  };

  writeFileAtomic(join(dir, DEVICE_FILES.protocol), loaded.source);
  const store: Store = SqliteStore.open(join(dir, DEVICE_FILES.database));
  try {
    const identity = { deviceId: config.deviceId, tz: config.tz, clockSource };
    const log = store.forDevice(identity);
    if (!existing) log.registerDevice({ hardware: 'unprovisioned', hearthVersion: hearthVersion() }, o.now);
    log.enrollParticipant({
      participantId: o.participantId, startDate: o.startDate, condition: config.condition,
      protocolId: protocol.study.id, protocolVersion: protocol.study.version, protocolHash: loaded.hash,
    }, o.now);
    if (protocolChanged) {
      log.updateParticipantProtocol(o.participantId, protocol.study.version, loaded.hash);
    }
    const instances = generateSchedule(protocol, o.startDate, config.tz).map((i) => ({
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
  writeFileAtomic(join(dir, DEVICE_FILES.config), `${JSON.stringify(config, null, 2)}\n`);
  return config;
}

/** Read `DIR/device.json`, with errors that say what to do. */
export function readDeviceConfig(dir: string): DeviceConfig {
  const deviceDir = resolve(dir);
  const file = join(deviceDir, DEVICE_FILES.config);
  if (!existsSync(deviceDir)) throw new StudyError(`device folder ${deviceDir} does not exist`);
  if (!existsSync(file)) throw new StudyError(`${file} not found: this folder is not provisioned (run hearth provision --device-dir ${dir} …)`);
  let text: string;
  try {
    text = readRegularFile(file);
  } catch (cause) {
    throw new StudyError(`${file}: ${(cause as NodeJS.ErrnoException).code === 'ENOTREG' ? (cause as Error).message : `cannot be read (${(cause as Error).message})`}`, { cause });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (cause) {
    // JSON.parse quotes the text itself; a damaged file may be binary, so show a short escaped excerpt instead.
    throw new StudyError(`${file}: not valid JSON (${text.length} characters, starting ${excerpt(text)}); restore it from a backup or provision the folder again`, { cause });
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new StudyError(`${file}: not a Hearth device configuration (expected a JSON object, starting ${excerpt(text)})`);
  }
  const c = raw as Partial<DeviceConfig>;
  if (c.status === 'withdrawn') {
    throw new StudyError(`${file}: participant ${String(c.participantId)} withdrew on ${String(c.withdrawnTsUtc)}; this device holds only the withdrawal record`);
  }
  const missing = (['deviceId', 'participantId', 'tz', 'startDate', 'condition', 'protocol', 'status'] as const).filter((k) => c[k] === undefined);
  if (c.hearthDevice !== 1 || missing.length > 0) {
    throw new StudyError(`${file}: not a Hearth device configuration${missing.length ? ` (missing ${missing.join(', ')})` : ' (hearthDevice must be 1)'}`);
  }
  if (typeof c.tz !== 'string' || !isValidTimeZone(c.tz)) {
    throw new StudyError(`${file}: field "tz" holds ${excerpt(String(c.tz))}, which is not a known IANA time zone (e.g. Europe/Berlin); provision the folder again or correct the field`);
  }
  return c as DeviceConfig;
}

/** A device's configuration and its frozen protocol, checked against the hash recorded at provisioning. */
export function loadDevice(dir: string): { config: DeviceConfig; protocol: LoadedProtocol } {
  const config = readDeviceConfig(dir);
  const file = join(resolve(dir), config.protocol.file);
  if (!existsSync(file)) throw new StudyError(`${file} not found: the frozen protocol is missing; provision the device again`);
  let source: string;
  try {
    source = readRegularFile(file);
  } catch (cause) {
    throw new StudyError(`${file}: ${(cause as NodeJS.ErrnoException).code === 'ENOTREG' ? (cause as Error).message : `cannot be read (${(cause as Error).message})`}`, { cause });
  }
  const hash = protocolHash(source);
  if (hash !== config.protocol.hash) throw new StudyError(`${file} was changed after provisioning (hash ${hash}, expected ${config.protocol.hash}); provision again with the new protocol file`);
  return { config, protocol: parseProtocol(source, file) };
}

/** At most 40 characters of `text`, quoted, with anything but printable ASCII escaped (`"\\x00\\x1b[31m…"`). */
function excerpt(text: string): string {
  const head = [...text.slice(0, 40)].map((ch) => {
    const code = ch.codePointAt(0)!;
    if (ch === '"' || ch === '\\') return `\\${ch}`;
    if (code >= 0x20 && code < 0x7f) return ch;
    return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u{${code.toString(16)}}`;
  }).join('');
  return `"${head}${text.length > 40 ? '…' : ''}"`;
}


function hearthVersion(): string {
  try {
    return (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}
