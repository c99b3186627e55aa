/**
 * Withdrawal: remove every row and file of a participant from their device, keep a tombstone and
 * the consent record, and scan the database and the folder to show nothing of theirs remains.
 * Safeguard incidents are required records: each is kept without the participant's words (in the
 * database, where an undelivered one stays in the alert outbox, and in `alerts.jsonl`).
 */
import { closeSync, existsSync, fsyncSync, openSync, readdirSync, readFileSync, readSync, renameSync, rmdirSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import {
  incidentReportWithoutWords, SqliteStore, type ClockSource, type DeliveryStatus, type ParticipantScope, type PurgeCounts, type RetainedIncident,
  type Store, type TableScan,
} from '../data/index.js';
import { StudyError } from './errors.js';
import { loadProtocol } from './protocol.js';
import { DEVICE_FILES, type DeviceConfig } from './provision.js';

/** The local copy of safeguard alerts in the device folder (what staff sync). */
export const ALERTS_FILE = 'alerts.jsonl';

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

/** A table's rows in a scan; `reason` says why rows kept on purpose are kept. */
export interface ScanTable extends TableScan {
  reason?: string;
}

/** An incident record a withdrawal kept, and why. */
export interface RetainedRecord {
  incidentId: string;
  kind: string;
  severity: string;
  deliveryStatus: DeliveryStatus;
  /** Where it is kept: the database, and `alerts.jsonl` when it is there. */
  where: string[];
  reason: string;
}

/** Result of a scan of a device for a participant's data. */
export interface ScanResult {
  participantId: string;
  sessionIds: number;
  tables: ScanTable[];
  files: FileHit[];
  /** Incident records kept without the participant's words, with the reason. */
  retained: RetainedRecord[];
  /** Rows and files holding the participant's data outside the kept tombstone, consent and incident records. */
  remaining: number;
}

/** What a withdrawal did, and the scan afterwards. */
export interface WithdrawalReport {
  participantId: string;
  deviceDir: string;
  alreadyWithdrawn: boolean;
  rowsPurged: PurgeCounts;
  filesPurged: string[];
  /** `alerts.jsonl` rewritten without the participant's words: reports kept, unreadable lines dropped. */
  alertsFile: { reports: number; unreadableLinesDropped: number } | null;
  scan: ScanResult;
}

/**
 * Files the device folder keeps: the configuration (rewritten as the withdrawal record), the protocol,
 * the database, and `alerts.jsonl` (rewritten without the participant's words).
 */
const KEPT_FILES = new Set<string>([DEVICE_FILES.config, DEVICE_FILES.protocol, DEVICE_FILES.database, ALERTS_FILE]);
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
    return {
      participantId: o.participantId, deviceDir, alreadyWithdrawn: true, rowsPurged: {}, filesPurged: [], alertsFile: null,
      scan: scanDevice(deviceDir, o.participantId, record.deviceId),
    };
  }

  const store: Store = SqliteStore.open(dbFile);
  let scope: ParticipantScope;
  let rowsPurged: PurgeCounts;
  // The webhook's shared secret (if kept in the device folder) is no participant data, and retained alerts still need it.
  const secretFile = alertSecretFile(deviceDir);
  const doomed = listFiles(deviceDir).filter((f) => !KEPT_FILES.has(f) && !DB_SIDE_FILES.includes(f) && f !== secretFile);
  try {
    scope = store.withdrawal.participantScope(o.participantId, [record.deviceId]);
    // First, in its own transaction: incidents become records without words, which the purge leaves.
    store.withdrawal.retainIncidentsWithoutWords(scope, o.now);
    rowsPurged = store.withdrawal.purgeParticipant(scope, {
      studyId: record.protocol.id, protocolHash: record.protocol.hash, atMs: o.now, filesPurged: doomed.length,
      identity: { deviceId: record.deviceId, tz: record.tz, clockSource: o.clockSource ?? 'system' },
    });
    store.withdrawal.setTombstoneFiles(o.participantId, doomed.length, o.now);
  } finally {
    store.close();
  }
  const alertsFile = rewriteAlertsWithoutWords(join(deviceDir, ALERTS_FILE), o.now);
  for (const f of doomed) rmSync(join(deviceDir, f), { force: true });
  removeEmptyFolders(deviceDir);
  const withdrawn: WithdrawnDevice = {
    hearthDevice: 1, status: 'withdrawn', deviceId: record.deviceId, participantId: o.participantId, tz: record.tz,
    protocol: record.protocol, withdrawnTsUtc: new Date(o.now).toISOString(),
  };
  writeFileSync(configFile, `${JSON.stringify(withdrawn, null, 2)}\n`);
  return {
    participantId: o.participantId, deviceDir, alreadyWithdrawn: false, rowsPurged, filesPurged: doomed, alertsFile,
    scan: scanDevice(deviceDir, o.participantId, record.deviceId, scope.sessionIds),
  };
}

/** The protocol's `device.alert_webhook.secret_file`, if the frozen protocol names one. */
function alertSecretFile(deviceDir: string): string | undefined {
  try {
    return loadProtocol(join(deviceDir, DEVICE_FILES.protocol)).protocol.device?.alert_webhook?.secret_file;
  } catch {
    return undefined;
  }
}

/**
 * Rewrite `alerts.jsonl` in place (temporary file, fsync, rename) with each report reduced to the
 * record kept after withdrawal. A line that is not a readable report (a write torn by a power cut) is
 * dropped: its words cannot be separated out; the incident itself is in the database.
 */
