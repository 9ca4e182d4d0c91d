/**
 * Which code a chunk gets, by popularity tier (spec 7.1, 7.2): hot content is read
 * often, so it gets more shards spread wider (more holders to read from, more
 * parity); long-tail content is rarely read, so it gets the cheapest durable code. The
 * defaults are the codes the issue benchmarks; an operator can change them. Pure.
 */

import { MAX_SHARDS, schemeShardCount, type ErasureScheme, type PopularityTier } from '@dmf/protocol';
import { lrcScheme, replicationScheme, rsScheme, type Scheme as ModelScheme } from '@dmf/erasure';

/** The wire format's scheme (erasure_group.scheme). */
export type Scheme = ErasureScheme;

export const DEFAULT_TIER_SCHEMES: Readonly<Record<PopularityTier, Scheme>> = Object.freeze({
  // 2× storage, 16 holders: reads spread over many nodes, 8 may fail.
  hot: { type: 'rs', k: 8, m: 8 },
  // 1.4×, 14 holders, 4 may fail: the common case.
  warm: { type: 'rs', k: 10, m: 4 },
  // 1.18×, 20 holders, 3 may fail: cheapest that stays durable with repair.
  long_tail: { type: 'rs', k: 17, m: 3 },
});

/** Shards a scheme writes (the wire format's own count). */
export const shardCount = schemeShardCount;

/** Shards needed to read the chunk back (the least; an LRC may need more for some patterns). */
export function shardsNeeded(scheme: Scheme): number {
  return scheme.type === 'replication' ? 1 : scheme.k;
}

/** Storage used per byte stored. */
export function overhead(scheme: Scheme): number {
  return shardCount(scheme) / shardsNeeded(scheme);
}

/** The scheme asked for, if any, else the tier's; checked so a bad request names the field. */
export function schemeFor(tier: PopularityTier, requested?: Scheme, tiers: Readonly<Record<PopularityTier, Scheme>> = DEFAULT_TIER_SCHEMES): Scheme {
  const scheme = requested ?? tiers[tier];
  const problem = schemeProblem(scheme);
  if (problem) throw new RangeError(`scheme: ${problem}`);
  return scheme;
}

/** Why a scheme cannot be used, or undefined. At most 255 shards (GF(2^8) codes). */
export function schemeProblem(scheme: Scheme): string | undefined {
  const positive = (name: string, v: number, min = 1) => (Number.isSafeInteger(v) && v >= min ? undefined : `${name} must be an integer >= ${min}, got ${v}`);
  const problem =
    scheme.type === 'rs'
      ? positive('k', scheme.k) ?? positive('m', scheme.m, 0)
      : scheme.type === 'lrc'
        ? positive('k', scheme.k) ?? positive('l', scheme.l) ?? positive('r', scheme.r, 0) ?? (scheme.k % scheme.l === 0 ? undefined : `k (${scheme.k}) must split evenly into l (${scheme.l}) local groups`)
        : positive('copies', scheme.copies);
  if (problem) return problem;
  return shardCount(scheme) <= MAX_SHARDS ? undefined : `${shardCount(scheme)} shards; at most ${MAX_SHARDS}`;
}

/**
 * The wire format's scheme (`type`: rs | lrc | replication) as @dmf/erasure's model
 * describes it (`kind`, with xor besides), for its decodability, repair planning and
 * durability functions: the one place the two meet.
 */
export function modelScheme(scheme: Scheme): ModelScheme {
  switch (scheme.type) {
    case 'rs':
      return rsScheme(scheme.k, scheme.m);
    case 'lrc':
      return lrcScheme(scheme.k, scheme.l, scheme.r);
    case 'replication':
      return replicationScheme(scheme.copies);
  }
}
