/**
 * Failed attempts per key (a client address) in a sliding window, in memory: enough to slow a guesser
 * down on one server process. Logins are counted in the database instead (`server_login_attempts`),
 * since a lockout must survive a restart; enrollment codes carry 100 bits, so this is a courtesy limit.
 */
export class AttemptWindow {
  readonly #failures = new Map<string, number[]>();
  readonly #o: { max: number; windowMs: number; now: () => number; maxKeys?: number };

  constructor(o: { max: number; windowMs: number; now: () => number; maxKeys?: number }) {
    this.#o = o;
  }

  /** Count one failure for `key`. */
  add(key: string): void {
    const now = this.#o.now();
    const list = this.#recent(key, now);
    list.push(now);
    this.#failures.set(key, list);
    // Bounded memory: when too many keys are tracked, the oldest ones are forgotten first.
    if (this.#failures.size > (this.#o.maxKeys ?? 10_000)) this.#failures.delete(this.#failures.keys().next().value!);
  }

  /** How long `key` must wait before trying again (0: it may try now). */
  blockedForMs(key: string): number {
    const now = this.#o.now();
    const list = this.#recent(key, now);
    if (list.length < this.#o.max) return 0;
    return list[list.length - this.#o.max]! + this.#o.windowMs - now;
  }

  #recent(key: string, now: number): number[] {
    const list = (this.#failures.get(key) ?? []).filter((t) => now - t < this.#o.windowMs);
    if (list.length === 0) this.#failures.delete(key);
    return list;
  }
}
