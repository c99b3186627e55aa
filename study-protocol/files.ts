/** Reading the files staff point commands at: only regular files, so a FIFO or a device never hangs a command. */
import { chmodSync, closeSync, constants, fsyncSync, fstatSync, openSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, type Stats } from 'node:fs';

function kindOf(st: Stats): string {
  if (st.isFIFO()) return 'a named pipe (FIFO)';
  if (st.isDirectory()) return 'a folder';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

/** Why `file` is not a regular file (`"is a named pipe (FIFO), not a regular file"`), or undefined when it is one or cannot be examined. */
export function notRegularFile(file: string): string | undefined {
  let st: Stats;
  try {
    st = statSync(file);
  } catch {
    return undefined; // the reader reports a missing or unreadable file in its own words
  }
  return st.isFile() ? undefined : `is ${kindOf(st)}, not a regular file`;
}

/**
 * Read a regular file as UTF-8. It is opened without blocking and checked on the open descriptor, so
 * a FIFO (even one swapped in after a check) is refused instead of waiting for a writer. Throws
 * `Error` with code `ENOTREG` and a message naming what the file is; other errors are fs errors.
 */
export function readRegularFile(file: string): string {
  const fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw Object.assign(new Error(`is ${kindOf(st)}, not a regular file`), { code: 'ENOTREG' });
    return readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
}

/**
 * Write `text` whole to a temporary file beside `file` and rename it into place, so a reader or a
 * power cut sees the old file or the new one, never half of one; on failure the temporary is removed. With `mode`, the file gets exactly
 * that mode (writeFileSync's mode applies only when it creates the file).
 */
export function writeFileAtomic(file: string, text: string, mode?: number): void {
  const tmp = `${file}.tmp-${process.pid}`;
  try {
    const fd = openSync(tmp, 'w', mode ?? 0o666);
    try {
      writeFileSync(fd, text);
      // The new bytes reach the disk before the name does: after a power cut the file is old or new, never empty.
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    if (mode !== undefined) chmodSync(tmp, mode);
    renameSync(tmp, file);
  } catch (e) {
    // A full disk or a read-only folder: the old file stays as it was, and no temporary is left behind.
    rmSync(tmp, { force: true });
    throw e;
  }
}
