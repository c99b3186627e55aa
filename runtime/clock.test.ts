import { describe, expect, it } from 'vitest';
import { ManualClock, runUntil } from './clock.js';

const realDelay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

describe('ManualClock and runUntil with real I/O pending', () => {
  it('does not jump to a later timer while tracked I/O is pending: simulated time follows real time', async () => {
    const clock = new ManualClock(0);
    const fired: string[] = [];
    clock.setTimeout(() => fired.push('in an hour'), 3_600_000);
    clock.setTimeout(() => fired.push('after 30 ms'), 30);
    let answeredAt: number | undefined;
    void clock.track(realDelay(150)).then(() => { answeredAt = clock.now(); });
    await runUntil(clock, () => answeredAt !== undefined);
    // The 30 ms timer fell due while the request was pending and fired; the hour-long one did not.
    expect(fired).toEqual(['after 30 ms']);
    expect(answeredAt).toBeGreaterThanOrEqual(140);
    expect(answeredAt).toBeLessThan(3_600_000);
    // With nothing pending any more, the clock jumps again.
    await runUntil(clock, () => fired.length === 2);
    expect(clock.now()).toBe(3_600_000);
  });

  it('a rejected tracked operation is no longer pending, and its rejection reaches the caller', async () => {
    const clock = new ManualClock(0);
    const failing = clock.track(realDelay(20).then(() => { throw new Error('HTTP 500'); }));
    expect(clock.ioPending).toBe(1);
    await expect(failing).rejects.toThrow('HTTP 500');
    expect(clock.ioPending).toBe(0);
  });
});
