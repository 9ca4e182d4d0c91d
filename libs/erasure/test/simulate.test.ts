/**
 * The churn simulation: deterministic per seed, bounded, and in agreement with the
 * closed forms where the two models coincide (independent permanent failures,
 * immediate repair); transient failures waste repairs only when repaired before they
 * end; region diversity survives a whole-region loss that random placement does not;
 * LRC repairs read fewer shards than RS at equal overhead. Runs are kept small (two
 * shared cores): the whole file takes about a second.
 */
import { describe, expect, it } from 'vitest';
import {
  ModelError,
  type PlacementView,
  binomialLossProbability,
  createPrng,
  lrcScheme,
  randomPlacement,
  regionDiversePlacement,
  replicationScheme,
  rsScheme,
  simulate,
  thresholdRepairLoss,
} from '../src/mod.ts';
import { prngFromState } from '../src/prng.ts';

/** No failures of any kind unless a test turns one on. */
const QUIET = { transientFailureRate: 0, permanentFailureRate: 0, subnetOutageRate: 0, regionOutageRate: 0 } as const;

describe('prng', () => {
  it('xoshiro128** matches the reference C output from state {1, 2, 3, 4}', () => {
    const rng = prngFromState([1, 2, 3, 4]);
    expect(Array.from({ length: 6 }, () => rng.nextUint32())).toEqual([11520, 0, 5927040, 70819200, 2031721883, 1637235492]);
  });

  it('seeds the same way every time (values cross-checked against the C reference with the same seeding)', () => {
    const rng = createPrng(1);
    expect(Array.from({ length: 3 }, () => rng.nextUint32())).toEqual([2442144158, 3238099751, 3819917871]);
    const a = createPrng(99);
    const b = createPrng(99);
    for (let i = 0; i < 100; i += 1) expect(a.next()).toBe(b.next());
    expect(createPrng(5).next()).not.toBe(createPrng(6).next());
  });
});

