import { describe, expect, it } from 'vitest';
import { chunkHealth, type HolderStatus, type ReportedShard } from '../src/domain/chunk-health.ts';
import type { StorageNode } from '../src/domain/placement.ts';
import { repairTaskFor, RepairTaskError } from '../src/domain/repair-task.ts';

const GiB = 2 ** 30;
const node = (i: number): StorageNode => ({ nodeId: `node${i}`, region: `r${i % 4}`, subnet: `s${i}`, freeBytes: 10 * GiB, uptimePpm: 999_000 });
const candidates = Array.from({ length: 12 }, (_, i) => node(i));

function state(n: number, k: number, storedShards: number[], status: Map<string, HolderStatus>, now = 0) {
  const holders = Array.from({ length: n }, (_, i) => `node${i}`);
  const reports: ReportedShard[] = storedShards.map((shard) => ({ shard, node: `node${shard}`, state: 'stored', seq: 1 }));
  for (const h of holders) if (!status.has(h)) status.set(h, { subnet: `s${h.slice(4)}` });
  return { holders, health: chunkHealth({ k, holders }, reports, status, now) };
}

describe('repairTaskFor', () => {
  it('reads k live shards and rebuilds the lost ones on nodes that hold none of the group', () => {
    const { holders, health } = state(6, 4, [0, 1, 2, 3], new Map());
    const task = repairTaskFor({ chunk: 'bafkreichunk', scheme: { type: 'rs', k: 4, m: 2 }, shardBytes: 1000, holders, health, candidates });
    expect(task.method).toBe('decode');
    expect(task.read).toEqual([0, 1, 2, 3].map((shard) => ({ shard, node: `node${shard}` })));
    expect(task.rebuild.map((r) => r.shard)).toEqual([4, 5]);
    for (const r of task.rebuild) expect(['node0', 'node1', 'node2', 'node3']).not.toContain(r.node);
    expect(new Set(task.rebuild.map((r) => r.node)).size).toBe(2);
  });

  it('repairs an LRC loss from its local group only', () => {
    const n = 16;
    const stored = Array.from({ length: n }, (_, i) => i).filter((i) => i !== 2);
    const { holders, health } = state(n, 12, stored, new Map());
    const task = repairTaskFor({ chunk: 'bafkreilrc', scheme: { type: 'lrc', k: 12, l: 2, r: 2 }, shardBytes: 1000, holders, health: { ...health, toRebuild: [2] }, candidates: Array.from({ length: 20 }, (_, i) => node(i)) });
    expect(task.method).toBe('local');
    expect(task.read.map((r) => r.shard)).toEqual([0, 1, 3, 4, 5, 12]);
  });

  it('never reads from a holder that is down, and says when nothing can be done', () => {
    const status = new Map<string, HolderStatus>([['node0', { subnet: 's0', downSince: 0 }]]);
    // node0 down (not out yet), node5 lost: read 1-4, not 0.
    const { holders, health } = state(6, 4, [0, 1, 2, 3, 4], status, 60_000);
    const task = repairTaskFor({ chunk: 'bafkreidown', scheme: { type: 'rs', k: 4, m: 2 }, shardBytes: 1000, holders, health: { ...health, toRebuild: [5] }, candidates });
    expect(task.read.map((r) => r.shard)).toEqual([1, 2, 3, 4]);
    const lost = state(6, 4, [0, 1, 2], new Map());
    expect(() => repairTaskFor({ chunk: 'bafkreilost', scheme: { type: 'rs', k: 4, m: 2 }, shardBytes: 1000, holders: lost.holders, health: lost.health, candidates })).toThrow(RepairTaskError);
    const healthy = state(6, 4, [0, 1, 2, 3, 4, 5], new Map());
    expect(() => repairTaskFor({ chunk: 'bafkreiok', scheme: { type: 'rs', k: 4, m: 2 }, shardBytes: 1000, holders: healthy.holders, health: healthy.health, candidates })).toThrow(/repair\.not_needed/);
    expect(() => repairTaskFor({ chunk: 'bafkreichunk', scheme: { type: 'rs', k: 4, m: 2 }, shardBytes: 1000, ...state(6, 4, [0, 1, 2, 3], new Map()), candidates: candidates.slice(0, 4) })).toThrow(/repair\.no_nodes/);
  });
});

describe('repair placement keeps the group spread', () => {
  it('puts a rebuilt shard in a region the kept shards do not use, never on a holder of a live shard', () => {
    // Eight nodes in four regions; node4 (r0) has by far the most room, so a placement blind
    // to the kept shards' regions would pick it for any shard.
    const nodes: StorageNode[] = Array.from({ length: 8 }, (_, i) => ({ nodeId: `n${i}`, region: `r${i % 4}`, subnet: `s${i}`, freeBytes: i === 4 ? 2 ** 52 : 2 ** 34, uptimePpm: 1_000_000 }));
    const holders = ['n0', 'n1', 'n2', 'n3'];
    const status = new Map<string, HolderStatus>(nodes.map((n) => [n.nodeId, { subnet: n.subnet, region: n.region }]));
    const reports: ReportedShard[] = [0, 2, 3].map((shard) => ({ shard, node: holders[shard] as string, state: 'stored', seq: 1 }));
    const health = chunkHealth({ k: 2, holders, regionCap: 1 }, reports, status, 0);
    expect(health.toRebuild).toEqual([1]);
    const task = repairTaskFor({ chunk: 'c', scheme: { type: 'rs', k: 2, m: 2 }, shardBytes: 100, holders, health, candidates: nodes });
    const target = nodes.find((n) => n.nodeId === task.rebuild[0]?.node) as StorageNode;
    // r0, r2, r3 hold kept shards: only r1 (n1 lost its shard, n5) is free.
    expect(target.region).toBe('r1');
    expect(['n0', 'n2', 'n3']).not.toContain(target.nodeId);
  });
});
