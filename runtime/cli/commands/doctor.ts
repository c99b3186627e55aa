import type { Command } from 'commander';
import { formatReport, runDoctor, type DoctorOptions } from '../../doctor/index.js';

/** `hearth doctor`: is this machine (and device folder) ready to be left in a home? Exit 1 when a check fails. */
export function register(program: Command, parts: Omit<DoctorOptions, 'deviceDir' | 'microphone' | 'camera'> = {}): void {
  program
    .command('doctor')
    .description('check microphone, speaker, camera, models, disk, clock and, with --device-dir, the database, protocol, consent, alerts and study server')
    .option('--device-dir <dir>', 'a device folder made by hearth provision (without it, only the machine is checked)')
    .option('--microphone <device>', 'capture device to record from, as hearth run takes it (default: the ALSA default)')
    .option('--camera <source>', 'camera to grab a frame from: /dev/video0 (default), a video or image file, or a stream')
    .option('--json', 'print one JSON object with every check')
    .action(async (o: { deviceDir?: string; microphone?: string; camera?: string; json?: boolean }) => {
      const report = await runDoctor({ ...parts, ...(o.deviceDir ? { deviceDir: o.deviceDir } : {}), ...(o.microphone ? { microphone: o.microphone } : {}), ...(o.camera ? { camera: o.camera } : {}) });
      if (o.json) console.log(JSON.stringify(report));
      else for (const line of formatReport(report)) console.log(line);
      if (!report.passed) process.exitCode = 1;
    });
}