describe('simulate', () => {
  const base = { scheme: rsScheme(10, 4), nodes: 600, chunks: 800, periods: 60 } as const;

  it('is deterministic: the same seed gives an identical result object, another seed a different one', () => {
    const a = simulate({ ...base, seed: 1234 });
    const b = simulate({ ...base, seed: 1234 });
    expect(b).toEqual(a);
    expect(a.events.transientFailures).toBeGreaterThan(0);
    expect(a.repairs).toBeGreaterThan(0);
    expect(simulate({ ...base, seed: 1235 })).not.toEqual(a);
  });

  it('without failures: no loss, no repair, and every shard placed', () => {
    const r = simulate({ ...base, ...QUIET, seed: 1, periods: 5 });
    expect([r.chunksLost, r.repairs, r.shardsRead, r.wastedRepairs, r.unavailableChunkPeriods]).toEqual([0, 0, 0, 0, 0]);
    expect(r.placement.meanShardsPerNode * r.placement.nodes).toBeCloseTo(800 * 14, 6);
    expect(r.placement.skew).toBeGreaterThanOrEqual(1);
    expect(r.placement.skew).toBeLessThan(3);
  });

  it('one period of independent permanent failures loses the binomial fraction of chunks', () => {
    // Chunks share nodes, so one run's losses swing with how many nodes happened to
    // fail (±8% here on top of the ±9% sampling noise); four runs average it out to ±6%.
    const p = 0.2;
    const chunks = 5000;
    let lost = 0;
    for (const seed of [3, 4, 5, 6]) {
      lost += simulate({ ...QUIET, seed, scheme: rsScheme(2, 2), nodes: 5000, chunks, periods: 1, permanentFailureRate: p }).chunksLost;
    }
    const expected = binomialLossProbability(2, 4, p) * chunks; // 136
    expect(Math.abs(lost / 4 / expected - 1)).toBeLessThan(0.2);
  });

  it('permanent failures with immediate repair at a threshold agree with the Markov chain', () => {
    const [k, n, m, p, periods, chunks] = [4, 8, 5, 0.05, 20, 2000] as const;
    const seeds = [7, 8, 9];
    const chain = thresholdRepairLoss({ k, n, repairThreshold: m, p, periods });
    const total = { lost: 0, repairs: 0, written: 0, read: 0, wasted: 0 };
    for (const seed of seeds) {
      const r = simulate({
        ...QUIET,
        seed,
        scheme: rsScheme(k, n - k),
        nodes: 3000,
        chunks,
        periods,
        permanentFailureRate: p,
        repairThreshold: m,
        downToOutPeriods: 0,
      });
      total.lost += r.chunksLost;
      total.repairs += r.repairs;
      total.written += r.shardsWritten;
      total.read += r.shardsRead;
      total.wasted += r.wastedRepairs;
    }
    const runs = seeds.length * chunks;
    // Chain, per 6000 chunks: 89 losses, 11470 repairs, 35672 shards written. Losses are
    // few (±11% sampling noise, more from nodes shared between chunks); repairs many.
    expect(Math.abs(total.lost / (chain.lossProbability * runs) - 1)).toBeLessThan(0.3);
    expect(Math.abs(total.repairs / (chain.expectedRepairs * runs) - 1)).toBeLessThan(0.06);
    expect(Math.abs(total.written / (chain.expectedPiecesWritten * runs) - 1)).toBeLessThan(0.06);
    expect(total.read).toBe(total.repairs * k);
    expect(total.wasted).toBe(0);
  });

  it('transient failures: repaired only after the down-to-out delay, and then wasted when the node returns', () => {
    const transient = { ...QUIET, seed: 11, scheme: rsScheme(6, 3), nodes: 400, chunks: 400, periods: 30, transientFailureRate: 0.02, transientDurationPeriods: 3 };
    const patient = simulate({ ...transient, downToOutPeriods: 3 });
    expect([patient.chunksLost, patient.repairs, patient.wastedRepairs]).toEqual([0, 0, 0]);
    // About 6% of nodes are down at a time, so a few chunks are briefly unreadable
    // (≥ 4 of 9 shards down: ~0.16% of chunk-periods), though none is lost.
    expect(patient.unavailableChunkPeriods).toBeGreaterThan(0);
    expect(patient.unavailableChunkPeriods).toBeLessThan(0.01 * 400 * 30);
    const eager = simulate({ ...transient, downToOutPeriods: 1 });
    expect(eager.chunksLost).toBe(0);
    expect(eager.repairs).toBeGreaterThan(0);
    // Every node comes back, so every rebuilt shard is wasted, except those whose node
    // is still down when the run ends.
    expect(eager.wastedRepairs).toBeLessThanOrEqual(eager.shardsWritten);
    expect(eager.wastedRepairs).toBeGreaterThan(0.8 * eager.shardsWritten);
  });

  it('region diversity survives the permanent loss of one whole region; random placement does not', () => {
    const run = (seed: number, placement: typeof randomPlacement) =>
      simulate({
        ...QUIET,
        seed,
        scheme: replicationScheme(2),
        nodes: 100,
        regions: 2,
        subnetsPerRegion: 5,
        chunks: 200,
        periods: 1,
        regionOutageRate: 0.5,
        outagePermanentProbability: 1,
        placement,
      });
    let oneRegionRuns = 0;
    for (let seed = 1; seed <= 12; seed += 1) {
      const diverse = run(seed, regionDiversePlacement);
      const random = run(seed, randomPlacement);
      // Same seed, same failures, whatever the placement.
      expect(random.events).toEqual(diverse.events);
      if (diverse.events.regionOutages === 1) {
        oneRegionRuns += 1;
        expect(diverse.chunksLost).toBe(0);
        expect(random.chunksLost).toBeGreaterThan(0);
      }
      if (diverse.events.regionOutages === 2) expect([diverse.chunksLost, random.chunksLost]).toEqual([200, 200]);
    }
    expect(oneRegionRuns).toBeGreaterThan(0);
  });

  it('LRC repairs read about half the shards RS does at the same overhead', () => {
    const churn = { seed: 21, nodes: 800, chunks: 600, periods: 40, permanentFailureRate: 0.005 } as const;
    const rs = simulate({ ...churn, scheme: rsScheme(12, 4) });
    const lrc = simulate({ ...churn, scheme: lrcScheme(12, 2, 2) });
    expect(rs.storageOverhead).toBe(lrc.storageOverhead);
    expect(rs.shardsRead / rs.repairs).toBe(12);
    expect(lrc.shardsRead / lrc.repairs).toBeLessThan(8);
  });

  it('refuses options out of range or past the caps', () => {
    const code = (options: Parameters<typeof simulate>[0]): string | undefined => {
      try {
        simulate(options);
      } catch (e) {
        return e instanceof ModelError ? `${e.code} ${e.path}` : String(e);
      }
      return undefined;
    };
    const ok = { seed: 1, scheme: rsScheme(4, 2), nodes: 20, chunks: 5, periods: 2 };
    expect(code(ok)).toBeUndefined();
    expect(code({ ...ok, nodes: 1_000_000 })).toBe('simulation.invalid_option options.nodes');
    expect(code({ ...ok, periods: 20_000 })).toBe('simulation.invalid_option options.periods');
    expect(code({ ...ok, chunks: 200_000, periods: 10_000 })).toBe('simulation.invalid_option options.chunks');
    expect(code({ ...ok, permanentFailureRate: 1.5 })).toBe('simulation.invalid_option options.permanentFailureRate');
    expect(code({ ...ok, repairThreshold: 6 })).toBe('simulation.invalid_option options.repairThreshold');
    expect(code({ ...ok, seed: 0.5 })).toBe('simulation.invalid_option options.seed');
    expect(code({ ...ok, nodes: 3 })).toBe('simulation.invalid_option options.nodes'); // too few nodes for 6 shards
    expect(code({ ...ok, scheme: { kind: 'rs', k: 0, m: 1 } })).toBe('scheme.invalid k');
  });
});

