import { describe, expect, it } from 'vitest';
import { backoffDelay, sleep } from './backoff.js';

describe('backoffDelay', () => {
  const policy = { baseMs: 500, maxMs: 30_000 };

  it('doubles from the base with each failure and stops at the cap', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8].map((a) => backoffDelay(a, policy))).toEqual([500, 1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000]);
    expect(backoffDelay(10_000, policy)).toBe(30_000);
    expect(backoffDelay(0, policy)).toBe(500);
  });

  it('with jitter waits between half and all of the delay, never more than the cap', () => {
    expect(backoffDelay(3, policy, () => 0)).toBe(1_000);
    expect(backoffDelay(3, policy, () => 0.5)).toBe(1_500);
    expect(backoffDelay(3, policy, () => 0.999999)).toBe(2_000);
    for (let a = 1; a < 40; a++) {
      const d = backoffDelay(a, policy, Math.random);
      expect(d).toBeGreaterThanOrEqual(Math.min(30_000, 500 * 2 ** (a - 1)) / 2);
      expect(d).toBeLessThanOrEqual(30_000);
    }
  });
});

describe('sleep', () => {
  it('waits the time it is given', async () => {
    const t0 = performance.now();
    await sleep(30);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(25);
  });

  it('ends early, without rejecting, when its signal aborts', async () => {
    const ac = new AbortController();
    const t0 = performance.now();
    setTimeout(() => ac.abort(new Error('stopping')), 20);
    await expect(sleep(60_000, ac.signal)).resolves.toBeUndefined();
    expect(performance.now() - t0).toBeLessThan(5_000);
  });

  it('returns at once when the signal has already aborted', async () => {
    const ac = new AbortController();
    ac.abort();
    const t0 = performance.now();
    await sleep(60_000, ac.signal);
    expect(performance.now() - t0).toBeLessThan(1_000);
  });
});
