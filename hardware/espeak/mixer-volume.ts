import { execFile } from 'node:child_process';

/** Which mixer sets the speaker's volume. */
export interface MixerVolumeOptions {
  /**
   * `pulse`: `pactl set-sink-volume` on `target` (a sink name; default `@DEFAULT_SINK@`).
   * `alsa`: `amixer sset` on the simple control `target` (default `Master`; a Raspberry Pi's headphone
   * jack is `PCM` or `Headphone`) of the control device `device`.
   */
  backend: 'pulse' | 'alsa';
  target?: string;
  /** ALSA control device (`amixer -D`), for `alsa`: `default`, `hw:0`, `pulse`… */
  device?: string;
}

/** The mixer could not be read or set; the message names the command and its complaint. */
export class MixerError extends Error {
  override readonly name = 'MixerError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** The speaker's system volume through PulseAudio (`pactl`) or ALSA (`amixer`), as 0..1. */
export class MixerVolume {
  constructor(private readonly options: MixerVolumeOptions) {}

  /** What is controlled, e.g. `pactl sink @DEFAULT_SINK@` or `amixer -D hw:0 PCM`. */
  get name(): string {
    return this.options.backend === 'pulse' ? `pactl sink ${this.target}` : `amixer${this.options.device ? ` -D ${this.options.device}` : ''} ${this.target}`;
  }

  private get target(): string {
    return this.options.target ?? (this.options.backend === 'pulse' ? '@DEFAULT_SINK@' : 'Master');
  }

  /** The current volume, 0..1 (the first channel's). */
  async get(): Promise<number> {
    const out = this.options.backend === 'pulse'
      ? await this.run('pactl', ['get-sink-volume', this.target])
      : await this.run('amixer', [...this.device(), 'sget', this.target]);
    const m = /(\d+)%/.exec(out);
    if (!m) throw new MixerError(`${this.name}: no volume in its answer (${out.trim().split('\n')[0] ?? ''})`);
    return Number(m[1]) / 100;
  }

  /** Set the volume, 0..1 (values outside are clamped). */
  async set(volume: number): Promise<void> {
    if (!Number.isFinite(volume)) throw new RangeError(`volume ${volume} is not a number from 0 to 1`);
    const pct = `${Math.round(Math.max(0, Math.min(1, volume)) * 100)}%`;
    if (this.options.backend === 'pulse') await this.run('pactl', ['set-sink-volume', this.target, pct]);
    else await this.run('amixer', [...this.device(), '-q', 'sset', this.target, pct, 'unmute']);
  }

  private device(): string[] {
    return this.options.device ? ['-D', this.options.device] : [];
  }

  private run(cmd: string, args: string[]): Promise<string> {
    return new Promise((resolve, reject) => {
      execFile(cmd, args, { timeout: 10_000, encoding: 'utf8' }, (err, stdout, stderr) => {
        if (!err) return resolve(stdout);
        const e = err as NodeJS.ErrnoException;
        const why = e.code === 'ENOENT' ? `${cmd} is not installed (Debian package ${cmd === 'pactl' ? 'pulseaudio-utils' : 'alsa-utils'})`
          : stderr.trim().split('\n').at(-1) || e.message;
        reject(new MixerError(`${this.name}: ${why}`, { cause: err }));
      });
    });
  }
}
