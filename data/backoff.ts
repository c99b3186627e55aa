/**
 * The one retry schedule of every device and service client (alert outbox, language model, camera,
 * microphone): exponential backoff with a cap and optional jitter, and a sleep that ends early when
 * its signal aborts.
 */
import { setTimeout as delay } from 'node:timers/promises';

/** Retry schedule: the first retry after about `baseMs`, doubling up to `maxMs`. */
export interface BackoffPolicy {
  baseMs: number;
  maxMs: number;
}

/**
 * Delay before retry `attempt` (1 = after the first failure): `baseMs · 2^(attempt−1)` capped at
 * `maxMs`. With `random` (returning [0, 1)) it has "equal jitter": between half and all of that, so
 * clients that failed together do not retry together; without it, the exact doubling.
 */
export function backoffDelay(attempt: number, policy: BackoffPolicy, random?: () => number): number {
  const exp = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, Math.min(attempt - 1, 30)));
  return random ? Math.round(exp / 2 + (exp / 2) * random()) : exp;
}

/** Wait `ms`; resolves early (never rejects) when `signal` aborts, so a stopping loop is not kept waiting. */
export async function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return;
  try {
    await delay(ms, undefined, signal ? { signal } : {});
  } catch (error) {
    if (!signal?.aborted) throw error;
  }
}
