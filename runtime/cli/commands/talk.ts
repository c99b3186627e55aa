import type { Command } from 'commander';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { lockDevice } from '../../device-lock.js';
import { runLive } from '../../live.js';
import { UsageError } from '../errors.js';
import { hardwareOptions, liveOptions, type HardwareFlags } from './device-options.js';

/** `hearth talk`: the companion in the terminal on simulator hardware. */
export function register(program: Command): void {
  hardwareOptions(
    program
      .command('talk')
      .description('talk with the companion in this terminal (simulator hardware): one session, then exit')
      .option('--device-dir <dir>', 'device folder (made by hearth provision; a demo participant is set up when empty)', 'hearth-data')
      .option('--participant <id>', 'demo participant id, when the device folder is not provisioned yet', 'P01')
      .option('--tz <zone>', 'demo participant time zone (IANA), when the device folder is not provisioned yet', Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC')
      .option('--protocol <file>', 'study protocol for the demo participant (default: the bundled example study)'),
  ).action(async (o: HardwareFlags & { participant: string; tz: string; protocol?: string }) => {
    // Held for the whole session, so a second `talk` or a `run` on this folder is refused, not merged into it.
    const lock = lockDevice(o.deviceDir, 'talk', { create: true });
    try {
      refuseDemoIntoUsedFolder(lock.dir, o.deviceDir);
      const result = await runLive({ ...liveOptions(o), participantId: o.participant, tz: o.tz, protocolFile: o.protocol });
      process.stderr.write(`[hearth] session ${result.sessionId ?? '-'}: ${result.status ?? 'none'}${result.reason ? ` (${result.reason})` : ''}\n`);
    } finally {
      lock.release();
    }
  });
}

/** Files a folder may hold and still get a demo participant: the lock, and the demo's own allocation registry (see `runLive`). */
const DEMO_LEFTOVERS = /^(hearth\.lock(\.json)?|demo-allocation-registry\.sqlite(-wal|-shm|-journal)?)$/;

/**
 * Without `device.json` a demo participant would be provisioned into the folder. Only do that into a
 * folder that is empty (or holds only what a demo set-up writes first): a participant's folder that
 * lost its `device.json` must not become a demo, or the demo is enrolled beside their data.
 */
function refuseDemoIntoUsedFolder(dir: string, given: string): void {
  if (existsSync(join(dir, 'device.json'))) return;
  const found = readdirSync(dir).filter((f) => !DEMO_LEFTOVERS.test(f)).sort();
  if (found.length === 0) return;
  const what = found.includes('hearth.sqlite') ? 'a database (hearth.sqlite)' : found.slice(0, 3).join(', ') + (found.length > 3 ? ` and ${found.length - 3} more` : '');
  throw new UsageError(
    `${join(dir, 'device.json')} not found, but the folder holds ${what}: a demo participant is set up only in an empty folder and a used one is never re-purposed; ` +
      `restore device.json (hearth provision --device-dir ${given} … with the participant's details), or use an empty --device-dir for a demo`,
  );
}
