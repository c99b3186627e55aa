import type { Command } from 'commander';
import { checkProtocol, formatProblem, ProtocolError, readRegularFile, StudyError } from '../../../study-protocol/index.js';

/** `hearth study validate FILE`: every problem of a protocol file with file:line:column, path and hint; exit 2 on error. */
export function register(program: Command): void {
  const study = program.command('study').description('study protocol files');
  study
    .command('validate')
    .description('check a study protocol file and report every problem (file:line:column path: message (hint))')
    .argument('<file>', 'protocol YAML file')
    .option('--json', 'print the problems as a JSON array')
    .action((file: string, o: { json?: boolean }) => {
      let source: string;
      try {
        source = readRegularFile(file);
      } catch (cause) {
        throw new ProtocolError([{ file, line: 0, column: 0, path: '', message: (cause as NodeJS.ErrnoException).code === 'ENOTREG' ? `the file ${(cause as Error).message}` : `cannot read the file (${(cause as NodeJS.ErrnoException).code ?? (cause as Error).message})`, hint: 'check the path' }], { cause });
      }
      const problems = checkProtocol(source, file);
      if (o.json) console.log(JSON.stringify(problems));
      if (problems.length > 0) {
        if (!o.json) for (const p of problems) console.log(formatProblem(p));
        // The problems are on stdout; the error line (stderr, exit 2) only counts them.
        throw new StudyError(`${file}: ${problems.length} problem${problems.length === 1 ? '' : 's'} found`);
      }
      if (!o.json) console.log(`${file}: valid`);
    });
}
