import type { Command } from 'commander';
import { deviceSchedule, scheduleRows } from '../../../study-protocol/index.js';

/** `hearth schedule`: the device's session instances with local and UTC windows and statuses. */
export function register(program: Command): void {
  program
    .command('schedule')
    .description("list the device's session instances (local and UTC windows, status and reason)")
    .requiredOption('--device-dir <dir>', 'provisioned device folder')
    .option('--json', 'print a JSON array (id, study_day, window_start_local, window_start_utc, status, …)')
    .action((o: { deviceDir: string; json?: boolean }) => {
      const { config, instances } = deviceSchedule(o.deviceDir);
      const rows = scheduleRows(instances);
      if (o.json) {
        console.log(JSON.stringify(rows));
        return;
      }
      console.log(`${config.participantId} on ${config.deviceId}, ${config.tz}, start ${config.startDate}`);
      for (const r of rows) {
        console.log(`${String(r.id).padEnd(16)} day ${String(r.study_day).padStart(2)}  ${r.window_start_local} → ${String(r.window_end_local).slice(11, 16)}  ${String(r.template).padEnd(14)} ${r.status}${r.status_reason ? ` (${r.status_reason})` : ''}`);
      }
    });
}
