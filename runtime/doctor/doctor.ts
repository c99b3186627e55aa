/**
 * `hearth doctor`: every check a device needs before staff leave it in a home, in a fixed order.
 * Audio checks run one after the other (the speaker check listens on the microphone). Each part that
 * touches the machine can be replaced, so tests drive the checks against real and made-up parts alike.
 */
import { resolve } from 'node:path';
import { lpcmRecorder, defaultPlayer, microphoneCheck, speakerCheck, type AudioParts } from './audio.js';
import { cameraCheck, DEFAULT_CAMERA } from './camera.js';
import { guarded, reportOf, result, type CheckResult, type DoctorReport } from './check.js';
import { consentCheck, databaseCheck, loggingFacts, openDeviceFacts, protocolCheck, type DeviceFacts } from './device.js';
import { modelFilesCheck, sentenceEncoderCheck, type ModelParts } from './models.js';
import { alertWebhookCheck, studyServerCheck, uplinkBacklogCheck, type NetworkParts } from './network.js';
import { clockCheck, diskCheck, systemParts, timeZoneCheck, type SystemParts } from './system.js';

/** No clock reading before this is believable (Hearth did not exist). */
const EARLIEST_BELIEVABLE = Date.parse('2025-01-01T00:00:00Z');

/** What to check and with which parts. */
export interface DoctorOptions {
  /** A device folder made by `hearth provision`; without it the device checks are skipped. */
  deviceDir?: string;
  /** ALSA/PulseAudio capture device, as `--microphone` takes it (default: ALSA default). */
  microphone?: string;
  /** Camera source, as `--camera` takes it (default /dev/video0). */
  camera?: string;
  /** Replace the microphone and speaker (default: LpcmMicrophone and paplay/aplay). */
  audio?: AudioParts;
  system?: Partial<SystemParts>;
  network?: Partial<NetworkParts>;
  models?: ModelParts;
}

/** Run every check and return the report (never throws for a failing check). */
export async function runDoctor(o: DoctorOptions = {}): Promise<DoctorReport> {
  const sys: SystemParts = { ...systemParts, ...o.system };
  const net: NetworkParts = { fetch: globalThis.fetch, env: process.env, timeoutMs: 5000, ...o.network };
  const device: DeviceFacts | null = o.deviceDir ? openDeviceFacts(o.deviceDir) : null;
  const hw = device?.config?.hardware;
  const checks: CheckResult[] = [];
  const run = async (name: string, f: () => Promise<CheckResult | CheckResult[]> | CheckResult | CheckResult[]) => { checks.push(...(await guarded(name, f))); };
  try {
    const usesMic = hw?.microphone !== false || o.microphone !== undefined;
    const audio = o.audio ?? await (async () => {
      const mic = lpcmRecorder(o.microphone || undefined);
      const player = await defaultPlayer();
      return { record: mic.record, microphoneName: mic.name, play: player.play, playerName: player.name };
    })();
    await run('microphone', () => (usesMic ? microphoneCheck(audio) : result('microphone', 'skip', 'the study does not use the microphone (protocol device.microphone: false)')));
    const micWorks = checks.at(-1)?.status === 'ok' || checks.at(-1)?.status === 'warn';
    await run('speaker', () => speakerCheck(audio, { listen: usesMic && micWorks }));
    await run('camera', () => (hw?.camera === false && o.camera === undefined
      ? result('camera', 'skip', 'the study does not use the camera (protocol device.camera: false)')
      : cameraCheck({ source: o.camera ?? DEFAULT_CAMERA, ...(o.models?.modelsDir ? { modelsDir: o.models.modelsDir } : {}) })));
    await run('model files', () => modelFilesCheck(o.models));
    await run('sentence encoder', () => sentenceEncoderCheck(o.models));
    await run('disk', () => diskCheck(sys, device?.dir ?? process.cwd(), device ? loggingFacts(device, sys.now()) : null));
    const provisioned = device?.config ? Date.parse(device.config.provisionedTsUtc) : NaN;
    await run('clock', () => clockCheck(sys, Number.isFinite(provisioned) ? Math.max(provisioned, EARLIEST_BELIEVABLE) : EARLIEST_BELIEVABLE));
    await run('time zone', () => timeZoneCheck(sys, device?.config?.tz ?? null));
    if (device) {
      await run('database', () => databaseCheck(device));
      await run('protocol', () => protocolCheck(device));
      await run('consent', () => consentCheck(device));
    } else {
      for (const name of ['database', 'protocol', 'consent']) checks.push(result(name, 'skip', 'no --device-dir: run `hearth doctor --device-dir DIR` to check a provisioned device'));
    }
    await run('alert webhook', () => alertWebhookCheck(device, net));
    const reach = await studyServerCheck(device, net);
    checks.push(reach.check);
    await run('uplink backlog', () => uplinkBacklogCheck(device, reach));
  } finally {
    device?.close();
  }
  return reportOf(o.deviceDir ? resolve(o.deviceDir) : null, checks);
}
