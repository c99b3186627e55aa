import type { Command } from 'commander';
import { collectDevices, type DeviceCollected, type FileResult, type TableCounts } from '../../../data/index.js';
import { progressBar } from '../progress.js';
import { hearthVersion } from '../version.js';

/** Some files were refused: exit code 2 after the summary (each problem was printed on its own line). */
export class CollectRefusedError extends Error {
  override readonly name = 'CollectRefusedError';
  readonly exitCode = 2;
}

/** `hearth collect`: merge device databases into a study database. */
export function register(program: Command): void {
  program
    .command('collect')
    .description('merge device databases into a study database: idempotent, incremental, a withdrawal removes the participant; bad files are skipped')
    .argument('<device-db...>', 'device database files (each device folder\'s hearth.sqlite, or a copy of it)')
    .requiredOption('--into <file>', 'study database (created if absent)')
    .option('--json', 'print one JSON summary instead of text')
    .action(async (files: string[], o: { into: string; json?: boolean }) => {
      const t0 = performance.now();
      const bar = progressBar(files.length, 'files', { quiet: o.json });
      let summary;
      try {
        summary = await collectDevices({
          files, into: o.into, hearthVersion: hearthVersion(), onFile: (r) => bar.tick(r.file),
        });
      } finally {
        bar.stop();
      }
      const seconds = Number(((performance.now() - t0) / 1000).toFixed(3));
      const rows = summary.rows.added + summary.rows.updated;
      if (o.json) console.log(JSON.stringify({ ...summary, seconds, rows_per_second: seconds > 0 ? Math.round(rows / seconds) : null }));
      else {
        for (const r of summary.files) if (r.status === 'collected') console.log(fileLine(r));
        console.log(`collected ${summary.collected} of ${summary.files.length} file${summary.files.length === 1 ? '' : 's'} into ${summary.into}: ` +
          `${summary.rows.added} rows added, ${summary.rows.updated} updated, ${summary.rows.deleted} deleted, ${summary.rows.purged} purged by withdrawals, in ${seconds} s`);
      }
      const refused = summary.files.filter((r) => r.status === 'refused');
      for (const r of refused) process.stderr.write(`hearth: ${r.file}: ${r.problem} (skipped; the study database was not changed for it)\n`);
      if (refused.length > 0) {
        throw new CollectRefusedError(`${refused.length} of ${summary.files.length} file${summary.files.length === 1 ? '' : 's'} refused (listed above); ${summary.collected} collected into ${summary.into}`);
      }
    });
}

const total = (c: TableCounts) => Object.values(c).reduce((a, b) => a + b, 0);
const tables = (c: TableCounts) => Object.entries(c).map(([t, n]) => `${t} ${n}`).join(', ');

function fileLine(r: Extract<FileResult, { status: 'collected' }>): string {
  return `${r.file}: ${r.devices.map(deviceText).join('; ')}`;
}

function deviceText(d: DeviceCollected): string {
  const parts = [`device ${d.deviceId} (seq ${d.seqMin ?? '-'}–${d.seqMax ?? '-'}${d.olderCopy ? ', an older copy: nothing reverted' : ''})`];
  parts.push(`${total(d.added)} rows added${total(d.added) ? ` (${tables(d.added)})` : ''}`);
  if (total(d.updated)) parts.push(`${total(d.updated)} updated (${tables(d.updated)})`);
  if (total(d.deleted)) parts.push(`${total(d.deleted)} deleted on the device (${tables(d.deleted)})`);
  for (const p of d.purges) {
    parts.push(`withdrawal of ${p.participantId} propagated: ${total(p.rows)} rows purged, ${p.incidentsKept} incident record${p.incidentsKept === 1 ? '' : 's'} kept without their words`);
  }
  return parts.join(', ');
}
