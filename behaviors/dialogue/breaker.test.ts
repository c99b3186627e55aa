import { describe, expect, it } from 'vitest';
import { CircuitBreaker } from './breaker.js';

describe('circuit breaker', () => {
  it('opens after N consecutive failures, allows one trial after the cool-down, closes on success', () => {
    let now = 0;
    const b = new CircuitBreaker({ failureThreshold: 3, coolDownMs: 1_000, now: () => now });
    b.failure(); b.failure(); b.success(); b.failure(); b.failure();
    expect(b.state).toBe('closed'); // a success in between resets the count
    expect(b.failure()).toBe(true);
    expect(b.state).toBe('open');
    expect(b.tryAcquire()).toBe(false);
    expect(b.retryInMs).toBe(1_000);
    now = 1_000;
    expect(b.state).toBe('half-open');
    expect(b.tryAcquire()).toBe(true);
    expect(b.tryAcquire()).toBe(false); // only one trial at a time
    b.success();
    expect(b.state).toBe('closed');
    expect(b.tryAcquire()).toBe(true);
  });

  it('a failed or cancelled trial: failure reopens for a full cool-down, release lets another trial through', () => {
    let now = 0;
    const b = new CircuitBreaker({ failureThreshold: 1, coolDownMs: 500, now: () => now });
    b.failure();
    now = 500;
    expect(b.tryAcquire()).toBe(true);
    b.release();
    expect(b.tryAcquire()).toBe(true);
    expect(b.failure()).toBe(true);
    expect(b.state).toBe('open');
    now = 999;
    expect(b.state).toBe('open');
    now = 1_000;
    expect(b.state).toBe('half-open');
  });

  it('refuses a threshold below 1', () => {
    expect(() => new CircuitBreaker({ failureThreshold: 0, coolDownMs: 1, now: () => 0 })).toThrow(/at least 1/);
  });
});
