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

/** An HTTP `Retry-After` value (seconds, or an HTTP date) as milliseconds from now, or undefined. */
export function retryAfterMs(value: string | null, now: number = Date.now()): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** Why a `fetch` failed before any answer: the system error code (`ECONNREFUSED`, `ENOTFOUND`…), else its message. */
export function networkReason(e: unknown): string {
  const cause = (e as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (e as Error).message ?? String(e);
}
