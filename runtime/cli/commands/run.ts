import type { Command } from 'commander';
import { lockExistingDevice } from '../../device-lock.js';
import { runDevice } from '../../live.js';
import { withServiceHeartbeat } from '../../service/index.js';
import { hardwareOptions, liveOptions, type HardwareFlags } from './device-options.js';

/** `hearth run`: the device runtime, following the study's schedule until stopped. */
export function register(program: Command): void {
  hardwareOptions(
    program
      .command('run')
      .description("run the device: follow the study's schedule and invite the participant inside each window (Ctrl-C stops)")
      .requiredOption('--device-dir <dir>', 'device folder made by hearth provision'),
  ).action(async (o: HardwareFlags) => {
    // Held until the runtime stops: a second `run`, a `talk` or a `withdraw` on this folder is refused meanwhile.
    // An unprovisioned folder gets no lock file: runDevice refuses it before writing anything.
    const lock = lockExistingDevice(o.deviceDir, 'run');
    try {
      // The service heartbeat a systemd timer checks (runtime/service/README.md).
      await withServiceHeartbeat(o.deviceDir, () => runDevice({ ...liveOptions(o), participantId: 'P01', tz: 'UTC', requireProvisioned: true }));
    } finally {
      lock?.release();
    }
  });
}
