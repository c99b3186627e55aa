import type { Command } from 'commander';
import { existsSync, statSync } from 'node:fs';
import { openForAnalysis, SCHEMA_VERSION, SqliteStore, StoreError } from '../../../data/index.js';
import { LlmClient, resolveLlmSettings } from '../../../behaviors/index.js';
import { openAiModels } from '../../../hardware/index.js';
import type { Clock } from '../../clock.js';
import { simulate } from '../../simulate.js';
import { positiveInt, UsageError } from '../errors.js';
import { hearthVersion } from '../version.js';

/** `hearth simulate`: scripted participants through a month of daily sessions on a simulated clock. */
export function register(program: Command): void {
  program
    .command('simulate')
    .description('run simulated participants through daily sessions on a simulated clock, into a SQLite file')
    .option('--participants <n>', 'number of participants', positiveInt('--participants', 1, 1000), 3)
    .option('--days <n>', 'study days per participant', positiveInt('--days', 1, 366), 30)
    .option('--seed <n>', 'random seed (same seed, same data)', positiveInt('--seed', 0), 1)
    .option('--start <date>', 'first study day, YYYY-MM-DD', '2026-12-01')
    .option('--protocol <file>', 'study protocol (default: the bundled example study)')
    .requiredOption('--db <file>', 'SQLite file to write (created if absent)')
    .option('--json', 'print one JSON line per participant')
    .action(async (o: { participants: number; days: number; seed: number; start: string; protocol?: string; db: string; json?: boolean }) => {
      if (!/^\d{4}-\d{2}-\d{2}$/.test(o.start) || Number.isNaN(Date.parse(o.start))) throw new UsageError(`option --start: expected YYYY-MM-DD, got "${o.start}"`);
      refuseRealDeviceFile(o.db);
      const t0 = performance.now();
      const llmSettings = resolveLlmSettings(process.env, {});
      const summaries = await simulate({
        participants: o.participants, days: o.days, seed: o.seed, dbFile: o.db, startDate: o.start, hearthVersion: hearthVersion(),
        protocolFile: o.protocol,
        // One client per participant, on that participant's simulated clock: one participant's failures
        // do not open the circuit for the others, and its cool-down runs in simulated time as on a device.
        ...(llmSettings.ok ? { llmFor: (clock: Clock) => new LlmClient(openAiModels(llmSettings.settings), { now: () => clock.now() }) } : {}),
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

/** Devices `hearth simulate` makes (`sim-device-NNN`, see `runtime/simulate.ts`); any other device in a file is a real one. */
const SIMULATED_DEVICE = /^sim-device-\d+$/;

/**
 * Simulate only into a new file, an empty one, or one holding nothing but simulated devices: a real
 * device's database (a participant's words, their schedule) must never get simulated participants
 * beside its own, which analysis and export could not tell apart afterwards.
 */
function refuseRealDeviceFile(file: string): void {
  if (!existsSync(file) || statSync(file).size === 0) return;
  // Read-only: refuses a file that is not SQLite, or from a newer Hearth, before anything is written.
  const probe = SqliteStore.open(file, { create: false, readonly: true });
  let version: number;
  let participants: number;
  try {
    version = probe.stats.schemaVersion;
    participants = version === SCHEMA_VERSION ? probe.stats.counts().participants : -1;
  } finally {
    probe.close();
  }
  if (version === 0 || participants === 0) return;
  // An older Hearth file is refused by openForAnalysis (it cannot be checked without upgrading it).
  const source = openForAnalysis(file);
  try {
    const real = source.deviceIds.filter((d) => !SIMULATED_DEVICE.test(d));
    if (real.length > 0) {
      throw new StoreError(
        `${source.path}: holds the data of ${real.length === 1 ? 'a real device' : `${real.length} real devices`} (${real.slice(0, 3).join(', ')}${real.length > 3 ? ', …' : ''}), ` +
          'not a simulation; hearth simulate never adds simulated participants to it — pass a new file with --db (the file was not modified)',
      );
    }
  } finally {
    source.close();
  }
}
