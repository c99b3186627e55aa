import { Option, type Command } from 'commander';
import { resolve } from 'node:path';
import type { LiveOptions } from '../../live.js';
import { notRegularFile } from '../../../study-protocol/index.js';
import { nonNegative, UsageError } from '../errors.js';
import { hearthVersion } from '../version.js';

/** The hardware options `hearth talk` and `hearth run` share, as commander parses them. */
export interface HardwareFlags {
  hardware: 'sim' | 'ros2';
  deviceDir: string;
  voice?: boolean;
  script?: string;
  microphone?: string | true;
  sttServer?: string;
  sttModel: string;
  camera?: string;
  timeScale: number;
  replyTimeout: number;
}

/** Add the hardware options to a command. */
export function hardwareOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--hardware <kind>', 'sim: terminal, script or microphone; ros2: a ROS4HRI robot (needs rclnodejs)').choices(['sim', 'ros2']).default('sim'))
    .option('--voice', 'also speak with espeak-ng through the sound device')
    .option('--script <file>', 'a participant script (YAML/JSON) instead of typing', regularFile('--script'))
    .option('--microphone [device]', 'listen through a microphone (voice activity + offline speech to text) instead of typing')
    .addOption(new Option('--stt-server <url>', "with --microphone: the study site's OpenAI-compatible transcription server (e.g. http://10.0.0.5:8000/v1); offline recognition stands in while it fails; key in HEARTH_STT_API_KEY")
      .env('HEARTH_STT_URL').argParser(httpUrl('--stt-server')))
    .addOption(new Option('--stt-model <name>', 'model name the transcription server knows').env('HEARTH_STT_MODEL').default('whisper-1'))
    .option('--camera <source>', "watch the participant's face: /dev/video0, a video file or a stream; affect is logged")
    .option('--time-scale <x>', 'scale script pauses and speech time (0.01 = 100x faster)', positiveNumber('--time-scale'), 1)
    .option('--reply-timeout <ms>', 'silence before the robot asks again', nonNegative('--reply-timeout'), 20_000);
}

/** Parse a number option that must be above zero (a time scale of 0 makes every pause and reply timeout instant). */
function positiveNumber(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n <= 0) throw new UsageError(`option ${name}: expected a number above 0 (e.g. 0.01 for 100x faster), got "${value}"`);
    return n;
  };
}

/** Parse an option that must be an http(s) URL. */
function httpUrl(name: string) {
  return (value: string): string => {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      throw new UsageError(`option ${name}: "${value}" is not a URL (e.g. http://10.0.0.5:8000/v1)`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`option ${name}: "${value}" must be an http or https URL`);
    return value;
  };
}

/** Parse a file option that must name a regular file: a FIFO or device would block the read forever. */
function regularFile(name: string) {
  return (value: string): string => {
    const problem = notRegularFile(value);
    if (problem) throw new UsageError(`option ${name}: ${value} ${problem}; give a script file (YAML or JSON)`);
    return value;
  };
}

/** The runtime options for parsed hardware flags (the demo-participant fields are the caller's). */
export function liveOptions(o: HardwareFlags): Omit<LiveOptions, 'participantId' | 'tz'> {
  if (o.sttServer && o.microphone === undefined) throw new UsageError('option --stt-server: speech to text needs --microphone (typed and scripted answers are not transcribed)');
  const apiKey = process.env.HEARTH_STT_API_KEY?.trim();
  return {
    ...(o.sttServer && o.microphone !== undefined ? { stt: { baseURL: o.sttServer, model: o.sttModel, ...(apiKey ? { apiKey } : {}) } } : {}),
    hardware: o.hardware, deviceDir: resolve(o.deviceDir), voice: o.voice, script: o.script,
    microphone: o.microphone === true ? '' : o.microphone, camera: o.camera, timeScale: o.timeScale,
    // A script's pauses are scaled, so the robot's patience is scaled with them.
    replyTimeoutMs: o.replyTimeout * (o.script ? o.timeScale : 1),
    hearthVersion: hearthVersion(), input: process.stdin, output: process.stdout,
  };
}
