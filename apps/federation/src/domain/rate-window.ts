/**
 * A sliding one-window counter per key (spec 9.1: admission is rate-limited so a sybil
 * swarm cannot flood the registry). Pure bookkeeping; the caller passes the time.
 */
export class RateWindow {
  readonly #limit: number;
  readonly #windowMs: number;
  readonly #hits = new Map<string, number[]>();

  constructor(limit: number, windowMs: number) {
    if (!Number.isSafeInteger(limit) || limit < 0) throw new RangeError(`limit: must be a non-negative integer, got ${limit}`);
    if (!(windowMs > 0)) throw new RangeError(`windowMs: must be positive, got ${windowMs}`);
    this.#limit = limit;
    this.#windowMs = windowMs;
  }

  /** Seconds until `key` may be counted again, or 0 when it may now. */
  retryAfterSeconds(key: string, now: number): number {
    const hits = this.#live(key, now);
    if (hits.length < this.#limit) return 0;
    return Math.max(1, Math.ceil(((hits[0] as number) + this.#windowMs - now) / 1000));
  }

  /** Counts one for `key`. */
  hit(key: string, now: number): void {
    this.#hits.set(key, [...this.#live(key, now), now]);
  }

  #live(key: string, now: number): number[] {
    const live = (this.#hits.get(key) ?? []).filter((t) => now - t < this.#windowMs);
    if (live.length === 0) this.#hits.delete(key);
    else this.#hits.set(key, live);
    return live;
  }
}
