import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { tryExclusiveFileLock, type HeldFileLock } from '../data/index.js';

/** The lock file in a device folder (an empty SQLite file the holder keeps exclusively locked). */
export const LOCK_FILE = 'hearth.lock';
/** Who holds the lock: written by the holder after it has the lock, for the refusal message only. */
export const LOCK_HOLDER_FILE = 'hearth.lock.json';

/** Who holds a device folder's lock, as its holder wrote it. */
export interface LockHolder {
  pid: number;
  command: string;
  sinceUtc: string;
}

/** The device folder is held by another process: one line naming the folder and the holder; exit 2. */
export class DeviceBusyError extends Error {
  override readonly name = 'DeviceBusyError';
  readonly exitCode = 2;
  constructor(message: string, readonly holder: LockHolder | null) {
    super(message);
  }
}

/** An exclusive hold on a device folder, for a runtime (`talk`, `run`) or a command that must run alone (`withdraw`). */
export interface DeviceLock {
  readonly dir: string;
  release(): void;
}

/**
 * Take the device folder's exclusive lock for `command`, or throw `DeviceBusyError` naming the folder
 * and the process holding it. The lock is an OS lock (see `tryExclusiveFileLock`): it ends with the
 * process however that ends, so after `kill -9` or a power cut the next start simply takes it; the
 * pid in `hearth.lock.json` is only ever shown, never trusted. `busyHint` finishes the refusal line;
 * a missing folder is made only with `create` (a demo set-up), else refused.
 */
export function lockDevice(deviceDir: string, command: string, o: { create?: boolean; busyHint?: string } = {}): DeviceLock {
  const dir = resolve(deviceDir);
  const kind = kindOf(dir);
  if (kind === 'file') throw new DeviceBusyError(`${dir} exists and is not a folder`, null);
  if (kind === 'absent') {
    if (!o.create) throw new DeviceBusyError(`${dir}: no such device folder (make one with hearth provision --device-dir ${deviceDir} …)`, null);
    mkdirSync(dir, { recursive: true });
  }
  const held: HeldFileLock | null = tryExclusiveFileLock(join(dir, LOCK_FILE));
  if (!held) {
    const holder = readHolder(dir);
    const who = holder ? `hearth ${holder.command} (pid ${holder.pid}, since ${holder.sinceUtc})` : 'another process';
    throw new DeviceBusyError(`${dir} is in use by ${who}; ${o.busyHint ?? 'only one Hearth runtime may use a device folder at a time'}`, holder);
  }
  const holderFile = join(dir, LOCK_HOLDER_FILE);
  const me: LockHolder = { pid: process.pid, command, sinceUtc: new Date().toISOString() };
  try {
    writeFileSync(holderFile, `${JSON.stringify(me)}\n`);
  } catch {
    // Only ever shown in a refusal: on a full disk the lock holds without it, and the runtime goes on to
    // meet the full disk where it can say so (a DiskFullError naming the database, exit 2).
    rmSync(holderFile, { force: true });
  }
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    process.off('exit', release);
    // Only the holder ever writes this file, and it still holds the lock here.
    rmSync(holderFile, { force: true });
    held.release();
  };
  process.on('exit', release);
  return { dir, release };
}

/**
 * `lockDevice` for commands that only use an existing device (`run`, `withdraw`): null, and no lock file
 * made, when the folder has neither `device.json` nor a lock (it is no device; the command refuses it).
 */
export function lockExistingDevice(deviceDir: string, command: string, o: { busyHint?: string } = {}): DeviceLock | null {
  const dir = resolve(deviceDir);
  if (!existsSync(join(dir, 'device.json')) && !existsSync(join(dir, LOCK_FILE))) return null;
  return lockDevice(dir, command, o);
}

function readHolder(dir: string): LockHolder | null {
  try {
    const h = JSON.parse(readFileSync(join(dir, LOCK_HOLDER_FILE), 'utf8')) as Partial<LockHolder>;
    return Number.isInteger(h.pid) && typeof h.command === 'string' && typeof h.sinceUtc === 'string' ? (h as LockHolder) : null;
  } catch {
    // The holder may be between taking the lock and writing the file.
    return null;
  }
}

function kindOf(path: string): 'folder' | 'file' | 'absent' {
  try {
    return statSync(path).isDirectory() ? 'folder' : 'file';
  } catch {
    return 'absent';
  }
}
