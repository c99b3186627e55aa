/** Time as a port: the runtime and XState read and schedule time only through a Clock. */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  readonly source: 'system' | 'simulated';
}

/** The operating system's clock. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
  source: 'system',
};

interface Timer {
  id: number;
  at: number;
  fn: () => void;
}

/**
 * A discrete-event clock for simulation: time stands still until `step()` jumps to the next timer.
 * Timers at the same instant fire in the order they were set, so runs are reproducible.
 */
export class ManualClock implements Clock {
  readonly source = 'simulated' as const;
  private current: number;
  private nextId = 1;
  private timers: Timer[] = [];

  constructor(startMs: number) {
    this.current = startMs;
  }

  now(): number {
    return this.current;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.timers.push({ id, at: this.current + Math.max(0, ms), fn });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.timers = this.timers.filter((t) => t.id !== handle);
  }

  /** Number of timers waiting. */
  get pending(): number {
    return this.timers.length;
  }

  /** Move time forward to `ms` without firing timers that fall before it (used between sessions when idle). */
  jumpTo(ms: number): void {
    if (this.timers.some((t) => t.at < ms)) throw new Error('ManualClock.jumpTo would skip pending timers');
    this.current = Math.max(this.current, ms);
  }

  /** Advance to the earliest timer and fire it. Returns false when nothing is scheduled. */
  step(): boolean {
    if (this.timers.length === 0) return false;
    let first = this.timers[0]!;
    for (const t of this.timers) if (t.at < first.at || (t.at === first.at && t.id < first.id)) first = t;
    this.timers = this.timers.filter((t) => t !== first);
    this.current = Math.max(this.current, first.at);
    first.fn();
    return true;
  }
}

/** Resolve after all queued promise callbacks have run. */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Drive a ManualClock until `done()` holds: settle promises, then fire the next timer, repeatedly.
 * When nothing is scheduled, real I/O may still be under way (a language-model call over HTTP): wait
 * for it in real time, up to `ioWaitMs`, before calling the simulation stalled.
 */
export async function runUntil(clock: ManualClock, done: () => boolean, options: { maxSteps?: number; ioWaitMs?: number } = {}): Promise<void> {
  const maxSteps = options.maxSteps ?? 1_000_000;
  const ioWaitMs = options.ioWaitMs ?? 60_000;
  for (let i = 0; i < maxSteps; i++) {
    await settle();
    if (done()) return;
    if (clock.step()) continue;
    const until = Date.now() + ioWaitMs;
    while (Date.now() < until && clock.pending === 0 && !done()) await new Promise((r) => setTimeout(r, 2));
    if (done()) return;
    if (clock.pending === 0) throw new Error(`simulation stalled: nothing scheduled for ${ioWaitMs} ms and the condition is not met`);
  }
  throw new Error(`simulation did not finish within ${maxSteps} steps`);
}
