import type { RobotLine, Speaker, SpokenLine } from '../../behaviors/index.js';
import { speechDurationMs, type TimerClock } from './scripted-participant.js';

/**
 * A speaker that takes as long as speaking would (≈150 words per minute, scaled by `timeScale`) on the
 * given clock, and hands each line to `onLine` (print it, record it). `fail` makes it fail like a
 * disconnected speaker, for fault tests.
 */
export class SimSpeaker implements Speaker {
  /** Lines spoken so far. */
  readonly lines: RobotLine[] = [];
  fail: Error | null = null;

  constructor(
    private readonly clock: TimerClock,
    private readonly options: { timeScale?: number; onLine?: (line: RobotLine) => void } = {},
  ) {}

  speak(line: RobotLine, signal?: AbortSignal): Promise<SpokenLine> {
    if (this.fail) return Promise.reject(this.fail);
    const startedAt = this.clock.now();
    this.lines.push(line);
    this.options.onLine?.(line);
    const duration = speechDurationMs(line.text) * (this.options.timeScale ?? 1);
    return new Promise((resolve, reject) => {
      const h = this.clock.setTimeout(() => resolve({ startedAt, endedAt: this.clock.now() }), duration);
      signal?.addEventListener('abort', () => {
        this.clock.clearTimeout(h);
        reject(new Error('speech aborted'));
      });
    });
  }
}
