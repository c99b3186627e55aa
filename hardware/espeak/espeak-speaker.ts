import { spawn } from 'node:child_process';
import type { RobotLine, Speaker, SpokenLine } from '../../behaviors/index.js';

/** Options for espeak-ng. */
export interface EspeakOptions {
  now: () => number;
  /** Voice name, e.g. "en-us". */
  voice?: string;
  /** Words per minute. */
  rate?: number;
  /** Write each line to a WAV file in this folder instead of the sound device (tests, headless demos). */
  wavDir?: string;
  /** The espeak-ng binary. */
  binary?: string;
}

/** A speaker backed by Debian's espeak-ng: plays through the default sound device (PulseAudio/ALSA). */
export class EspeakSpeaker implements Speaker {
  private count = 0;
  /** WAV files written when `wavDir` is set. */
  readonly files: string[] = [];

  constructor(private readonly options: EspeakOptions) {}

  speak(line: RobotLine, signal?: AbortSignal): Promise<SpokenLine> {
    const startedAt = this.options.now();
    const args = ['-v', this.options.voice ?? 'en-us', '-s', String(this.options.rate ?? 160)];
    if (this.options.wavDir) {
      const file = `${this.options.wavDir}/line-${String(++this.count).padStart(4, '0')}.wav`;
      this.files.push(file);
      args.push('-w', file);
    }
    args.push('--', line.text);
    return new Promise((resolve, reject) => {
      const child = spawn(this.options.binary ?? 'espeak-ng', args, { stdio: ['ignore', 'ignore', 'pipe'], signal });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('error', (e) => reject(new Error(`espeak-ng could not run: ${e.message}`)));
      child.on('close', (code) => {
        if (code === 0) resolve({ startedAt, endedAt: this.options.now() });
        else reject(new Error(`espeak-ng exited with ${code}: ${stderr.trim().split('\n')[0] ?? ''}`));
      });
    });
  }
}
