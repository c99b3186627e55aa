import type { Speaker } from '../../behaviors/index.js';
import { AUDIO_SAMPLE_RATE, type AudioChunk, type AudioSource } from '../../perception/index.js';

/** How long the microphone stays closed after the robot's line has ended. */
export interface EchoGateOptions {
  /**
   * Closed this long after the speaker reports the line ended: what is still in the room, the sound
   * card's and the recorder's buffers. Default 250 ms (here, aplay exits about 370 ms after the last
   * sample was recorded back through a PulseAudio null sink, so the line's own end already covers them).
   */
  tailMs?: number;
  /** Epoch ms, on the same clock as the microphone's chunk stamps. Default Date.now. */
  now?: () => number;
}

/** Faint deterministic noise (about −60 dBFS) that replaces the robot's own voice: digital silence upsets noise-floor estimates. */
const FILL = Int16Array.from({ length: 4096 }, (_, i) => ((i * 7919) % 61) - 30);

/**
 * Echo gating: while the robot speaks, and `tailMs` after, the microphone hears the robot, not the
 * participant. `speaker()` wraps the robot's voice so each line closes the gate; `source()` wraps the
 * microphone so audio captured while the gate is closed reaches voice activity detection as faint
 * noise. Without echo cancellation the participant cannot interrupt the robot (no barge-in): what
 * they say over it is not heard. Nothing is stored or sent; only samples are replaced.
 */
export class EchoGate {
  private readonly tailMs: number;
  private readonly now: () => number;
  /** Intervals the gate is closed, epoch ms; `end` undefined while a line is still playing. */
  private closed: { start: number; end: number | undefined }[] = [];
  /** Samples replaced so far (for status and tests). */
  gatedSamples = 0;

  constructor(options: EchoGateOptions = {}) {
    this.tailMs = options.tailMs ?? 250;
    this.now = options.now ?? Date.now;
  }

  /** The robot starts speaking now; call the returned function when it has stopped. */
  hold(): () => void {
    const span: { start: number; end: number | undefined } = { start: this.now(), end: undefined };
    this.closed.push(span);
    return () => { span.end ??= this.now() + this.tailMs; };
  }

  /** True when audio captured at `atMs` is (possibly) the robot's own voice. */
  isClosedAt(atMs: number): boolean {
    return this.closed.some((s) => atMs >= s.start && (s.end === undefined || atMs < s.end));
  }

  /** The robot's voice, closing the gate for every line it says. */
  speaker(inner: Speaker): Speaker {
    return {
      speak: async (line, signal) => {
        const release = this.hold();
        try {
          return await inner.speak(line, signal);
        } finally {
          release();
        }
      },
    };
  }

  /** The microphone, with the robot's own voice replaced by faint noise. */
  source(inner: AudioSource): AudioSource {
    const gate = this;
    return {
      get name() { return `${inner.name}, echo-gated`; },
      live: inner.live,
      async *open(signal?: AbortSignal): AsyncIterable<AudioChunk> {
        for await (const chunk of inner.open(signal)) yield gate.apply(chunk);
      },
    };
  }

  /** Replace the samples of `chunk` captured while the gate was closed. */
  apply(chunk: AudioChunk): AudioChunk {
    const perSample = 1000 / AUDIO_SAMPLE_RATE;
    const endMs = chunk.atMs + chunk.samples.length * perSample;
    this.forget(chunk.atMs);
    const spans = this.closed.filter((s) => s.start < endMs && (s.end === undefined || s.end > chunk.atMs));
    if (!spans.length) return chunk;
    const samples = chunk.samples.slice();
    for (const s of spans) {
      const a = Math.max(0, Math.ceil((s.start - chunk.atMs) / perSample));
      const b = s.end === undefined ? samples.length : Math.min(samples.length, Math.ceil((s.end - chunk.atMs) / perSample));
      for (let i = a; i < b; i++) samples[i] = FILL[i % FILL.length]!;
      this.gatedSamples += Math.max(0, b - a);
    }
    return { samples, atMs: chunk.atMs };
  }

  /** Drop intervals that ended before audio now being read. */
  private forget(beforeMs: number): void {
    if (this.closed.length && this.closed[0]!.end !== undefined && this.closed[0]!.end < beforeMs) {
      this.closed = this.closed.filter((s) => s.end === undefined || s.end >= beforeMs);
    }
  }
}
