/** Machine-level checks: free disk (and days of logging left), clock synchronisation, time zone. */
import { execFile } from 'node:child_process';
import { existsSync, statfsSync, statSync } from 'node:fs';
import { DateTime } from 'luxon';
import { bytes, result, type CheckResult } from './check.js';

const DAY = 86_400_000;
/** systemd-timesyncd writes this once NTP has set the clock. */
export const TIMESYNC_MARKER = '/run/systemd/timesync/synchronized';

/** What the machine checks read; each part is replaceable in tests. */
export interface SystemParts {
  now: () => number;
  /** Free bytes for an unprivileged writer on the filesystem holding `dir`. */
  freeBytes: (dir: string) => number;
  /** `timedatectl show` as key=value text, or null when it cannot answer (no systemd). */
  timedatectl: () => Promise<string | null>;
  exists: (path: string) => boolean;
  /** The zone the system (and Node's Date) uses. */
  systemTimeZone: () => string;
}

/** The real machine. */
export const systemParts: SystemParts = {
  now: Date.now,
  freeBytes: (dir) => {
    const f = statfsSync(dir);
    return f.bavail * f.bsize;
  },
  timedatectl: () => new Promise((done) => execFile('timedatectl', ['show'], { timeout: 3000 }, (error, out) => done(error ? null : String(out)))),
  exists: existsSync,
  systemTimeZone: () => Intl.DateTimeFormat().resolvedOptions().timeZone,
};

/** What the disk check knows of the device's logging; absent without a device folder. */
export interface LoggingFacts {
  dbFile: string;
  /** When the device was provisioned (logging started). */
  sinceMs: number;
  /** Study days still to run, today included (0 after the last). */
  studyDaysLeft: number;
}

/** The database's size on disk with its write-ahead log. */
export function dbBytes(file: string): number {
  let n = 0;
  for (const f of [file, `${file}-wal`]) if (existsSync(f)) n += statSync(f).size;
  return n;
}

const MIN_FREE = 200e6;
const LOW_FREE = 1e9;

/**
 * Free disk where the device writes. With a device, the days of logging left at its rate so far
 * (database bytes over days since provisioning, at least one day): fewer than the study days left fails.
 */
export function diskCheck(parts: SystemParts, dir: string, logging: LoggingFacts | null): CheckResult {
  let free: number;
  try {
    free = parts.freeBytes(dir);
  } catch (e) {
    return result('disk', 'fail', `cannot read free space of ${dir}: ${(e as Error).message}`, 'check the device folder exists and the disk is mounted');
  }
  const fix = 'free space on the device (old logs: `journalctl --vacuum-size=100M`; apt caches: `apt-get clean`), or move the device folder to a larger card';
  const head = `${bytes(free)} free in ${dir}`;
  if (!logging) {
    if (free < MIN_FREE) return result('disk', 'fail', `${head}: too little for a study`, fix);
    if (free < LOW_FREE) return result('disk', 'warn', `${head}: under ${bytes(LOW_FREE)}`, fix);
    return result('disk', 'ok', head);
  }
  const size = dbBytes(logging.dbFile);
  const days = Math.max(1, (parts.now() - logging.sinceMs) / DAY);
  const perDay = size / days;
  const daysLeft = perDay > 0 ? free / perDay : Infinity;
  const left = Number.isFinite(daysLeft) ? `${daysLeft > 99_999 ? 'over 99,999' : Math.floor(daysLeft).toLocaleString('en-US')} days` : 'unlimited days';
  const detail = `${head}; the database grows about ${bytes(Math.round(perDay))}/day (${bytes(size)} in ${days.toFixed(1)} days), so ${left} of logging left; ${logging.studyDaysLeft} study day${logging.studyDaysLeft === 1 ? '' : 's'} to go`;
  if (free < MIN_FREE || daysLeft < logging.studyDaysLeft) return result('disk', 'fail', `${detail}: the disk fills before the study ends`, fix);
  if (free < LOW_FREE || daysLeft < 2 * logging.studyDaysLeft) return result('disk', 'warn', `${detail}: little to spare`, fix);
  return result('disk', 'ok', detail);
}

/** NTP synchronisation by timedatectl, else timesyncd's marker; a clock before `notBeforeMs` is plainly wrong. */
export async function clockCheck(parts: SystemParts, notBeforeMs: number): Promise<CheckResult> {
  const now = parts.now();
  const at = `system clock reads ${new Date(now).toISOString()}`;
  const fix = 'turn on time synchronisation (`sudo timedatectl set-ntp true`, systemd-timesyncd) and connect the network; a Raspberry Pi has no battery clock, so its time is wrong after every power cut until NTP answers';
  if (now < notBeforeMs) return result('clock', 'fail', `${at}, earlier than ${new Date(notBeforeMs).toISOString()}: the clock is wrong, so every time stamp would be`, fix);
  const show = await parts.timedatectl();
  const synced = show ? /^NTPSynchronized=(yes|no)$/m.exec(show)?.[1] : undefined;
  if (synced === 'yes') return result('clock', 'ok', `${at}; NTP synchronised (timedatectl)`);
  if (synced === 'no') return result('clock', 'warn', `${at}; not NTP synchronised (timedatectl)`, fix);
  if (parts.exists(TIMESYNC_MARKER)) return result('clock', 'ok', `${at}; NTP synchronised (${TIMESYNC_MARKER})`);
  return result('clock', 'warn', `${at}; cannot confirm NTP synchronisation (timedatectl did not answer; no ${TIMESYNC_MARKER})`, fix);
}

/** The system's zone, and whether it keeps the same hours as the participant's (device.json's `tz`). */
export function timeZoneCheck(parts: SystemParts, deviceTz: string | null): CheckResult {
  const system = parts.systemTimeZone();
  if (!deviceTz) return result('time zone', 'ok', `system time zone ${system} (no device: nothing to compare with)`);
  const now = parts.now();
  // Compare offsets now and half a year on, so zones that differ only in daylight saving are told apart.
  const offsets = (tz: string) => [now, now + 182 * DAY].map((t) => DateTime.fromMillis(t, { zone: tz }).offset);
  const [a, b] = [offsets(deviceTz), offsets(system)];
  if (a.every((o, i) => o === b[i])) return result('time zone', 'ok', `participant's zone ${deviceTz} (device.json); the system's ${system} keeps the same hours`);
  return result('time zone', 'warn', `participant's zone ${deviceTz} (device.json) differs from the system's ${system}: sessions follow device.json, but the system log and journal read in another zone`,
    `set the system zone to match: \`sudo timedatectl set-timezone ${deviceTz}\``);
}
