/**
 * Repair plans: the cheapest read set per scheme, errors when not recoverable, and
 * properties: a plan reads only readable shards, and the shards it reads really
 * rebuild the lost ones (checked by rank over a prime field).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ModelError,
  type Scheme,
  isRecoverable,
  lrcScheme,
  planRepair,
  replicationScheme,
  rsScheme,
  shardCount,
  tryPlanRepair,
  xorScheme,
} from '../src/mod.ts';
import { generatorRows, rebuildsByRank } from './symbolic-rank.ts';

describe('planRepair', () => {
  it('replication reads one surviving copy', () => {
    expect(planRepair(replicationScheme(3), [0])).toEqual({ method: 'copy', rebuild: [0], read: [1] });
    expect(planRepair(replicationScheme(3), [0], { unavailable: [1] })).toEqual({ method: 'copy', rebuild: [0], read: [2] });
  });

  it('RS reads the k lowest readable shards', () => {
    expect(planRepair(rsScheme(4, 2), [5])).toEqual({ method: 'decode', rebuild: [5], read: [0, 1, 2, 3] });
    expect(planRepair(rsScheme(4, 2), [1], { unavailable: [2] })).toEqual({ method: 'decode', rebuild: [1], read: [0, 3, 4, 5] });
    expect(planRepair(xorScheme(3), [0]).read).toEqual([1, 2, 3]);
  });

  it('nothing lost: nothing to read', () => {
    expect(planRepair(rsScheme(4, 2), [], { unavailable: [0, 1] })).toEqual({ method: 'none', rebuild: [], read: [] });
  });

  it('LRC: one loss in a group reads the rest of the group (k/l shards, not k)', () => {
    const s = lrcScheme(12, 2, 2); // groups 0..5 (+12) and 6..11 (+13); globals 14, 15
    expect(planRepair(s, [3])).toEqual({ method: 'local', rebuild: [3], read: [0, 1, 2, 4, 5, 12] });
    expect(planRepair(s, [13])).toEqual({ method: 'local', rebuild: [13], read: [6, 7, 8, 9, 10, 11] });
    // One loss in each group: two local repairs.
    expect(planRepair(s, [0, 7])).toEqual({ method: 'local', rebuild: [0, 7], read: [1, 2, 3, 4, 5, 6, 8, 9, 10, 11, 12, 13] });
  });

  it('LRC: two losses in a group decode through a global parity, reading exactly k', () => {
    const s = lrcScheme(12, 2, 2);
    const plan = planRepair(s, [0, 1]);
    expect(plan).toEqual({ method: 'decode', rebuild: [0, 1], read: [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 14] });
    // A lost global parity needs every data shard.
    expect(planRepair(s, [15]).read).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    // An unavailable group member forces a decode too, and is not read.
    const p = planRepair(s, [0], { unavailable: [1] });
    expect(p.method).toBe('decode');
    expect(p.read).not.toContain(1);
    expect(p.read).toHaveLength(12);
  });

  it('LRC: a local repair still works when the rest of the object cannot be decoded', () => {
    const s = lrcScheme(6, 2, 2);
    expect(isRecoverable(s, [0, 3, 4, 5, 8, 9])).toBe(false);
    expect(planRepair(s, [0], { unavailable: [3, 4, 5, 8, 9] })).toEqual({ method: 'local', rebuild: [0], read: [1, 2, 6] });
  });

  it('refuses an unrecoverable loss with repair.unrecoverable', () => {
    expect(tryPlanRepair(rsScheme(4, 2), [0, 1, 2])).toBeUndefined();
    expect(() => planRepair(rsScheme(4, 2), [0, 1], { unavailable: [5] })).toThrow(ModelError);
    try {
      planRepair(lrcScheme(6, 2, 2), [0, 1, 2, 6]);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ModelError);
      expect((e as ModelError).code).toBe('repair.unrecoverable');
      expect((e as ModelError).message).toContain('[0, 1, 2, 6]');
    }
    expect(() => planRepair(rsScheme(4, 2), [9])).toThrow(/shard\.out_of_range: lost\[0\]/);
  });
});

const anyScheme: fc.Arbitrary<Scheme> = fc.oneof(
  fc.integer({ min: 1, max: 6 }).map((c) => replicationScheme(c)),
  fc.tuple(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 0, max: 5 })).map(([k, m]) => rsScheme(k, m)),
  fc.integer({ min: 1, max: 12 }).map((k) => xorScheme(k)),
  fc
    .tuple(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 0, max: 3 }))
    .filter(([k, l]) => l <= k)
    .map(([k, l, r]) => lrcScheme(k, l, r)),
);

/** A scheme with disjoint lost and unavailable sets. */
const scenario = anyScheme.chain((scheme) => {
  const n = shardCount(scheme);
  return fc
    .tuple(fc.subarray(Array.from({ length: n }, (_, i) => i)), fc.subarray(Array.from({ length: n }, (_, i) => i)))
    .map(([lost, other]) => ({ scheme, lost, unavailable: other.filter((i) => !lost.includes(i)) }));
});

describe('planRepair properties', () => {
  it('reads only readable shards, rebuilds exactly the lost ones, and what it reads does rebuild them', () => {
    fc.assert(
      fc.property(scenario, ({ scheme, lost, unavailable }) => {
        const plan = tryPlanRepair(scheme, lost, { unavailable });
        const rows = generatorRows(scheme, 5);
        const n = shardCount(scheme);
        const readable = Array.from({ length: n }, (_, i) => i).filter((i) => !lost.includes(i) && !unavailable.includes(i));
        if (plan === undefined) {
          // Then not even every readable shard together can rebuild them.
          expect(rebuildsByRank(rows, readable, lost)).toBe(false);
          return;
        }
        expect(plan.rebuild).toEqual([...lost].sort((a, b) => a - b));
        for (const i of plan.read) expect(readable).toContain(i);
        expect(new Set(plan.read).size).toBe(plan.read.length);
        expect(rebuildsByRank(rows, plan.read, lost)).toBe(true);
      }),
      { numRuns: 400 },
    );
  });

  it('never reads more than k shards, and a recoverable pattern always gets a plan', () => {
    fc.assert(
      fc.property(scenario, ({ scheme, lost, unavailable }) => {
        const k = scheme.kind === 'replication' ? 1 : scheme.k;
        const plan = tryPlanRepair(scheme, lost, { unavailable });
        if (isRecoverable(scheme, [...lost, ...unavailable])) expect(plan).toBeDefined();
        if (plan) expect(plan.read.length).toBeLessThanOrEqual(k);
      }),
      { numRuns: 400 },
    );
  });
});
