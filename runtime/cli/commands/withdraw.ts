import type { Command } from 'commander';
import { withdrawParticipant } from '../../../study-protocol/index.js';
import { lockExistingDevice } from '../../device-lock.js';

/** `hearth withdraw`: purge a participant's rows and files from a device, keep tombstone and consent, print the scan. */
export function register(program: Command): void {
  program
    .command('withdraw')
    .description("remove a withdrawn participant's data from a device folder and show a scan proving none remains")
    .requiredOption('--device-dir <dir>', 'device folder')
    .requiredOption('--participant <id>', 'participant id (must be the device\'s participant)')
    .option('--json', 'print the report as JSON')
    .action((o: { deviceDir: string; participant: string; json?: boolean }) => {
      // Refuse rather than wait while a runtime holds the folder: `hearth run` never ends by itself, and a
      // session writing during the purge would put rows back after the scan said none remain.
      // A folder that is not a device gets no lock file; withdrawParticipant refuses it.
      const lock = lockExistingDevice(o.deviceDir, 'withdraw', {
        busyHint: 'stop the runtime first (Ctrl-C where it runs, or `systemctl stop hearth` for the service), then run hearth withdraw again',
      });
      let r: ReturnType<typeof withdrawParticipant>;
      try {
        r = withdrawParticipant({ deviceDir: o.deviceDir, participantId: o.participant, now: Date.now() });
      } finally {
        lock?.release();
      }
      if (o.json) {
        console.log(JSON.stringify(r));
      } else {
        if (r.alreadyWithdrawn) console.log(`${r.participantId} had already withdrawn; scanning only`);
        const rows = Object.entries(r.rowsPurged);
        console.log(`purged ${rows.reduce((n, [, c]) => n + c, 0)} rows (${rows.map(([t, c]) => `${t} ${c}`).join(', ') || 'none'}) and ${r.filesPurged.length} files`);
        console.log(`scan of ${r.deviceDir} for ${r.participantId} and ${r.scan.sessionIds} session ids:`);
        for (const t of r.scan.tables) console.log(`  table ${t.table.padEnd(20)} ${t.rows} rows${t.kept ? ' (kept on purpose)' : ''}`);
        for (const f of r.scan.files) console.log(`  file  ${f.file.padEnd(20)} ${f.found.join('; ')}${f.kept ? ' (kept: withdrawal record / tombstone and consent rows)' : ''}`);
        console.log(r.scan.remaining === 0
          ? `result: none of ${r.participantId}'s data remains (tombstone and consent record kept)`
          : `result: ${r.scan.remaining} rows or files still hold ${r.participantId}'s data — the withdrawal is NOT complete; ` +
            'close any other program that has the database open (a sqlite3 shell, a backup, hearth export) and run hearth withdraw again');
      }
      // The report is printed either way; a scan that still finds data is a failure, not a success.
      if (r.scan.remaining > 0) process.exitCode = 1;
    });
}
