/** The sample rate every Hearth audio source delivers: 16 kHz mono, signed 16-bit. */
export const AUDIO_SAMPLE_RATE = 16_000;

/** A block of 16 kHz mono signed 16-bit samples. */
export interface AudioChunk {
  samples: Int16Array;
  /** Epoch milliseconds of the first sample, from the source's clock. */
  atMs: number;
}

/**
 * Where microphone audio comes from (a sound card, a file, a ROS 2 topic). `open` starts capturing;
 * the iterable ends when the source ends (end of file, `signal` aborted) and throws
 * `AudioSourceError` when the device fails or disappears.
 */
export interface AudioSource {
  /** Short human-readable name for logs, e.g. `microphone default (sox)` or a file name. */
  readonly name: string;
  /** True for a device that should never end on its own: an end is then a lost device. */
  readonly live: boolean;
  open(signal?: AbortSignal): AsyncIterable<AudioChunk>;
}

/** The audio device or file failed; the message names the source and what went wrong. */
export class AudioSourceError extends Error {
  override readonly name = 'AudioSourceError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/**
 * An in-memory source: plays back samples in chunks, as fast as they are read, or paced in real time.
 * For tests, the simulator and recorded fixtures.
 */
export class PcmAudioSource implements AudioSource {
  readonly live = false;
  constructor(
    private readonly samples: Int16Array,
    private readonly options: { name?: string; startMs?: number; chunkSamples?: number; realtime?: boolean } = {},
  ) {}

  get name(): string {
    return this.options.name ?? `pcm (${this.samples.length} samples)`;
  }

  async *open(signal?: AbortSignal): AsyncIterable<AudioChunk> {
    const step = this.options.chunkSamples ?? 1600;
    const startMs = this.options.startMs ?? 0;
    const t0 = performance.now();
    for (let i = 0; i < this.samples.length; i += step) {
      if (signal?.aborted) return;
      const atMs = startMs + (i * 1000) / AUDIO_SAMPLE_RATE;
      if (this.options.realtime) {
        const wait = t0 + (i * 1000) / AUDIO_SAMPLE_RATE - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      }
      yield { samples: this.samples.subarray(i, Math.min(i + step, this.samples.length)), atMs };
    }
  }
}
