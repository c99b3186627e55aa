/**
 * Writing the units into a unit folder, and what to tell systemd afterwards. Nothing here needs
 * systemd to be running: `systemctl` is an injected effect, used only where systemd answers.
 */
import { existsSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { UnitFile } from './unit.js';

/** A problem with how the units were asked for (exit code 2 on the command line). */
export class ServiceError extends Error {
  override readonly name = 'ServiceError';
  readonly exitCode = 2;
}

/** What happened to one unit file. */
export interface UnitWrite {
  path: string;
  action: 'written' | 'unchanged' | 'replaced';
}

/**
 * Write `units` into `unitDir`. A file already there with other content is refused (nothing is
 * written, the message names it) unless `force`; the same content is left alone. Each file is
 * written beside itself and renamed into place, so systemd never reads half a unit.
 */
export function writeUnits(units: UnitFile[], unitDir: string, o: { force?: boolean } = {}): UnitWrite[] {
  if (!existsSync(unitDir) || !statSync(unitDir).isDirectory()) throw new ServiceError(`unit folder ${unitDir} does not exist (give --unit-dir an existing folder)`);
  const plan = units.map((u): { unit: UnitFile; write: UnitWrite } => {
    const path = join(unitDir, u.file);
    if (!existsSync(path)) return { unit: u, write: { path, action: 'written' } };
    const current = readFileSync(path, 'utf8');
    if (current === u.text) return { unit: u, write: { path, action: 'unchanged' } };
    if (!o.force) throw new ServiceError(`${path} already exists with other content; not overwritten (compare with --dry-run, then add --force to replace it)`);
    return { unit: u, write: { path, action: 'replaced' } };
  });
  for (const { unit, write } of plan) {
    if (write.action === 'unchanged') continue;
    const tmp = `${write.path}.hearth-tmp`;
    try {
      writeFileSync(tmp, unit.text, { mode: 0o644 });
      renameSync(tmp, write.path);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      const why = code === 'EACCES' || code === 'EPERM' ? 'permission denied (run it as root, e.g. with sudo)' : (e as Error).message;
      throw new ServiceError(`cannot write ${write.path}: ${why}`, { cause: e });
    }
  }
  return plan.map((p) => p.write);
}

/** The systemctl commands that put the written units to work, in order. */
export function nextSteps(serviceFile: string): string[][] {
  return [['daemon-reload'], ['enable', '--now', serviceFile]];
}

/** True when systemd is the running init (its own test, as sd_booted(3) does it). */
export function systemdRunning(): boolean {
  return existsSync('/run/systemd/system');
}
