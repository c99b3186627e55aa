import { Command, CommanderError } from 'commander';
import { register as collect } from './commands/collect.js';
import { register as doctor } from './commands/doctor.js';
import { register as exportCommand } from './commands/export.js';
import { register as installService } from './commands/install-service.js';
import { register as perceive } from './commands/perceive.js';
import { register as provision } from './commands/provision.js';
import { register as report } from './commands/report.js';
import { register as safeguards } from './commands/safeguards.js';
import { register as run } from './commands/run.js';
import { register as schedule } from './commands/schedule.js';
import { register as serve } from './commands/serve.js';
import { register as simulate } from './commands/simulate.js';
import { register as status } from './commands/status.js';
import { register as stories } from './commands/stories.js';
import { register as study } from './commands/study.js';
import { register as talk } from './commands/talk.js';
import { register as withdraw } from './commands/withdraw.js';
import { isUserError } from './errors.js';
import { hearthVersion } from './version.js';

/** The `hearth` command line. */
export function buildProgram(): Command {
  const program = new Command('hearth')
    .description('Hearth: an offline-first companion robot runtime and study kit')
    .version(hearthVersion())
    .option('--debug', 'print stack traces for errors')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  for (const register of [talk, run, simulate, status, study, provision, schedule, withdraw, stories, safeguards, perceive, collect, exportCommand, report, serve, doctor, installService]) register(program);
  return program;
}

/** Run the CLI: user mistakes print one line and exit 2; --debug adds the stack. */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  const debug = argv.includes('--debug');
  try {
    await program.parseAsync(argv);
    // A command that found problems (doctor, withdraw) sets process.exitCode; keep it.
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    if (isUserError(e)) {
      process.stderr.write(`hearth: ${e.message}\n`);
      if (debug) process.stderr.write(`${e.stack}\n`);
      return 2;
    }
    process.stderr.write(`hearth: unexpected error: ${e instanceof Error ? e.message : String(e)}${debug ? '' : ' (run with --debug for details)'}\n`);
    if (debug && e instanceof Error) process.stderr.write(`${e.stack}\n`);
    return 1;
  }
}

process.exitCode = await main(process.argv);
