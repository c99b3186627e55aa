import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { packageRoot } from '../../../data/index.js';
import {
  checkHeartbeat, heartbeatPath, nextSteps, renderUnits, systemdRunning, systemHeartbeatEffects, validUnitName, validUserName, writeUnits,
  type HeartbeatEffects,
} from '../../service/index.js';
import { positiveInt, UsageError } from '../errors.js';

/** The default systemd unit folder; systemctl is run only for units written here. */
export const SYSTEM_UNIT_DIR = '/etc/systemd/system';

/** The effects the service commands use; tests replace them (this machine runs no systemd). */
export interface ServiceParts {
  node?: string;
  bin?: string;
  systemdRunning?: () => boolean;
  /** Run `systemctl ARGS`; resolves with whether it succeeded and what it printed. */
  systemctl?: (args: string[]) => Promise<{ ok: boolean; output: string }>;
  heartbeat?: Pick<HeartbeatEffects, 'monotonicMs' | 'bootId' | 'read'>;
  /** The folder systemd reads units from (default /etc/systemd/system). */
  systemUnitDir?: string;
}

const realSystemctl = (args: string[]) => new Promise<{ ok: boolean; output: string }>((done) =>
  execFile('systemctl', args, { timeout: 60_000 }, (error, out, err) => done({ ok: !error, output: `${String(out)}${String(err)}`.trim() || (error?.message ?? '') })));

/** `hearth install-service` and `hearth service-check`: run a device as a systemd service, watched by a heartbeat. */
export function register(program: Command, parts: ServiceParts = {}): void {
  program
    .command('install-service')
    .description('write systemd units that run `hearth run --device-dir DIR` at boot, restart it when it stops or hangs, and log to the journal')
    .requiredOption('--device-dir <dir>', 'device folder made by hearth provision')
    .option('--user <user>', 'account the runtime runs as (recommended; default root); it must own the device folder')
    .option('--unit-dir <dir>', 'where the unit files go', parts.systemUnitDir ?? SYSTEM_UNIT_DIR)
    .option('--name <name>', 'unit name', 'hearth')
    .option('--max-age <seconds>', 'heartbeat age at which the watchdog restarts the runtime', positiveInt('--max-age', 60), 120)
    .option('--force', 'replace unit files that exist with other content')
    .option('--dry-run', 'print the unit files; write nothing')
    .action(async (o: { deviceDir: string; user?: string; unitDir: string; name: string; maxAge: number; force?: boolean; dryRun?: boolean }) => {
      const deviceDir = resolve(o.deviceDir);
      if (!existsSync(join(deviceDir, 'device.json'))) throw new UsageError(`${deviceDir} is not a provisioned device folder (no device.json; run hearth provision first)`);
      if (o.user !== undefined && !validUserName(o.user)) throw new UsageError(`option --user: "${o.user}" is not an account name`);
      if (!validUnitName(o.name)) throw new UsageError(`option --name: "${o.name}" is not a unit name (letters, digits, _ . @ -; without .service)`);
      let units;
      try {
        units = renderUnits({
          name: o.name, deviceDir, ...(o.user ? { user: o.user } : {}), maxAgeSec: o.maxAge, restartSec: 10,
          node: parts.node ?? process.execPath, bin: parts.bin ?? join(packageRoot(), 'bin', 'hearth.js'),
        });
      } catch (e) {
        throw new UsageError(`option --device-dir: ${(e as Error).message}`);
      }
      const unitDir = resolve(o.unitDir);
      const steps = nextSteps(units[0]!.file);
      if (o.dryRun) {
        for (const u of units) console.log(`# ${join(unitDir, u.file)}\n${u.text}`);
        console.log(`# dry run: nothing written. Then: ${steps.map((s) => `systemctl ${s.join(' ')}`).join(' && ')}`);
        return;
      }
      for (const w of writeUnits(units, unitDir, { force: o.force })) console.log(`${w.action} ${w.path}`);
      if (!o.user) console.log('note: the runtime runs as root; prefer --user with the account that owns the device folder');
      const systemDir = unitDir === resolve(parts.systemUnitDir ?? SYSTEM_UNIT_DIR);
      const live = systemDir && (parts.systemdRunning ?? systemdRunning)();
      if (!live) {
        console.log(`systemd ${systemDir ? 'is not running here' : `does not read ${unitDir}`}; to start it where it does:`);
        for (const s of steps) console.log(`  systemctl ${s.join(' ')}`);
      } else {
        const systemctl = parts.systemctl ?? realSystemctl;
        for (const s of steps) {
          const r = await systemctl(s);
          console.log(`systemctl ${s.join(' ')}: ${r.ok ? 'ok' : `failed: ${r.output}`}`);
          if (!r.ok) {
            process.exitCode = 1;
            return;
          }
        }
      }
      console.log(`check it: systemctl status ${units[0]!.file}; journalctl -u ${units[0]!.file} -f; hearth service-check --device-dir ${JSON.stringify(deviceDir)}`);
    });

  program
    .command('service-check')
    .description("is `hearth run` alive on this device folder? Exit 1 when its heartbeat is missing or older than --max-age")
    .requiredOption('--device-dir <dir>', 'device folder made by hearth provision')
    .option('--max-age <seconds>', 'oldest acceptable heartbeat', positiveInt('--max-age', 1), 120)
    .option('--restart <unit>', 'when the check fails, restart this systemd unit (systemctl restart --no-block)')
    .action(async (o: { deviceDir: string; maxAge: number; restart?: string }) => {
      const check = checkHeartbeat(heartbeatPath(resolve(o.deviceDir)), o.maxAge, parts.heartbeat ?? systemHeartbeatEffects());
      console.log(check.line);
      if (check.ok) return;
      process.exitCode = 1;
      if (o.restart) {
        const r = await (parts.systemctl ?? realSystemctl)(['restart', '--no-block', o.restart]);
        console.log(r.ok ? `restarting ${o.restart}` : `could not restart ${o.restart}: ${r.output}`);
      }
    });
}