function rewriteAlertsWithoutWords(file: string, atMs: number): WithdrawalReport['alertsFile'] {
  if (!existsSync(file)) return null;
  let reports = 0;
  let dropped = 0;
  const out: string[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    let kept = null;
    try {
      kept = incidentReportWithoutWords(JSON.parse(line), atMs);
    } catch {
      kept = null;
    }
    if (kept) {
      out.push(JSON.stringify(kept));
      reports++;
    } else dropped++;
  }
  const tmp = `${file}.withdrawal-tmp`;
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, out.map((l) => `${l}\n`).join(''));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
  return { reports, unreadableLinesDropped: dropped };
}

/** Why an incident record is kept, in words for the proof output. */
function retainedReason(reason: string, status: DeliveryStatus): string {
  if (status === 'unsent') return `${reason}; not yet delivered to study staff, so it stays in the alert outbox and is still sent`;
  if (status === 'failed') return `${reason}; its delivery failed permanently, so it stays for staff to follow up`;
  return `${reason}; delivered to study staff (${status})`;
}

/** True when every line of `alerts.jsonl` is a report already reduced to the kept record. */
function alertsFileWithoutWords(file: string): { ok: boolean; ids: Set<string> } {
  const ids = new Set<string>();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    try {
      const parsed = JSON.parse(line) as { incidentId?: unknown; retained?: { date?: string } };
      const reduced = incidentReportWithoutWords(parsed, Date.parse(parsed.retained?.date ?? ''));
      if (!reduced || !parsed.retained || JSON.stringify(reduced) !== JSON.stringify(parsed)) return { ok: false, ids };
      ids.add(reduced.incidentId);
    } catch {
      return { ok: false, ids };
    }
  }
  return { ok: true, ids };
}

/**
 * Look for a participant's data on a device: every table and column of the database (participant
 * id as a whole token, their session ids, rows of their device), and every file in the folder
 * (names and bytes). The tombstone, the consent record and the withdrawal record are reported as kept.
 */
export function scanDevice(deviceDir: string, participantId: string, deviceId: string, knownSessionIds: readonly string[] = []): ScanResult {
  const dir = resolve(deviceDir);
  const dbFile = join(dir, DEVICE_FILES.database);
  let tables: ScanTable[] = [];
  let sessionIds = [...knownSessionIds];
  let kept: RetainedIncident[] = [];
  if (existsSync(dbFile)) {
    const store: Store = SqliteStore.open(dbFile, { create: false });
    try {
      const found = store.withdrawal.participantScope(participantId, [deviceId]);
      sessionIds = [...new Set([...sessionIds, ...found.sessionIds])];
      tables = store.withdrawal.scanParticipant({ participantId, sessionIds, deviceIds: found.deviceIds });
      kept = store.withdrawal.retainedIncidents(participantId, found.deviceIds).filter((r) => r.withoutWords);
    } finally {
      store.close();
    }
  }
  // Incident records kept without words are kept on purpose; any other incident row still counts.
  const incidents = tables.find((t) => t.table === 'safeguard_incidents');
  if (incidents && kept.length > 0) {
    const keptRows = Math.min(kept.length, incidents.rows);
    tables = tables.flatMap((t) => t !== incidents ? [t] : [
      { table: t.table, rows: keptRows, kept: true, reason: "incident records for the IRB, kept without the participant's words" },
      ...(t.rows > keptRows ? [{ table: t.table, rows: t.rows - keptRows, kept: false }] : []),
    ]);
  }
  const alertsPath = join(dir, ALERTS_FILE);
  const alertsCheck = existsSync(alertsPath) ? alertsFileWithoutWords(alertsPath) : { ok: false, ids: new Set<string>() };
  const retained: RetainedRecord[] = kept.map((r) => ({
    incidentId: r.incidentId, kind: r.kind, severity: r.severity, deliveryStatus: r.deliveryStatus,
    where: [`${DEVICE_FILES.database} (safeguard_incidents)`, ...(alertsCheck.ok && alertsCheck.ids.has(r.incidentId) ? [ALERTS_FILE] : [])],
    reason: retainedReason(r.reason, r.deliveryStatus),
  }));
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
    // The database keeps the tombstone, consent and incident rows (which name the participant); a session id in its bytes is a leak.
    // alerts.jsonl is kept when every line is an incident report already reduced to the record without words.
    const onlyTheId = !inside.some((n) => n !== participantId) && !found.some((x) => x.startsWith('session '));
    const keptFile = f === DEVICE_FILES.config || (f === DEVICE_FILES.database && onlyTheId) || (f === ALERTS_FILE && onlyTheId && alertsCheck.ok);
    if (keptFile && f === DEVICE_FILES.database && retained.length > 0) {
      const waiting = retained.filter((r) => r.deliveryStatus === 'unsent').length;
      found.push(`${retained.length} incident record${retained.length === 1 ? '' : 's'} kept without the participant's words${waiting ? ` (${waiting} not yet delivered, still in the outbox)` : ''}`);
    }
    if (keptFile && f === ALERTS_FILE) found.push(`${alertsCheck.ids.size} incident report${alertsCheck.ids.size === 1 ? '' : 's'} rewritten without the participant's words`);
    files.push({ file: f, found, kept: keptFile });
  }
  const remaining = tables.filter((t) => !t.kept).reduce((n, t) => n + t.rows, 0) + files.filter((f) => !f.kept).length;
  return { participantId, sessionIds: sessionIds.length, tables, files, retained, remaining };
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
