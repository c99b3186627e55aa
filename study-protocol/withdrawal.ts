/**
 * Withdrawal: remove every row and file of a participant from their device, keep a tombstone and
 * the consent record, and scan the database and the folder to show nothing of theirs remains.
 */
import { closeSync, existsSync, openSync, readdirSync, readFileSync, readSync, rmdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import {
  participantScope, purgeParticipant, scanParticipant, setTombstoneFiles, SqliteStore, type ClockSource, type ParticipantScope, type PurgeCounts,
  type TableScan,
} from '../data/index.js';
import { StudyError } from './errors.js';
import { DEVICE_FILES, type DeviceConfig } from './provision.js';

/** A device folder after withdrawal: `device.json` becomes this record. */
export interface WithdrawnDevice {
  hearthDevice: 1;
  status: 'withdrawn';
  deviceId: string;
  participantId: string;
  tz: string;
  protocol: DeviceConfig['protocol'];
  withdrawnTsUtc: string;
}

/** A file in the device folder that names the participant or one of their sessions. */
export interface FileHit {
  file: string;
  /** What was found: the participant id, a session id, or the device id of a sole-use device. */
  found: string[];
  kept: boolean;
}

/** Result of a scan of a device for a participant's data. */
export interface ScanResult {
  participantId: string;
  sessionIds: number;
  tables: TableScan[];
  files: FileHit[];
  /** Rows and files holding the participant's data outside the kept tombstone and consent record. */
  remaining: number;
}

/** What a withdrawal did, and the scan afterwards. */
export interface WithdrawalReport {
  participantId: string;
  deviceDir: string;
  alreadyWithdrawn: boolean;
  rowsPurged: PurgeCounts;
  filesPurged: string[];
  scan: ScanResult;
}

/** Files the device folder keeps: the configuration (rewritten as the withdrawal record), the protocol, the database. */
const KEPT_FILES = new Set<string>([DEVICE_FILES.config, DEVICE_FILES.protocol, DEVICE_FILES.database]);
const DB_SIDE_FILES = [`${DEVICE_FILES.database}-wal`, `${DEVICE_FILES.database}-shm`, `${DEVICE_FILES.database}-journal`];

/**
 * Withdraw a participant from a device folder. Every other file in the folder is theirs (one
 * participant per device) and is deleted; the database loses every row naming them, their
 * sessions or their device, then is vacuumed; `device.json` is replaced by a withdrawal record.
 * Running it again only scans.
 */
export function withdrawParticipant(o: { deviceDir: string; participantId: string; now: number; clockSource?: ClockSource }): WithdrawalReport {
  const deviceDir = resolve(o.deviceDir);
  const configFile = join(deviceDir, DEVICE_FILES.config);
  if (!existsSync(configFile)) throw new StudyError(`${configFile} not found: ${deviceDir} is not a provisioned device folder`);
  let record: DeviceConfig | WithdrawnDevice;
  try {
    record = JSON.parse(readFileSync(configFile, 'utf8')) as DeviceConfig | WithdrawnDevice;
  } catch (cause) {
    throw new StudyError(`${configFile}: not valid JSON (${(cause as Error).message})`, { cause });
  }
  if (record.participantId !== o.participantId) {
    throw new StudyError(`${deviceDir} belongs to participant ${record.participantId}, not ${o.participantId}; nothing was deleted`);
  }
  const dbFile = join(deviceDir, DEVICE_FILES.database);
  if (record.status === 'withdrawn') {
    return { participantId: o.participantId, deviceDir, alreadyWithdrawn: true, rowsPurged: {}, filesPurged: [], scan: scanDevice(deviceDir, o.participantId, record.deviceId) };
  }

  const store = SqliteStore.open(dbFile);
  let scope: ParticipantScope;
  let rowsPurged: PurgeCounts;
  const doomed = listFiles(deviceDir).filter((f) => !KEPT_FILES.has(f) && !DB_SIDE_FILES.includes(f));
  try {
    scope = participantScope(store.db, o.participantId, [record.deviceId]);
    rowsPurged = purgeParticipant(store.db, scope, {
      studyId: record.protocol.id, protocolHash: record.protocol.hash, atMs: o.now, filesPurged: doomed.length,
      identity: { deviceId: record.deviceId, tz: record.tz, clockSource: o.clockSource ?? 'system' },
    });
    setTombstoneFiles(store.db, o.participantId, doomed.length, o.now);
  } finally {
    store.close();
  }
  for (const f of doomed) rmSync(join(deviceDir, f), { force: true });
  removeEmptyFolders(deviceDir);
  const withdrawn: WithdrawnDevice = {
    hearthDevice: 1, status: 'withdrawn', deviceId: record.deviceId, participantId: o.participantId, tz: record.tz,
    protocol: record.protocol, withdrawnTsUtc: new Date(o.now).toISOString(),
  };
  writeFileSync(configFile, `${JSON.stringify(withdrawn, null, 2)}\n`);
  return { participantId: o.participantId, deviceDir, alreadyWithdrawn: false, rowsPurged, filesPurged: doomed, scan: scanDevice(deviceDir, o.participantId, record.deviceId, scope.sessionIds) };
}

/**
 * Look for a participant's data on a device: every table and column of the database (participant
 * id as a whole token, their session ids, rows of their device), and every file in the folder
 * (names and bytes). The tombstone, the consent record and the withdrawal record are reported as kept.
 */
export function scanDevice(deviceDir: string, participantId: string, deviceId: string, knownSessionIds: readonly string[] = []): ScanResult {
  const dir = resolve(deviceDir);
  const dbFile = join(dir, DEVICE_FILES.database);
  let tables: TableScan[] = [];
  let sessionIds = [...knownSessionIds];
  if (existsSync(dbFile)) {
    const store = SqliteStore.open(dbFile, { create: false });
    try {
      const found = participantScope(store.db, participantId, [deviceId]);
      sessionIds = [...new Set([...sessionIds, ...found.sessionIds])];
      tables = scanParticipant(store.db, { participantId, sessionIds, deviceIds: found.deviceIds });
    } finally {
      store.close();
    }
  }
  const token = new RegExp(`(^|[^A-Za-z0-9])${participantId.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}($|[^A-Za-z0-9])`);
  const files: FileHit[] = [];
  for (const f of listFiles(dir)) {
    const found: string[] = [];
    if (token.test(f)) found.push(`participant id in the name`);
    for (const s of sessionIds) if (f.includes(s)) found.push(`session ${s} in the name`);
    const needles = [participantId, ...sessionIds];
    const inside = bytesContain(join(dir, f), needles, token);
    found.push(...inside.map((n) => (n === participantId ? 'participant id in the content' : `session ${n} in the content`)));
    if (found.length === 0) continue;
    // The database keeps the tombstone and consent rows (which name the participant); a session id in its bytes is a leak.
    const kept = f === DEVICE_FILES.config || (f === DEVICE_FILES.database && !inside.some((n) => n !== participantId));
    files.push({ file: f, found, kept });
  }
  const remaining = tables.filter((t) => !t.kept).reduce((n, t) => n + t.rows, 0) + files.filter((f) => !f.kept).length;
  return { participantId, sessionIds: sessionIds.length, tables, files, remaining };
}

/** Which needles occur in a file's bytes (the participant id only as a whole token). Reads in chunks. */
function bytesContain(file: string, needles: readonly string[], token: RegExp): string[] {
  const hits = new Set<string>();
  const overlap = Math.max(64, ...needles.map((n) => n.length + 2));
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(1 << 20);
    let carry = '';
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      const text = carry + buf.subarray(0, n).toString('latin1');
      if (token.test(text)) hits.add(needles[0]!);
      for (const s of needles.slice(1)) if (text.includes(s)) hits.add(s);
      carry = text.slice(-overlap);
    }
  } finally {
    closeSync(fd);
  }
  return [...hits];
}

function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(relative(dir, p));
    }
  };
  if (existsSync(dir) && statSync(dir).isDirectory()) walk(dir);
  return out.sort();
}

function removeEmptyFolders(dir: string): void {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (!e.isDirectory()) continue;
    const p = join(dir, e.name);
    removeEmptyFolders(p);
    if (readdirSync(p).length === 0) rmdirSync(p);
  }
}
