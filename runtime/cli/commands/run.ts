import { Option, type Command } from 'commander';
import { resolve } from 'node:path';
import { runDevice } from '../../live.js';
import { nonNegative } from '../errors.js';
import { hearthVersion } from '../version.js';

/** `hearth run`: the device runtime, following the study's schedule until stopped. */
export function register(program: Command): void {
  program
    .command('run')
    .description("run the device: follow the study's schedule and invite the participant inside each window (Ctrl-C stops)")
    .requiredOption('--device-dir <dir>', 'device folder made by hearth provision')
    .addOption(new Option('--hardware <kind>', 'sim: terminal, script or microphone; ros2: a ROS4HRI robot (needs rclnodejs)').choices(['sim', 'ros2']).default('sim'))
    .option('--voice', 'also speak with espeak-ng through the sound device')
    .option('--script <file>', 'a participant script (YAML/JSON) instead of typing')
    .option('--microphone [device]', 'listen through a microphone (voice activity + offline speech to text) instead of typing')
    .option('--camera <source>', 'watch the participant\'s face: /dev/video0, a video file or a stream; affect is logged')
    .option('--time-scale <x>', 'scale script pauses and speech time', nonNegative('--time-scale'), 1)
    .option('--reply-timeout <ms>', 'silence before the robot asks again', nonNegative('--reply-timeout'), 20_000)
    .action(async (o: { hardware: 'sim' | 'ros2'; deviceDir: string; voice?: boolean; script?: string; microphone?: string | true; camera?: string; timeScale: number; replyTimeout: number }) => {
      await runDevice({
        hardware: o.hardware, deviceDir: resolve(o.deviceDir), participantId: 'P01', tz: 'UTC', voice: o.voice, script: o.script, microphone: o.microphone === true ? '' : o.microphone, camera: o.camera, timeScale: o.timeScale,
        replyTimeoutMs: o.replyTimeout * (o.script ? o.timeScale : 1), hearthVersion: hearthVersion(), input: process.stdin, output: process.stdout,
        requireProvisioned: true,
      });
    });
}
