import { AUDIO_SAMPLE_RATE } from './audio-source.js';
import { VAD_FRAME_SAMPLES } from './silero-vad.js';

/** How speech probabilities become utterances. Durations in milliseconds. */
export interface SegmenterOptions {
  /** Speech starts when a frame's probability reaches this. Default 0.5. */
  threshold?: number;
  /** Speech can end only below this (hysteresis). Default threshold − 0.15. */
  negThreshold?: number;
  /** Bursts shorter than this are dropped (coughs, door knocks). Default 250. */
  minSpeechMs?: number;
  /** Silence that ends an utterance. Default 600: a pause inside a sentence does not split it. */
  minSilenceMs?: number;
  /** Added before and after each segment, never overlapping the previous one. Default 30. */
  speechPadMs?: number;
  /** A longer monologue is cut here so memory and transcription stay bounded. Default 30 000. */
  maxSpeechMs?: number;
}

/** Speech has been going on for at least `minSpeechMs`, from `startSample`. */
export interface SpeechStarted {
  type: 'speech.started';
  startSample: number;
}

/** A finished utterance: speech between `startSample` and `endSample`, known at `decidedAtSample`. */
export interface SpeechEnded {
  type: 'speech.ended';
  startSample: number;
  endSample: number;
  /** When the segmenter knew speech had ended (after `minSilenceMs` of silence, or at a cut). */
  decidedAtSample: number;
  /** True when cut at `maxSpeechMs` rather than ended by silence. */
  cut: boolean;
}

/** What the segmenter reports while it is fed probabilities. */
export type SegmenterEvent = SpeechStarted | SpeechEnded;

const ms = (v: number) => Math.round((v * AUDIO_SAMPLE_RATE) / 1000);

/**
 * Turns per-frame speech probabilities into utterance segments with hysteresis, minimum speech and
 * minimum silence durations (the streaming form of Silero's `get_speech_timestamps`). Pure logic:
 * positions are sample indices since the stream began.
 */
export class VadSegmenter {
  private readonly threshold: number;
  private readonly negThreshold: number;
  private readonly minSpeech: number;
  private readonly minSilence: number;
  private readonly pad: number;
  private readonly maxSpeech: number;
  private triggered = false;
  private confirmed = false;
  private start = 0;
  /** Start of the current run of silence inside speech, 0 when none. */
  private silenceFrom = -1;
  private lastSpeechEnd = 0;
  private prevSegmentEnd = 0;

  constructor(options: SegmenterOptions = {}) {
    this.threshold = options.threshold ?? 0.5;
    this.negThreshold = options.negThreshold ?? Math.max(this.threshold - 0.15, 0.01);
    if (!(this.negThreshold < this.threshold)) {
      throw new RangeError(`VAD negThreshold ${this.negThreshold} must be below threshold ${this.threshold}`);
    }
    this.minSpeech = ms(options.minSpeechMs ?? 250);
    this.minSilence = ms(options.minSilenceMs ?? 600);
    this.pad = ms(options.speechPadMs ?? 30);
    this.maxSpeech = ms(options.maxSpeechMs ?? 30_000);
  }

  /** True from the first speech frame until the segment ends or is dropped (audio must be kept). */
  get active(): boolean {
    return this.triggered;
  }

  /** True while inside a confirmed utterance. */
  get speaking(): boolean {
    return this.confirmed;
  }

  /** Feed the probability of the frame starting at `frameStart` (frames of 512 samples, in order). */
  push(probability: number, frameStart: number): SegmenterEvent[] {
    const frameEnd = frameStart + VAD_FRAME_SAMPLES;
    const events: SegmenterEvent[] = [];
    if (!this.triggered) {
      if (probability >= this.threshold) {
        this.triggered = true;
        this.confirmed = false;
        this.start = frameStart;
        this.lastSpeechEnd = frameEnd;
        this.silenceFrom = -1;
      }
      return events;
    }
    if (probability >= this.threshold) {
      this.silenceFrom = -1;
      this.lastSpeechEnd = frameEnd;
    } else if (probability < this.negThreshold && this.silenceFrom < 0) {
      this.silenceFrom = frameStart;
    }
    if (!this.confirmed && this.lastSpeechEnd - this.start >= this.minSpeech) {
      this.confirmed = true;
      events.push({ type: 'speech.started', startSample: this.padStart() });
    }
    if (this.silenceFrom >= 0 && frameEnd - this.silenceFrom >= this.minSilence) {
      this.finish(this.silenceFrom, frameEnd, false, events);
    } else if (frameEnd - this.start >= this.maxSpeech) {
      const cutAt = this.silenceFrom >= 0 ? this.silenceFrom : frameEnd;
      this.finish(cutAt, frameEnd, true, events);
      if (this.silenceFrom < 0) {
        // Still speaking at the cut: the next segment starts right here.
        this.triggered = true;
        this.confirmed = false;
        this.start = frameEnd;
        this.lastSpeechEnd = frameEnd;
      }
    }
    return events;
  }

  /** The stream ended at `endSample`: close any utterance in progress. */
  flush(endSample: number): SegmenterEvent[] {
    const events: SegmenterEvent[] = [];
    if (this.triggered) this.finish(this.silenceFrom >= 0 ? this.silenceFrom : endSample, endSample, false, events, endSample);
    return events;
  }

  private padStart(): number {
    return Math.max(this.prevSegmentEnd, this.start - this.pad, 0);
  }

  private finish(end: number, decidedAt: number, cut: boolean, events: SegmenterEvent[], limit = Infinity): void {
    const speechLen = Math.min(end, this.lastSpeechEnd) - this.start;
    if (this.confirmed || speechLen >= this.minSpeech) {
      if (!this.confirmed) events.push({ type: 'speech.started', startSample: this.padStart() });
      const startSample = this.padStart();
      const endSample = cut ? end : Math.min(end + this.pad, limit);
      events.push({ type: 'speech.ended', startSample, endSample, decidedAtSample: decidedAt, cut });
      this.prevSegmentEnd = endSample;
    }
    this.triggered = false;
    this.confirmed = false;
    this.silenceFrom = -1;
  }
}
