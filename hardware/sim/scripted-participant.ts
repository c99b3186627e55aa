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

  listen(request: ListenRequest, events: ListenerEvents): () => void {
    this.requests.push(request);
    const reply = this.script.replies[this.next];
    if (reply === undefined) {
      const h = this.clock.setTimeout(() => events.left(), 0);
      return () => this.clock.clearTimeout(h);
    }
    this.next += 1;
    if ('silence' in reply) return () => undefined;
    const scale = this.options.timeScale ?? 1;
    const start = reply.afterMs * scale;
    const duration = speechDurationMs(reply.say) * scale;
    const t0 = this.clock.now();
    const h = this.clock.setTimeout(() => {
      this.options.onSay?.(reply.say);
      events.spoke({ text: reply.say, startedAt: t0 + start, endedAt: this.clock.now(), ...(reply.confidence !== undefined ? { confidence: reply.confidence } : {}) });
    }, start + duration);
    return () => this.clock.clearTimeout(h);
  }
}
