import { AUDIO_SAMPLE_RATE, type AudioChunk } from './audio-source.js';
import { VadSegmenter, type SegmenterOptions } from './segmenter.js';
import { VAD_FRAME_SAMPLES, type SileroVad } from './silero-vad.js';

/** Frames below this speech probability count as background for the noise floor. */
const NOISE_PROBABILITY = 0.15;
const NOISE_EMA = 0.05;
const REFINE_HOP = 160;
const REFINE_MAX = AUDIO_SAMPLE_RATE / 4;
const REFINE_KEEP = AUDIO_SAMPLE_RATE / 4;
const REFINE_ABOVE_NOISE_DB = 6;
const REFINE_PAD = 320;

/** One utterance's audio and timing (epoch ms from the source's clock). */
export interface SpeechSegment {
  startMs: number;
  endMs: number;
  /** When the end of speech was known (after the closing silence). */
  decidedAtMs: number;
  /** True when cut at the maximum length rather than ended by silence. */
  cut: boolean;
  /** The utterance's 16 kHz mono samples. Raw audio: only the consent gate may write it to disk. */
  samples: Int16Array;
  /**
   * The same with up to `contextMs` of the audio around it, for speech recognisers: a quiet onset the
   * VAD missed is then still heard. Raw audio too.
   */
  withContext: Int16Array;
}

/** What the voice activity stream reports. */
export type VoiceActivityEvent =
  | { type: 'speech.started'; atMs: number }
  | { type: 'speech.ended'; segment: SpeechSegment };

/**
 * Audio chunks in, utterances out: reframes audio into 512-sample frames, asks Silero VAD for each,
 * segments with hysteresis and keeps just the audio an utterance in progress needs.
 */
export class VoiceActivityStream {
  private segmenter: VadSegmenter;
  private readonly frame = new Float32Array(VAD_FRAME_SAMPLES);
  private buf = new Int16Array(AUDIO_SAMPLE_RATE * 4);
  /** Absolute index of buf[0]. */
  private bufStart = 0;
  private bufLen = 0;
  /** Absolute index of the next sample to give the VAD. */
  private next = 0;
  private originMs: number | undefined;
  /** Frames the VAD has judged, and the speech probability of the last one. */
  framesJudged = 0;
  lastProbability = 0;
  /** Level of the background between utterances, dB re full scale (EMA over non-speech frames). */
  noiseFloorDb: number | undefined;

  private readonly context: number;

  constructor(
    private readonly vad: SileroVad,
    private readonly options: SegmenterOptions & { contextMs?: number } = {},
  ) {
    this.segmenter = new VadSegmenter(options);
    this.context = Math.round(((options.contextMs ?? 300) * AUDIO_SAMPLE_RATE) / 1000);
  }

  /** Epoch ms of an absolute sample index. */
  private at(sample: number): number {
    return (this.originMs ?? 0) + (sample * 1000) / AUDIO_SAMPLE_RATE;
  }

  /** Feed a chunk; returns what happened in it. Chunks must be consecutive audio. */
  async push(chunk: AudioChunk): Promise<VoiceActivityEvent[]> {
    this.originMs ??= chunk.atMs;
    this.append(chunk.samples);
    const events: VoiceActivityEvent[] = [];
    const end = this.bufStart + this.bufLen;
    while (this.next + VAD_FRAME_SAMPLES <= end) {
      const off = this.next - this.bufStart;
      for (let i = 0; i < VAD_FRAME_SAMPLES; i++) this.frame[i] = this.buf[off + i]! / 32768;
      const p = await this.vad.probability(this.frame);
      if (p < NOISE_PROBABILITY) {
        let e = 0;
        for (let i = 0; i < VAD_FRAME_SAMPLES; i++) e += this.frame[i]! * this.frame[i]!;
        const db = 10 * Math.log10(e / VAD_FRAME_SAMPLES + 1e-12);
        this.noiseFloorDb = this.noiseFloorDb === undefined ? db : this.noiseFloorDb + NOISE_EMA * (db - this.noiseFloorDb);
      }
      this.framesJudged++;
      this.lastProbability = p;
      for (const e of this.segmenter.push(p, this.next)) events.push(this.toEvent(e));
      this.next += VAD_FRAME_SAMPLES;
    }
    this.trim();
    return events;
  }

  /** The stream ended: close an utterance in progress. */
  flush(): VoiceActivityEvent[] {
    const events = this.segmenter.flush(this.bufStart + this.bufLen).map((e) => this.toEvent(e));
    this.trim();
    return events;
  }

  /** Start over for a new, unrelated stream (e.g. after the microphone came back). */
  reset(): void {
    this.vad.reset();
    this.segmenter = new VadSegmenter(this.options);
    this.bufStart = this.bufLen = this.next = 0;
    this.originMs = undefined;
  }

  private toEvent(e: ReturnType<VadSegmenter['push']>[number]): VoiceActivityEvent {
    if (e.type === 'speech.started') return { type: 'speech.started', atMs: this.at(e.startSample) };
    const a = Math.max(e.startSample, this.bufStart) - this.bufStart;
    let b = Math.min(e.endSample, this.bufStart + this.bufLen) - this.bufStart;
    if (!e.cut) b = this.refineEnd(a, b);
    const endSample = this.bufStart + b;
    const ca = Math.max(0, a - this.context);
    const cb = Math.min(this.bufLen, b + this.context);
    return {
      type: 'speech.ended',
      segment: {
        startMs: this.at(e.startSample),
        endMs: this.at(endSample),
        decidedAtMs: this.at(e.decidedAtSample),
        cut: e.cut,
        samples: this.buf.slice(a, b),
        withContext: this.buf.slice(ca, cb),
      },
    };
  }

  /**
   * Silero's probability decays a frame or two after speech stops, so an utterance would end up to
   * ~120 ms late. Walk back from the end in 10 ms steps over audio no louder than the background.
   */
  private refineEnd(a: number, b: number): number {
    if (this.noiseFloorDb === undefined) return b;
    const limit = Math.max(a + REFINE_KEEP, b - REFINE_MAX);
    const loud = this.noiseFloorDb + REFINE_ABOVE_NOISE_DB;
    let end = b;
    while (end - REFINE_HOP >= limit) {
      let e = 0;
      for (let i = end - REFINE_HOP; i < end; i++) e += (this.buf[i]! / 32768) ** 2;
      if (10 * Math.log10(e / REFINE_HOP + 1e-12) > loud) break;
      end -= REFINE_HOP;
    }
    return end === b ? b : Math.min(b, end + REFINE_PAD);
  }

  private append(samples: Int16Array): void {
    if (this.bufLen + samples.length > this.buf.length) {
      const grown = new Int16Array(Math.max(this.buf.length * 2, this.bufLen + samples.length));
      grown.set(this.buf.subarray(0, this.bufLen));
      this.buf = grown;
    }
    this.buf.set(samples, this.bufLen);
    this.bufLen += samples.length;
  }

  /** Drop audio no utterance can need: outside speech keep only a little before the next frame. */
  private trim(): void {
    if (this.segmenter.active) return;
    const keepFrom = Math.max(this.bufStart, this.next - VAD_FRAME_SAMPLES * 2 - this.context);
    const drop = keepFrom - this.bufStart;
    if (drop <= 0) return;
    this.buf.copyWithin(0, drop, this.bufLen);
    this.bufLen -= drop;
    this.bufStart = keepFrom;
  }
}
