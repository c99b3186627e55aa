import { existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import { openForAnalysis, readReportData } from '../../../data/index.js';
import { BUNDLED_PROTOCOL, loadProtocol, writeFileAtomic } from '../../../study-protocol/index.js';
import { buildReportModel, MOOD_INSTRUMENT, OUTCOME_INSTRUMENT } from '../../report/model.js';
import { renderReport } from '../../report/render.js';
import { UsageError } from '../errors.js';

/** `hearth report`: one self-contained HTML page of a device or study database (adherence, affect, mood, the primary comparison, safeguards, completeness). */
export function register(program: Command): void {
  program
    .command('report')
    .description('write one self-contained HTML report of a device or study database (no network needed to view it)')
    .requiredOption('--db <file>', 'device database (hearth.sqlite) or study database (hearth collect --into)')
    .requiredOption('--out <file>', 'HTML file to write')
    .option('--force', 'replace --out if it exists')
    .option('--protocol <file>', 'the study protocol that scores the answers (default: the bundled example study)')
    .action(async (o: { db: string; out: string; force?: boolean; protocol?: string }) => {
      const out = resolve(o.out);
      if (existsSync(out)) {
        if (statSync(out).isDirectory()) throw new UsageError(`${out}: is a directory; --out takes the HTML file to write`);
        if (!o.force) throw new UsageError(`${out}: already exists; pass --force to replace it`);
      }
      if (!existsSync(dirname(out))) throw new UsageError(`${out}: the folder ${dirname(out)} does not exist`);
      const loaded = loadProtocol(o.protocol ?? BUNDLED_PROTOCOL);
      const source = openForAnalysis(o.db);
      let html: string;
      let summary: string;
      try {
        const data = await readReportData(source, [MOOD_INSTRUMENT, OUTCOME_INSTRUMENT]);
        const model = buildReportModel(data, loaded);
        html = renderReport(model);
        const drawn = (['adherence', 'durations', 'affect', 'mood', 'empathy', 'safeguards', 'incidents', 'completeness'] as const)
          .filter((k) => model[k].empty === null);
        summary = `${model.meta.participants} participant(s), ${model.adherence.data.cells.length} participant-day(s); charts: ${drawn.join(', ') || 'none'} ` +
          `(${8 - drawn.length} with no data)${model.meta.warnings.length ? `; ${model.meta.warnings.length} warning(s) in the report` : ''}`;
      } finally {
        source.close();
      }
      writeAtomically(out, html);
      console.log(`wrote ${out} (${Math.round(Buffer.byteLength(html) / 1024)} KB): ${summary}`);
    });
}

/** Write the report whole (writeFileAtomic): a reader never sees half a report. */
function writeAtomically(file: string, text: string): void {
  try {
    writeFileAtomic(file, text);
  } catch (cause) {
    throw new UsageError(`${file}: cannot write the report (${(cause as Error).message})`, { cause });
  }
}
