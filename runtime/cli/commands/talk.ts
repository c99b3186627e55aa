import { Option, type Command } from 'commander';
import { resolve } from 'node:path';
import { runLive } from '../../live.js';
import { nonNegative } from '../errors.js';
import { hearthVersion } from '../version.js';

/** `hearth talk`: the companion in the terminal on simulator hardware. */
export function register(program: Command): void {
  program
    .command('talk')
    .description('talk with the companion in this terminal (simulator hardware): one session, then exit')
    .option('--device-dir <dir>', 'device folder (made by hearth provision; a demo participant is set up when empty)', 'hearth-data')
    .option('--participant <id>', 'demo participant id, when the device folder is not provisioned yet', 'P01')
    .option('--tz <zone>', 'demo participant time zone (IANA), when the device folder is not provisioned yet', Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC')
    .option('--protocol <file>', 'study protocol for the demo participant (default: the bundled example study)')
    .addOption(new Option('--hardware <kind>', 'sim: terminal, script or microphone; ros2: a ROS4HRI robot (needs rclnodejs)').choices(['sim', 'ros2']).default('sim'))
    .option('--voice', 'also speak with espeak-ng through the sound device')
    .option('--script <file>', 'a participant script (YAML/JSON) instead of typing')
    .option('--microphone [device]', 'listen through a microphone (voice activity + offline speech to text) instead of typing')
    .option('--camera <source>', 'watch the participant\'s face: /dev/video0, a video file or a stream; affect is logged')
    .option('--time-scale <x>', 'scale script pauses and speech time (0.01 = 100x faster)', nonNegative('--time-scale'), 1)
    .option('--reply-timeout <ms>', 'silence before the robot asks again', nonNegative('--reply-timeout'), 20_000)
    .action(async (o: { hardware: 'sim' | 'ros2'; deviceDir: string; participant: string; tz: string; protocol?: string; voice?: boolean; script?: string; microphone?: string | true; camera?: string; timeScale: number; replyTimeout: number }) => {
      const result = await runLive({
        hardware: o.hardware, deviceDir: resolve(o.deviceDir), participantId: o.participant, tz: o.tz, protocolFile: o.protocol,
        voice: o.voice, script: o.script, microphone: o.microphone === true ? '' : o.microphone, camera: o.camera, timeScale: o.timeScale, replyTimeoutMs: o.replyTimeout * (o.script ? o.timeScale : 1),
        hearthVersion: hearthVersion(), input: process.stdin, output: process.stdout,
      });
      process.stderr.write(`[hearth] session ${result.sessionId ?? '-'}: ${result.status ?? 'none'}${result.reason ? ` (${result.reason})` : ''}\n`);
    });
}
