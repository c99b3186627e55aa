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
 * Real I/O the simulation waits for (a language-model call over HTTP) is registered with `track()`:
 * while any is pending, `runUntil` lets simulated time pass only as fast as real time.
 */
export class ManualClock implements Clock {
  readonly source = 'simulated' as const;
  private current: number;
  private nextId = 1;
  private timers: Timer[] = [];
  private inFlight = 0;
  private ioWaiters: (() => void)[] = [];

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

  /** Number of tracked real operations still pending. */
  get ioPending(): number {
    return this.inFlight;
  }

  /** When the earliest timer is due; undefined when none is set. */
  get nextAt(): number | undefined {
    let at: number | undefined;
    for (const t of this.timers) if (at === undefined || t.at < at) at = t.at;
    return at;
  }

  /**
   * Register real I/O the simulation depends on: until `work` settles, the clock does not jump ahead
   * of it (see `runUntil`). Returns `work`'s own result.
   */
  track<T>(work: Promise<T>): Promise<T> {
    this.inFlight++;
    const done = () => {
      this.inFlight--;
      for (const wake of [...this.ioWaiters]) wake();
    };
    work.then(done, done);
    return work;
  }

  /** Resolve when a tracked operation settles, or after `realMs` of real time, whichever is first. */
  waitForIo(realMs: number): Promise<void> {
    return new Promise((resolve) => {
      const finish = () => {
        clearTimeout(timer);
        this.ioWaiters = this.ioWaiters.filter((w) => w !== finish);
        resolve();
      };
      const timer = setTimeout(finish, Math.max(0, realMs));
      this.ioWaiters.push(finish);
    });
  }

  /**
   * Fire the earliest timer if it is due at or before `ms` and return true; otherwise move time to `ms`
   * and return false. Used to let simulated time follow real time while I/O is pending.
   */
  stepUntil(ms: number): boolean {
    const at = this.nextAt;
    if (at !== undefined && at <= ms) return this.step();
    this.current = Math.max(this.current, ms);
    return false;
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

/** Longest real wait between two looks at the simulation while tracked I/O is pending: simulated time lags real time by at most this. */
const IO_POLL_MS = 2;

/**
 * Drive a ManualClock until `done()` holds: settle promises, then fire the next timer, repeatedly.
 * While tracked real I/O is pending (`ManualClock.track`), simulated time never jumps: it follows real
 * time, firing the timers that fall due meanwhile, so a slow or failing request costs the simulated
 * session what it costs a real one (a reply timeout measured in real time is then the same span of
 * simulated time). When nothing is scheduled, untracked real I/O may still be under way: wait for it
 * in real time, up to `ioWaitMs`, before calling the simulation stalled.
 */
export async function runUntil(clock: ManualClock, done: () => boolean, options: { maxSteps?: number; ioWaitMs?: number } = {}): Promise<void> {
  const maxSteps = options.maxSteps ?? 1_000_000;
  const ioWaitMs = options.ioWaitMs ?? 60_000;
  // While I/O is pending: the real and simulated instants simulated time is measured from.
  let anchor: { real: number; sim: number } | null = null;
  for (let i = 0; i < maxSteps; i++) {
    await settle();
    if (done()) return;
    if (clock.ioPending > 0) {
      anchor ??= { real: performance.now(), sim: clock.now() };
      const next = clock.nextAt;
      const ahead = anchor.sim + (performance.now() - anchor.real);
      await clock.waitForIo(next === undefined ? IO_POLL_MS : Math.min(IO_POLL_MS, next - ahead));
      // All real time since the I/O began counts, the work done between waits included.
      const target = anchor.sim + (performance.now() - anchor.real);
      while (clock.stepUntil(target)) {
        await settle();
        if (done()) return;
      }
      continue;
    }
    anchor = null;
    if (clock.step()) continue;
    const until = Date.now() + ioWaitMs;
    while (Date.now() < until && clock.pending === 0 && !done()) await new Promise((r) => setTimeout(r, 2));
    if (done()) return;
    if (clock.pending === 0) throw new Error(`simulation stalled: nothing scheduled for ${ioWaitMs} ms and the condition is not met`);
  }
  throw new Error(`simulation did not finish within ${maxSteps} steps`);
}
