import type { Command } from 'commander';
import { runLive } from '../../live.js';
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
    const result = await runLive({ ...liveOptions(o), participantId: o.participant, tz: o.tz, protocolFile: o.protocol });
    process.stderr.write(`[hearth] session ${result.sessionId ?? '-'}: ${result.status ?? 'none'}${result.reason ? ` (${result.reason})` : ''}\n`);
  });
}
