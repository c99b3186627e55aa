import { fileURLToPath } from 'node:url';
import nodeRecord from 'node-record-lpcm16';
import { AUDIO_SAMPLE_RATE, AudioSourceError, type AudioChunk, type AudioSource } from '../../perception/index.js';

/** Which sound card and recorder to use. */
export interface LpcmMicrophoneOptions {
  /** `arecord` (ALSA; the Raspberry Pi default) or `sox`/`rec`. Default `arecord`. */
  recorder?: 'arecord' | 'sox' | 'rec';
  /** ALSA device, e.g. `default`, `plughw:1,0`, or `pulse` to record through PulseAudio. */
  device?: string;
  /** Clock for chunk timestamps; default Date.now. */
  now?: () => number;
  /** No audio at all within this long after opening means the device is not working. Default 5000 ms. */
  firstDataTimeoutMs?: number;
  /**
   * A working sound card never stops delivering samples; a gap this long means it went away (PulseAudio,
   * for one, silently moves a recording whose source vanished to another, idle source). Default 3000 ms.
   */
  stallTimeoutMs?: number;
  /**
   * arecord only: the ALSA period, how often samples are handed over. Default 20 ms; ALSA's own
   * (125 ms for `-D pulse`) delays every end of speech by up to a period. 0 leaves it to ALSA.
   */
  periodMs?: number;
}

/** The arecord recorder with `--period-time` (node-record-lpcm16 loads a recorder given as a path). */
const ARECORD_PERIODS = fileURLToPath(new URL('./arecord-periods.cjs', import.meta.url));
/** The default arecord period (see `periodMs`). */
export const DEFAULT_PERIOD_MS = 20;

/**
 * A sound card at 16 kHz mono s16le through `node-record-lpcm16` (which runs arecord or sox).
 * A recorder that cannot start, exits, or stays silent is reported as an `AudioSourceError` naming
 * the device and the recorder's own complaint; the caller retries.
 */
export class LpcmMicrophone implements AudioSource {
  readonly live = true;
  constructor(private readonly options: LpcmMicrophoneOptions = {}) {}

  get name(): string {
    return `microphone ${this.options.device ?? 'default'} (${this.options.recorder ?? 'arecord'})`;
  }

  async *open(signal?: AbortSignal): AsyncIterable<AudioChunk> {
    const now = this.options.now ?? Date.now;
    const recorder = this.options.recorder ?? 'arecord';
    const periodMs = this.options.periodMs ?? DEFAULT_PERIOD_MS;
    const rec = nodeRecord.record({
      sampleRate: AUDIO_SAMPLE_RATE, channels: 1, audioType: 'raw',
      recorder: recorder === 'arecord' && periodMs > 0 ? ARECORD_PERIODS : recorder,
      ...(periodMs > 0 ? { periodUs: Math.round(periodMs * 1000) } : {}),
      ...(this.options.device ? { device: this.options.device } : {}),
    });
    const stream = rec.stream();
    let stderr = '';
    rec.process.stderr?.on('data', (d: Buffer | string) => { stderr = (stderr + d.toString()).slice(-1000); });

    // A small queue between the recorder's events and this generator.
    const queue: Buffer[] = [];
    let done = false;
    let failure: AudioSourceError | undefined;
    let wake: (() => void) | undefined;
    const notify = () => { wake?.(); wake = undefined; };
    const fail = (why: string, cause?: unknown) => {
      failure ??= new AudioSourceError(`${this.name}: ${why}${stderr.trim() ? ` (${stderr.trim().split('\n').at(-1)})` : ''}`, { cause });
      notify();
    };
    // Without these listeners a missing binary would crash the process (node-record-lpcm16 does not listen).
    rec.process.once('error', (e: NodeJS.ErrnoException) => fail(e.code === 'ENOENT' ? `recorder ${this.options.recorder ?? 'arecord'} is not installed` : e.message, e));
    stream.on('error', (e: unknown) => fail(typeof e === 'string' ? e.split('\n')[0]!.replace(/\.$/, '') : (e as Error).message, e));
    stream.on('data', (d: Buffer | string) => { queue.push(typeof d === 'string' ? Buffer.from(d, 'binary') : d); notify(); });
    stream.on('end', () => { done = true; notify(); });
    rec.process.once('close', () => { done = true; notify(); });
    const onAbort = () => { done = true; notify(); };
    signal?.addEventListener('abort', onAbort, { once: true });
    const timeout = setTimeout(() => { if (startMs === undefined) fail(`no audio within ${this.options.firstDataTimeoutMs ?? 5000} ms of opening`); },
      this.options.firstDataTimeoutMs ?? 5000);
    const stallMs = this.options.stallTimeoutMs ?? 3000;
    let lastDataAt = Date.now();
    stream.on('data', () => { lastDataAt = Date.now(); });
    const watchdog = setInterval(() => {
      if (startMs !== undefined && Date.now() - lastDataAt > stallMs) fail(`no audio for ${stallMs} ms: device gone or stalled`);
    }, Math.min(500, stallMs));

    let startMs: number | undefined;
    let samplesSoFar = 0;
    let carry: Buffer | null = null;
    try {
      for (;;) {
        if (signal?.aborted) return;
        if (failure) throw failure;
        const data = queue.shift();
        if (!data) {
          // The recorder exited: give its error (the exit code arrives just after 'end') a moment to land.
          if (done) {
            await new Promise((r) => setTimeout(r, 50));
            if (failure) throw failure;
            if (signal?.aborted) return;
            throw new AudioSourceError(`${this.name}: recorder stopped${stderr.trim() ? ` (${stderr.trim().split('\n').at(-1)})` : ''}`);
          }
          await new Promise<void>((r) => { wake = r; });
          continue;
        }
        let buf: Buffer = carry ? Buffer.concat([carry, data]) : data;
        carry = null;
        const even = buf.length & ~1;
        if (even < buf.length) { carry = buf.subarray(even); buf = buf.subarray(0, even); }
        if (!even) continue;
        const samples = new Int16Array(even / 2);
        for (let i = 0; i < samples.length; i++) samples[i] = buf.readInt16LE(i * 2);
        // The first block arrived just now and lasted its own length: its first sample was earlier.
        startMs ??= now() - (samples.length * 1000) / AUDIO_SAMPLE_RATE;
        yield { samples, atMs: startMs + (samplesSoFar * 1000) / AUDIO_SAMPLE_RATE };
        samplesSoFar += samples.length;
      }
    } finally {
      clearTimeout(timeout);
      clearInterval(watchdog);
      signal?.removeEventListener('abort', onAbort);
      if (rec.process.exitCode === null && rec.process.signalCode === null) rec.stop();
    }
  }
}
