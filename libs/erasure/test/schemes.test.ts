/**
 * Scheme descriptions and decodability: shapes, errors, the LRC maximally-recoverable
 * rule checked against rank over a prime field (exhaustively for small codes, at
 * random for larger ones), and monotonicity (losing more never helps).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ModelError,
  type Scheme,
  faultTolerance,
  isRecoverable,
  lrcGroups,
  lrcScheme,
  replicationScheme,
  rsScheme,
  schemeName,
  shardCount,
  shardRole,
  storageOverhead,
  xorScheme,
} from '../src/mod.ts';
import { decodesByRank, generatorRows } from './symbolic-rank.ts';

function subsets(n: number): number[][] {
  const out: number[][] = [];
  for (let mask = 0; mask < 1 << n; mask += 1) {
    const set: number[] = [];
    for (let i = 0; i < n; i += 1) if ((mask >> i) & 1) set.push(i);
    out.push(set);
  }
  return out;
}

const anyScheme: fc.Arbitrary<Scheme> = fc.oneof(
  fc.integer({ min: 1, max: 8 }).map((c) => replicationScheme(c)),
  fc.tuple(fc.integer({ min: 1, max: 20 }), fc.integer({ min: 0, max: 8 })).map(([k, m]) => rsScheme(k, m)),
  fc.integer({ min: 1, max: 20 }).map((k) => xorScheme(k)),
  fc
    .tuple(fc.integer({ min: 1, max: 16 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 0, max: 4 }))
    .filter(([k, l]) => l <= k)
    .map(([k, l, r]) => lrcScheme(k, l, r)),
);

/** A scheme, a set of missing shards, and a superset of it. */
const schemeAndNestedSets = anyScheme.chain((scheme) => {
  const n = shardCount(scheme);
  return fc.tuple(fc.constant(scheme), fc.subarray(Array.from({ length: n }, (_, i) => i))).chain(([s, bigger]) =>
    fc.tuple(fc.constant(s), fc.subarray(bigger), fc.constant(bigger)),
  );
});

describe('scheme shapes', () => {
  it('counts shards, overhead and guaranteed fault tolerance', () => {
    expect([shardCount(replicationScheme(3)), storageOverhead(replicationScheme(3)), faultTolerance(replicationScheme(3))]).toEqual([3, 3, 2]);
    expect([shardCount(rsScheme(10, 4)), storageOverhead(rsScheme(10, 4)), faultTolerance(rsScheme(10, 4))]).toEqual([14, 1.4, 4]);
    expect([shardCount(xorScheme(4)), storageOverhead(xorScheme(4)), faultTolerance(xorScheme(4))]).toEqual([5, 1.25, 1]);
    const azure = lrcScheme(12, 2, 2);
    expect([shardCount(azure), storageOverhead(azure), faultTolerance(azure)]).toEqual([16, 16 / 12, 3]);
    expect(schemeName(azure)).toBe('LRC(12,2,2)');
  });

  it('lays out LRC groups contiguously, larger groups first', () => {
    expect(lrcGroups(lrcScheme(6, 2, 2))).toEqual([
      { data: [0, 1, 2], localParity: 6 },
      { data: [3, 4, 5], localParity: 7 },
    ]);
    expect(lrcGroups(lrcScheme(7, 3, 1)).map((g) => g.data)).toEqual([[0, 1, 2], [3, 4], [5, 6]]);
    const s = lrcScheme(7, 3, 1);
    expect([0, 3, 5, 6, 7, 9, 10].map((i) => shardRole(s, i))).toEqual([
      { role: 'data', group: 0 },
      { role: 'data', group: 1 },
      { role: 'data', group: 2 },
      { role: 'data', group: 2 },
      { role: 'local-parity', group: 0 },
      { role: 'local-parity', group: 2 },
      { role: 'global-parity' },
    ]);
  });

  it('refuses bad parameters and shard indices with codes', () => {
    const code = (f: () => unknown): string | undefined => {
      try {
        f();
      } catch (e) {
        return e instanceof ModelError ? `${e.code} ${e.path}` : 'other';
      }
      return undefined;
    };
    expect(code(() => rsScheme(0, 2))).toBe('scheme.invalid k');
    expect(code(() => rsScheme(4, 1.5))).toBe('scheme.invalid m');
    expect(code(() => lrcScheme(2, 3, 1))).toBe('scheme.invalid l');
    expect(code(() => replicationScheme(300))).toBe('scheme.invalid copies');
    expect(code(() => rsScheme(200, 100))).toBe('scheme.invalid k + m');
    expect(code(() => isRecoverable(rsScheme(4, 2), [1, 6]))).toBe('shard.out_of_range missing[1]');
    expect(code(() => isRecoverable(rsScheme(4, 2), [-1]))).toBe('shard.out_of_range missing[0]');
  });
});

