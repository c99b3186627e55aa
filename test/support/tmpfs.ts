/**
 * A real small file system for full-disk tests: a tmpfs of a few MiB mounted on a temp folder (needs
 * root and the mount syscall, as in this container and on a Pi as root), and a filler file to take
 * its free space down to what a test asks for.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, statfsSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A mounted tmpfs; `unmount()` removes it and its folder. */
export interface SmallDisk {
  dir: string;
  /** Bytes free now. */
  free(): number;
  /** Fill the disk with a filler file until about `leaveBytes` are free (never less than the file system allows). */
  fill(leaveBytes: number): void;
  /** Delete the filler. */
  unfill(): void;
  unmount(): void;
}

/** Why a tmpfs cannot be mounted here, or null when it can (probed once by mounting a 64 KiB one). */
export const tmpfsUnavailable: string | null = (() => {
  if (process.platform !== 'linux') return 'not Linux';
  if (process.getuid?.() !== 0) return 'not root';
  const dir = mkdtempSync(join(tmpdir(), 'hearth-tmpfs-probe-'));
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir], { encoding: 'utf8' });
  if (r.status === 0) spawnSync('umount', [dir]);
  rmSync(dir, { recursive: true, force: true });
  return r.status === 0 ? null : `mount -t tmpfs failed: ${(r.stderr || r.error?.message || '').trim()}`;
})();

/** Mount a tmpfs of `bytes` (rounded up to pages) on a new temp folder. */
export function mountSmallDisk(bytes: number): SmallDisk {
  const dir = mkdtempSync(join(tmpdir(), 'hearth-small-disk-'));
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${bytes}`, 'tmpfs', dir], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`mount -t tmpfs -o size=${bytes} on ${dir} failed: ${r.stderr.trim()}`);
  const filler = join(dir, '.filler');
  const free = () => {
    const s = statfsSync(dir);
    return Number(s.bavail) * Number(s.bsize);
  };
  return {
    dir,
    free,
    fill(leaveBytes) {
      const fd = openSync(filler, 'a');
      const chunk = Buffer.alloc(4096);
      try {
        while (free() > leaveBytes) writeSync(fd, chunk, 0, Math.min(chunk.length, free() - leaveBytes));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
      } finally {
        closeSync(fd);
      }
    },
    unfill: () => rmSync(filler, { force: true }),
    unmount() {
      spawnSync('umount', ['-l', dir]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
