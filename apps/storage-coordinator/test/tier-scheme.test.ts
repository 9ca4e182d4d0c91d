import { describe, expect, it } from 'vitest';
import { isRecoverable, shardCount as modelShardCount } from '@dmf/erasure';
import { DEFAULT_TIER_SCHEMES, modelScheme, overhead, schemeFor, schemeProblem, shardCount } from '../src/domain/tier-scheme.ts';

describe('schemeFor', () => {
  it('gives hot content more, wider spread shards and long-tail content the cheapest durable code', () => {
    const hot = schemeFor('hot');
    const warm = schemeFor('warm');
    const tail = schemeFor('long_tail');
    expect(shardCount(hot)).toBeGreaterThan(shardCount(warm));
    expect(overhead(hot)).toBeGreaterThan(overhead(warm));
    expect(overhead(warm)).toBeGreaterThan(overhead(tail));
    expect(tail).toEqual(DEFAULT_TIER_SCHEMES.long_tail);
  });

  it('takes a requested scheme, and refuses one it cannot encode, naming why', () => {
    expect(schemeFor('warm', { type: 'lrc', k: 12, l: 2, r: 2 })).toEqual({ type: 'lrc', k: 12, l: 2, r: 2 });
    expect(overhead({ type: 'lrc', k: 12, l: 2, r: 2 })).toBeCloseTo(16 / 12);
    expect(() => schemeFor('warm', { type: 'rs', k: 200, m: 100 })).toThrow('scheme: 300 shards; at most 255');
    expect(schemeProblem({ type: 'lrc', k: 12, l: 5, r: 2 })).toBe('k (12) must split evenly into l (5) local groups');
    expect(schemeProblem({ type: 'rs', k: 0, m: 2 })).toBe('k must be an integer >= 1, got 0');
    expect(schemeProblem({ type: 'replication', copies: 3 })).toBeUndefined();
  });

  it('hands the wire scheme to the durability model with the same shards and the same tolerance', () => {
    for (const wire of [DEFAULT_TIER_SCHEMES.warm, { type: 'lrc', k: 12, l: 2, r: 2 } as const, { type: 'replication', copies: 3 } as const]) {
      const model = modelScheme(wire);
      expect(modelShardCount(model)).toBe(shardCount(wire));
    }
    const rs = modelScheme({ type: 'rs', k: 10, m: 4 });
    expect(isRecoverable(rs, new Set([0, 1, 2, 3]))).toBe(true);
    expect(isRecoverable(rs, new Set([0, 1, 2, 3, 4]))).toBe(false);
  });
});
