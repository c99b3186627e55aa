import { spawn } from 'node:child_process';
import { AUDIO_SAMPLE_RATE, AudioSourceError, type AudioChunk, type AudioSource } from '../../perception/index.js';
import { pcmChunks } from './pcm-stream.js';

/** Options for reading an audio file through ffmpeg. */
export interface FfmpegAudioSourceOptions {
  /** Epoch ms of the file's first sample; default: the clock when `open` is called. */
  startMs?: number;
  /** Deliver at the file's own pace (ffmpeg `-re`), as a microphone would. Default false: as fast as read. */
  realtime?: boolean;
  /** Clock for `startMs`; default `Date.now`. */
  now?: () => number;
  /** ffmpeg binary; default `ffmpeg` on PATH. */
  ffmpegPath?: string;
}

/** Any audio file ffmpeg can read (wav, mp3, ogg, a video's sound track…), decoded to 16 kHz mono s16le. */
export class FfmpegAudioSource implements AudioSource {
  readonly live = false;
  constructor(
    private readonly path: string,
    private readonly options: FfmpegAudioSourceOptions = {},
  ) {}

  get name(): string {
    return `file ${this.path}`;
  }

  async *open(signal?: AbortSignal): AsyncIterable<AudioChunk> {
    const startMs = this.options.startMs ?? (this.options.now ?? Date.now)();
    const args = ['-nostdin', '-v', 'error', ...(this.options.realtime ? ['-re'] : []), '-i', this.path,
      '-vn', '-ac', '1', '-ar', String(AUDIO_SAMPLE_RATE), '-f', 's16le', 'pipe:1'];
    const child = spawn(this.options.ffmpegPath ?? 'ffmpeg', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr = (stderr + d).slice(-2000); });
    const exited = new Promise<{ code: number | null; error?: Error }>((resolve) => {
      child.once('error', (error) => resolve({ code: null, error }));
      child.once('close', (code) => resolve({ code }));
    });
    const onAbort = () => child.kill('SIGTERM');
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      yield* pcmChunks(child.stdout, (n) => startMs + (n * 1000) / AUDIO_SAMPLE_RATE);
      const { code, error } = await exited;
      if (signal?.aborted) return;
      if (error) throw new AudioSourceError(`${this.name}: cannot run ffmpeg (${error.message})`, { cause: error });
      if (code !== 0) throw new AudioSourceError(`${this.name}: ffmpeg failed with exit code ${code}: ${stderr.trim().split('\n').at(-1) ?? ''}`);
    } finally {
      signal?.removeEventListener('abort', onAbort);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    }
  }
}

/** Decode a whole audio file to 16 kHz mono s16le samples (for tests, benchmarks and `hearth perceive`). */
export async function decodeAudioFile(path: string, ffmpegPath?: string): Promise<Int16Array> {
  const parts: Int16Array[] = [];
  let total = 0;
  for await (const c of new FfmpegAudioSource(path, { startMs: 0, ...(ffmpegPath ? { ffmpegPath } : {}) }).open()) {
    parts.push(c.samples);
    total += c.samples.length;
  }
  const out = new Int16Array(total);
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}