describe('decodability', () => {
  it('RS, XOR and replication: any k of n', () => {
    expect(isRecoverable(rsScheme(4, 2), [0, 5])).toBe(true);
    expect(isRecoverable(rsScheme(4, 2), [0, 1, 5])).toBe(false);
    expect(isRecoverable(rsScheme(4, 2), [3, 3, 3])).toBe(true); // duplicates count once
    expect(isRecoverable(xorScheme(3), [2])).toBe(true);
    expect(isRecoverable(xorScheme(3), [2, 3])).toBe(false);
    expect(isRecoverable(replicationScheme(3), [0, 2])).toBe(true);
    expect(isRecoverable(replicationScheme(3), [0, 1, 2])).toBe(false);
  });

  it('LRC(6,2,2): patterns worked by hand (x, y groups as in the Azure paper)', () => {
    const s = lrcScheme(6, 2, 2); // x0..x2 = 0..2, y0..y2 = 3..5, px = 6, py = 7, p0 = 8, p1 = 9
    expect(isRecoverable(s, [0, 1, 3, 7])).toBe(true); // x0, x1, y0, py: px fixes one x, globals the rest
    expect(isRecoverable(s, [0, 1, 2, 6])).toBe(false); // a whole group and its parity
    expect(isRecoverable(s, [0, 3])).toBe(true); // one per group: local parities alone
    expect(isRecoverable(s, [0, 1, 2])).toBe(true); // px + two globals
    expect(isRecoverable(s, [0, 1, 2, 3])).toBe(true); // px, py, both globals
    expect(isRecoverable(s, [0, 1, 2, 8])).toBe(false); // three unknowns, two equations left
  });

  it('LRC: every failure pattern of (6,2,2), (7,3,1) and (4,2,2) decodes exactly when the generator rank says so', () => {
    for (const s of [lrcScheme(6, 2, 2), lrcScheme(7, 3, 1), lrcScheme(4, 2, 2)]) {
      const rows = generatorRows(s, 7);
      for (const missing of subsets(shardCount(s))) {
        expect([missing, isRecoverable(s, missing)]).toEqual([missing, decodesByRank(rows, new Set(missing))]);
      }
    }
  });

  it('LRC(6,2,2) decodes all 3-failure patterns, 180 of 210 4-failure patterns and no 5-failure pattern', () => {
    const s = lrcScheme(6, 2, 2);
    const count = (f: number): number => subsets(10).filter((m) => m.length === f && isRecoverable(s, m)).length;
    expect([count(3), count(4), count(5)]).toEqual([120, 180, 0]);
  });

  it('RS and XOR agree with the generator rank on every pattern of small codes', () => {
    for (const s of [rsScheme(4, 3), rsScheme(5, 2), xorScheme(5), replicationScheme(4)]) {
      const rows = generatorRows(s, 11);
      for (const missing of subsets(shardCount(s))) expect(isRecoverable(s, missing)).toBe(decodesByRank(rows, new Set(missing)));
    }
  });

  it('property: LRC rule equals the rank check on random larger codes and patterns', () => {
    const lrc = fc
      .tuple(fc.integer({ min: 2, max: 14 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 0, max: 4 }))
      .filter(([k, l]) => l <= k)
      .map(([k, l, r]) => lrcScheme(k, l, r));
    fc.assert(
      fc.property(
        lrc.chain((s) => fc.tuple(fc.constant(s), fc.subarray(Array.from({ length: shardCount(s) }, (_, i) => i)))),
        ([s, missing]) => {
          expect(isRecoverable(s, missing)).toBe(decodesByRank(generatorRows(s, 3), new Set(missing)));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('property: decodability is monotone (losing more never makes a pattern recoverable)', () => {
    fc.assert(
      fc.property(schemeAndNestedSets, ([scheme, smaller, bigger]) => {
        if (isRecoverable(scheme, bigger)) expect(isRecoverable(scheme, smaller)).toBe(true);
        if (!isRecoverable(scheme, smaller)) expect(isRecoverable(scheme, bigger)).toBe(false);
      }),
      { numRuns: 500 },
    );
  });

  it('property: every pattern of at most faultTolerance missing shards decodes', () => {
    fc.assert(
      fc.property(
        anyScheme.chain((s) =>
          fc.tuple(
            fc.constant(s),
            fc.subarray(Array.from({ length: shardCount(s) }, (_, i) => i), { maxLength: Math.min(faultTolerance(s), shardCount(s)) }),
          ),
        ),
        ([s, missing]) => {
          expect(isRecoverable(s, missing)).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });
});
