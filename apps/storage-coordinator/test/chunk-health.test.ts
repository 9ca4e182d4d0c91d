import { describe, expect, it } from 'vitest';
import { chunkHealth, defaultRepairThreshold, expectedDaysToLoss, type HolderStatus, type ReportedShard } from '../src/domain/chunk-health.ts';

const MIN = 60_000;
const holders = Array.from({ length: 6 }, (_, i) => `node${i}`);
const layout = { k: 4, holders };
const up = (subnets: string[] = holders.map((h) => `net-${h}`)) => new Map<string, HolderStatus>(holders.map((h, i) => [h, { subnet: subnets[i] as string }]));
const stored = (shards: number[], at = 1): ReportedShard[] => shards.map((shard) => ({ shard, node: `node${shard}`, state: 'stored', seq: at }));

describe('chunkHealth', () => {
  it('is healthy with every shard stored, degraded at the threshold, lost below k', () => {
    expect(defaultRepairThreshold(4, 6)).toBe(5);
    expect(defaultRepairThreshold(10, 14)).toBe(12);
    // One parity shard: repair after one loss, not with all live.
    expect(defaultRepairThreshold(2, 3)).toBe(2);
    expect(defaultRepairThreshold(1, 3)).toBe(2);
    expect(chunkHealth(layout, stored([0, 1, 2, 3, 4, 5]), up(), 0)).toMatchObject({ condition: 'healthy', effective: 6, toRebuild: [] });
    const degraded = chunkHealth(layout, stored([0, 1, 2, 3, 4]), up(), 0);
    expect(degraded).toMatchObject({ condition: 'degraded', effective: 5, toRebuild: [5] });
    expect(chunkHealth(layout, stored([0, 1, 2]), up(), 0).condition).toBe('lost');
  });

  it('takes each shard\'s newest report from its current holder only', () => {
    const reports: ReportedShard[] = [...stored([0, 1, 2, 3, 4, 5], 0), { shard: 2, node: 'node2', state: 'corrupt', seq: 10 }, { shard: 3, node: 'elsewhere', state: 'missing', seq: 20 }];
    const health = chunkHealth(layout, reports, up(), 30);
    expect(health.live).toEqual([0, 1, 3, 4, 5]);
    expect(health.toRebuild).toEqual([2]);
  });

  it('waits out a short outage (down, not out) before repairing around a holder', () => {
    const status = up();
    status.set('node4', { subnet: 'net-node4', downSince: 0 });
    status.set('node5', { subnet: 'net-node5', downSince: 0 });
    const soon = chunkHealth(layout, stored([0, 1, 2, 3, 4, 5]), status, 10 * MIN);
    expect(soon).toMatchObject({ condition: 'healthy', waiting: [4, 5] });
    const later = chunkHealth(layout, stored([0, 1, 2, 3, 4, 5]), status, 30 * MIN);
    expect(later).toMatchObject({ condition: 'degraded', live: [0, 1, 2, 3], toRebuild: [4, 5] });
  });

  it('counts shards clumped in one subnet once, and moves the extra ones', () => {
    const health = chunkHealth(layout, stored([0, 1, 2, 3, 4, 5]), up(['a', 'a', 'a', 'b', 'c', 'd']), 0);
    expect(health).toMatchObject({ condition: 'degraded', effective: 4, toRebuild: [1, 2] });
  });
});

describe('expectedDaysToLoss', () => {
  it('shrinks as shards are lost and as nodes fail faster', () => {
    const full = expectedDaysToLoss(14, 10, 0.01);
    const fewer = expectedDaysToLoss(11, 10, 0.01);
    expect(full).toBeGreaterThan(fewer);
    expect(expectedDaysToLoss(11, 10, 0.02)).toBeCloseTo(fewer / 2, 10);
    // One spare (11 of 10): two more failures lose it: 1/(11f) + 1/(10f).
    expect(fewer).toBeCloseTo(1 / 0.11 + 1 / 0.1, 10);
    expect(expectedDaysToLoss(9, 10, 0.01)).toBe(0);
    expect(expectedDaysToLoss(12, 10, 0)).toBe(Number.POSITIVE_INFINITY);
  });
});

describe('a group with one parity shard', () => {
  it('is healthy while every shard is live and degraded after one loss', () => {
    const holders = ['a', 'b', 'c'];
    const status = new Map<string, HolderStatus>(holders.map((h) => [h, { subnet: h }]));
    const all: ReportedShard[] = holders.map((node, shard) => ({ shard, node, state: 'stored', seq: 1 }));
    expect(chunkHealth({ k: 2, holders }, all, status, 0).condition).toBe('healthy');
    expect(chunkHealth({ k: 2, holders }, all.slice(0, 2), status, 0)).toMatchObject({ condition: 'degraded', toRebuild: [2] });
  });
});

describe('shards clumped in one region', () => {
  it('count up to the region cap; the rest are moved by the next repair', () => {
    // Six shards, k = 4, three regions: at most two per region. Four sit in region r0.
    const holders = ['a', 'b', 'c', 'd', 'e', 'f'];
    const regions = ['r0', 'r0', 'r0', 'r0', 'r1', 'r2'];
    const status = new Map<string, HolderStatus>(holders.map((h, i) => [h, { subnet: h, region: regions[i] as string }]));
    const all: ReportedShard[] = holders.map((node, shard) => ({ shard, node, state: 'stored', seq: 1 }));
    const health = chunkHealth({ k: 4, holders, regionCap: 2 }, all, status, 0);
    // Counted: a, b (r0), e (r1), f (r2): 4, at or below the threshold 5.
    expect(health).toMatchObject({ condition: 'degraded', effective: 4, toRebuild: [2, 3], live: [0, 1, 2, 3, 4, 5] });
    // Spread evenly, the same shards are healthy.
    const spread = new Map<string, HolderStatus>(holders.map((h, i) => [h, { subnet: h, region: `r${i % 3}` }]));
    expect(chunkHealth({ k: 4, holders, regionCap: 2 }, all, spread, 0)).toMatchObject({ condition: 'healthy', effective: 6 });
    // Without a cap, regions do not matter.
    expect(chunkHealth({ k: 4, holders }, all, status, 0).condition).toBe('healthy');
  });
});
