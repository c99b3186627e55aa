import type { Listener, ListenerEvents, ListenRequest } from '../../behaviors/index.js';
import type { ParticipantScript } from './script.js';

/** The clock a simulated participant waits on (the runtime's clock, real or simulated). */
export interface TimerClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Speaking time for a text at a conversational rate (≈150 words per minute). */
export function speechDurationMs(text: string, wordsPerMinute = 150): number {
  const words = text.trim().split(/\s+/).filter(Boolean).length;
  return Math.round((words / wordsPerMinute) * 60_000);
}

/**
 * A participant who follows a script: each time the robot listens, the next reply is spoken after
 * its pause (silence lets the robot's reply timeout run). When the script ends, the participant leaves.
 */
export class ScriptedParticipant implements Listener {
  private next = 0;
  private onSpeechStart: (() => void) | null = null;
  private bargeTimer: unknown = null;
  /** What was asked of this participant, for tests and demos. */
  readonly requests: ListenRequest[] = [];

  constructor(
    private readonly script: ParticipantScript,
    private readonly clock: TimerClock,
    private readonly options: { timeScale?: number; onSay?: (text: string) => void } = {},
  ) {}

  /** Replies not yet used. */
  get remaining(): number {
    return this.script.replies.length - this.next;
  }

  watchBargeIn(onSpeechStart: () => void): () => void {
    this.onSpeechStart = onSpeechStart;
    return () => {
      if (this.onSpeechStart === onSpeechStart) this.onSpeechStart = null;
    };
  }

  /** A `barge_in` reply starts `after_ms` into the robot's next line, over it. */
  private armBargeIn(): void {
    const reply = this.script.replies[this.next];
    if (!reply || !('say' in reply) || !reply.bargeIn) return;
    this.bargeTimer = this.clock.setTimeout(() => {
      this.bargeTimer = null;
      this.onSpeechStart?.();
    }, reply.afterMs * (this.options.timeScale ?? 1));
  }

  listen(request: ListenRequest, events: ListenerEvents): () => void {
    this.requests.push(request);
    if (this.bargeTimer !== null) {
      this.clock.clearTimeout(this.bargeTimer);
      this.bargeTimer = null;
    }
    const reply = this.script.replies[this.next];
    if (reply === undefined) {
      const h = this.clock.setTimeout(() => events.left(), 0);
      return () => this.clock.clearTimeout(h);
    }
    this.next += 1;
    if ('silence' in reply) return () => this.armBargeIn();
    const scale = this.options.timeScale ?? 1;
    // A barge-in reply has already started: only the rest of it remains to be said.
    const start = reply.bargeIn ? 0 : reply.afterMs * scale;
    const duration = speechDurationMs(reply.say) * scale;
    const t0 = this.clock.now();
    const h = this.clock.setTimeout(() => {
      this.options.onSay?.(reply.say);
      events.spoke({ text: reply.say, startedAt: t0 + start, endedAt: this.clock.now(), ...(reply.confidence !== undefined ? { confidence: reply.confidence } : {}) });
    }, start + duration);
    return () => {
      this.clock.clearTimeout(h);
      this.armBargeIn();
    };
  }
}
