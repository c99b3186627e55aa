import type { Command } from 'commander';
import { LlmClient, resolveLlmSettings } from '../../../behaviors/index.js';
import { openAiModels } from '../../../hardware/index.js';
import { simulate } from '../../simulate.js';
import { positiveInt, UsageError } from '../errors.js';
import { hearthVersion } from '../version.js';

/** `hearth simulate`: scripted participants through a month of daily sessions on a simulated clock. */
export function register(program: Command): void {
  program
    .command('simulate')
    .description('run simulated participants through daily sessions on a simulated clock, into a SQLite file')
    .option('--participants <n>', 'number of participants', positiveInt('--participants'), 3)
    .option('--days <n>', 'study days per participant', positiveInt('--days'), 30)
    .option('--seed <n>', 'random seed (same seed, same data)', positiveInt('--seed', 0), 1)
    .option('--start <date>', 'first study day, YYYY-MM-DD', '2026-12-01')
    .option('--protocol <file>', 'study protocol (default: the bundled example study)')
    .requiredOption('--db <file>', 'SQLite file to write (created if absent)')
    .option('--json', 'print one JSON line per participant')
    .action(async (o: { participants: number; days: number; seed: number; start: string; protocol?: string; db: string; json?: boolean }) => {
      if (!/^\d{4}-\d{2}-\d{2}$/.test(o.start) || Number.isNaN(Date.parse(o.start))) throw new UsageError(`option --start: expected YYYY-MM-DD, got "${o.start}"`);
      const t0 = performance.now();
      const llmSettings = resolveLlmSettings(process.env, {});
      const summaries = await simulate({
        participants: o.participants, days: o.days, seed: o.seed, dbFile: o.db, startDate: o.start, hearthVersion: hearthVersion(),
        protocolFile: o.protocol, llm: llmSettings.ok ? new LlmClient(openAiModels(llmSettings.settings)) : undefined,
        onParticipant: (s) => {
          if (o.json) console.log(JSON.stringify(s));
          else console.log(`${s.participantId} (${s.tz}, ${s.condition}): days ${Object.entries(s.instances).map(([k, v]) => `${v} ${k}`).join(', ')}; sessions ${Object.entries(s.sessions).map(([k, v]) => `${v} ${k}`).join(', ')}; ${s.turns} turns, ${s.responses} answers`);
        },
      });
      const seconds = (performance.now() - t0) / 1000;
      const line = { participants: summaries.length, days: o.days, seed: o.seed, db: o.db, seconds: Number(seconds.toFixed(2)) };
      console.log(o.json ? JSON.stringify(line) : `simulated ${line.participants} participants x ${line.days} days into ${o.db} in ${line.seconds} s`);
    });
}
