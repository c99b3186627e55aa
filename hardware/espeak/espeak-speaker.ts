import { spawn, type ChildProcess } from 'node:child_process';
import type { RobotLine, Speaker, SpokenLine } from '../../behaviors/index.js';

/** Options for espeak-ng. */
export interface EspeakOptions {
  now: () => number;
  /** Voice name, e.g. "en-us". */
  voice?: string;
  /** Words per minute. */
  rate?: number;
  /** Loudness of the speech itself, 0..1 (espeak-ng amplitude 0..100; the protocol's `device.volume`). Default 1. */
  volume?: number;
  /**
   * How the audio leaves: `aplay` (default: `espeak-ng --stdout | aplay -D device`, ALSA, the Raspberry Pi
   * path, through PulseAudio with device `pulse`) or `espeak` (espeak-ng's own audio output).
   */
  output?: 'aplay' | 'espeak';
  /** ALSA playback device for aplay: `default`, `pulse`, `plughw:1,0`… Default `default`. */
  device?: string;
  /** Write each line to a WAV file in this folder instead of the sound device (tests, headless demos). */
  wavDir?: string;
  /** The espeak-ng binary. */
  binary?: string;
  /** The aplay binary. */
  aplay?: string;
}

/**
 * A speaker backed by Debian's espeak-ng. By default the audio goes through a pipe to `aplay` on an
 * ALSA device (a Pi's card, or PulseAudio through ALSA's `pulse` device), so the device can be chosen
 * and the line has ended when the sound card has played it. A missing binary or device rejects the
 * line with a message naming the program and its complaint.
 */
export class EspeakSpeaker implements Speaker {
  private count = 0;
  /** WAV files written when `wavDir` is set. */
  readonly files: string[] = [];

  constructor(private readonly options: EspeakOptions) {}

  /** What is used, for logs and `hearth doctor`: e.g. `espeak-ng en-us → aplay pulse`. */
  get name(): string {
    const to = this.options.wavDir ? `WAV files in ${this.options.wavDir}` : (this.options.output ?? 'aplay') === 'aplay' ? `aplay ${this.options.device ?? 'default'}` : 'its own audio output';
    return `espeak-ng ${this.options.voice ?? 'en-us'} → ${to}`;
  }

  speak(line: RobotLine, signal?: AbortSignal): Promise<SpokenLine> {
    const startedAt = this.options.now();
    const volume = Math.max(0, Math.min(1, this.options.volume ?? 1));
    const args = ['-v', this.options.voice ?? 'en-us', '-s', String(this.options.rate ?? 160), '-a', String(Math.round(volume * 100))];
    const toPlayer = !this.options.wavDir && (this.options.output ?? 'aplay') === 'aplay';
    if (this.options.wavDir) {
      const file = `${this.options.wavDir}/line-${String(++this.count).padStart(4, '0')}.wav`;
      this.files.push(file);
      args.push('-w', file);
    } else if (toPlayer) {
      args.push('--stdout');
    }
    args.push('--', line.text);
    if (signal?.aborted) return Promise.reject(new Error('espeak-ng: line aborted before it started'));
    const espeak = this.options.binary ?? 'espeak-ng';
    return new Promise((resolve, reject) => {
      const children: ChildProcess[] = [];
      const failures: string[] = [];
      let open = 0;
      const finish = () => {
        signal?.removeEventListener('abort', onAbort);
        if (failures.length) reject(new Error(failures[0]!));
        else resolve({ startedAt, endedAt: this.options.now() });
      };
      const onAbort = () => { for (const c of children) c.kill('SIGTERM'); };
      signal?.addEventListener('abort', onAbort, { once: true });
      const watch = (child: ChildProcess, label: string, hint: string) => {
        open++;
        children.push(child);
        let stderr = '';
        child.stderr?.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-2000); });
        child.once('error', (e: NodeJS.ErrnoException) => {
          failures.push(e.code === 'ENOENT' ? `${label} could not run: it is not installed (${hint})` : `${label} could not run: ${e.message}`);
        });
        child.once('close', (code, sig) => {
          const why = stderr.trim().split('\n').at(-1) ?? '';
          if (code !== 0 && code !== null && !failures.length) failures.push(`${label} exited with ${code}${why ? `: ${why}` : ''}`);
          if (sig && !signal?.aborted && !failures.length) failures.push(`${label} was stopped by ${sig}`);
          // The other end of the pipe is useless now.
          if ((code !== 0 || sig) && !signal?.aborted) for (const c of children) if (c !== child) c.kill('SIGTERM');
          if (--open === 0) finish();
        });
      };
      const synth = spawn(espeak, args, { stdio: ['ignore', toPlayer ? 'pipe' : 'ignore', 'pipe'] });
      watch(synth, 'espeak-ng', 'Debian package espeak-ng');
      if (!toPlayer) return;
      const device = this.options.device ?? 'default';
      const player = spawn(this.options.aplay ?? 'aplay', ['-q', '-D', device], { stdio: ['pipe', 'ignore', 'pipe'] });
      watch(player, `aplay -D ${device}`, 'Debian package alsa-utils');
      synth.stdout!.pipe(player.stdin!);
      // aplay gone (no device): espeak-ng's writes fail with EPIPE; the close handlers report it.
      player.stdin!.on('error', () => undefined);
      synth.stdout!.on('error', () => undefined);
    });
  }
}
