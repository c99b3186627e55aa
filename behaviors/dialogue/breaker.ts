/**
 * A circuit breaker: after `failureThreshold` consecutive failures it opens and calls fail fast (the robot
 * answers offline at once instead of waiting on a dead server); after `coolDownMs` it lets one trial call
 * through (half-open); a success closes it, a failure opens it again.
 */

/** Breaker state. */
export type BreakerState = 'closed' | 'open' | 'half-open';

/** Breaker settings; `now` is the runtime's clock (epoch ms). */
export interface BreakerOptions {
  failureThreshold: number;
  coolDownMs: number;
  now: () => number;
}

/** Consecutive-failure circuit breaker with a half-open trial. */
export class CircuitBreaker {
  private failures = 0;
  private openedAt: number | undefined;
  private trialInFlight = false;
  private readonly opts: BreakerOptions;

  constructor(opts: BreakerOptions) {
    if (opts.failureThreshold < 1) throw new RangeError('circuit breaker: failureThreshold must be at least 1');
    this.opts = opts;
  }

  /** Current state (an open breaker past its cool-down reports half-open). */
  get state(): BreakerState {
    if (this.openedAt === undefined) return 'closed';
    return this.opts.now() - this.openedAt >= this.opts.coolDownMs ? 'half-open' : 'open';
  }

  /** May a call go out now? In half-open, only one trial at a time. */
  tryAcquire(): boolean {
    const s = this.state;
    if (s === 'closed') return true;
    if (s === 'open' || this.trialInFlight) return false;
    this.trialInFlight = true;
    return true;
  }

  /** A call succeeded. */
  success(): void {
    this.failures = 0;
    this.openedAt = undefined;
    this.trialInFlight = false;
  }

  /** A call failed (returns true when this failure opened the breaker). */
  failure(): boolean {
    const wasTrial = this.trialInFlight;
    this.trialInFlight = false;
    this.failures++;
    if (wasTrial || (this.openedAt === undefined && this.failures >= this.opts.failureThreshold)) {
      this.openedAt = this.opts.now();
      return true;
    }
    return false;
  }

  /** A call ended without telling anything about the server (cancelled by the caller). */
  release(): void {
    this.trialInFlight = false;
  }

  /** Milliseconds until a trial call is allowed (0 when not open). */
  get retryInMs(): number {
    if (this.openedAt === undefined) return 0;
    return Math.max(0, this.openedAt + this.opts.coolDownMs - this.opts.now());
  }
}