describe('placement functions', () => {
  /** 3 regions × 2 subnets × 5 nodes; nodes 0..29, node i in subnet i mod 6. */
  function view(down: ReadonlySet<number> = new Set()): PlacementView {
    const subnetOf = (node: number): number => node % 6;
    const regionOf = (node: number): number => Math.floor(subnetOf(node) / 2);
    const regions = [0, 1, 2].map((r) => Array.from({ length: 30 }, (_, i) => i).filter((i) => regionOf(i) === r));
    return { regionCount: 3, regionNodes: (r) => regions[r]!, isUp: (n) => !down.has(n), regionOf, subnetOf };
  }

  it('region-diverse: distinct up nodes, at most ceil(n / regions) per region, distinct subnets', () => {
    const rng = createPrng(5);
    for (let trial = 0; trial < 50; trial += 1) {
      const v = view(new Set([0, 1, 2]));
      const chosen = regionDiversePlacement(v, { count: 6, current: [] }, rng);
      expect(chosen).toHaveLength(6);
      expect(new Set(chosen).size).toBe(6);
      for (const node of chosen) expect(v.isUp(node)).toBe(true);
      const perRegion = [0, 0, 0];
      for (const node of chosen) perRegion[v.regionOf(node)]! += 1;
      expect(perRegion).toEqual([2, 2, 2]);
      expect(new Set(chosen.map(v.subnetOf)).size).toBe(6);
    }
  });

  it('region-diverse: never picks current or avoided nodes, and relaxes rules rather than fail', () => {
    const v = view();
    const current = [0, 6, 12]; // three shards in region 0, subnet 0
    const chosen = regionDiversePlacement(v, { count: 9, current, avoid: [1, 7] }, createPrng(8));
    expect(chosen).toHaveLength(9);
    for (const node of chosen) expect([...current, 1, 7]).not.toContain(node);
    const all = [...current, ...chosen];
    const perRegion = [0, 0, 0];
    for (const node of all) perRegion[v.regionOf(node)]! += 1;
    expect(perRegion).toEqual([4, 4, 4]);
  });

  it('returns fewer nodes when not enough are up', () => {
    const down = new Set(Array.from({ length: 28 }, (_, i) => i));
    expect(regionDiversePlacement(view(down), { count: 4, current: [] }, createPrng(1)).sort()).toEqual([28, 29]);
    expect(randomPlacement(view(down), { count: 4, current: [] }, createPrng(1)).sort()).toEqual([28, 29]);
  });
});
