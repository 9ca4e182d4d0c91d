/**
 * Per-creator publish rate: a token bucket per creator DID, in memory only. It is the
 * adapter's admission policy against floods from one creator (spec 6.4 metadata spam):
 * it depends on arrival times, so it is not a rule of the log and the projector does not
 * apply it (quotas in ./spam.ts bound what a creator can make any node store).
 *
 * Creator DIDs are public (they sign public records), but the buckets are still never
 * persisted or logged; the map is bounded, forgetting the least recently seen creator.
 */

export interface CreatorRateOptions {
  /** Sustained publishes per minute per creator. */
  perMinute: number;
  /** Publishes a creator may make at once before the rate applies. */
  burst: number;
  /** Creators remembered at most. */
  maxCreators: number;
}

export const DEFAULT_CREATOR_RATE: Readonly<CreatorRateOptions> = Object.freeze({ perMinute: 120, burst: 60, maxCreators: 100_000 });

interface Bucket {
  tokens: number;
  at: number;
}

export class CreatorRate {
  readonly #options: CreatorRateOptions;
  readonly #buckets = new Map<string, Bucket>();

  constructor(options: Partial<CreatorRateOptions> = {}) {
    this.#options = { ...DEFAULT_CREATOR_RATE, ...options };
  }

  /** Takes one token for `creator` at `nowMs`: 0 when allowed, else the seconds until one is available. */
  take(creator: string, nowMs: number): number {
    const { perMinute, burst, maxCreators } = this.#options;
    const perMs = perMinute / 60_000;
    const previous = this.#buckets.get(creator);
    const bucket: Bucket = previous
      ? { tokens: Math.min(burst, previous.tokens + (nowMs - previous.at) * perMs), at: nowMs }
      : { tokens: burst, at: nowMs };
    // Re-insert: Map keeps insertion order, so the first key is the least recently seen.
    this.#buckets.delete(creator);
    if (bucket.tokens < 1) {
      this.#buckets.set(creator, bucket);
      return Math.max(1, Math.ceil((1 - bucket.tokens) / perMs / 1000));
    }
    bucket.tokens -= 1;
    this.#buckets.set(creator, bucket);
    if (this.#buckets.size > maxCreators) this.#buckets.delete(this.#buckets.keys().next().value as string);
    return 0;
  }

  get size(): number {
    return this.#buckets.size;
  }
}
