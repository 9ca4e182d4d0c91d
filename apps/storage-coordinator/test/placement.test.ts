import { describe, expect, it } from 'vitest';
import { placeShards, PlacementError, rendezvousUniform, type StorageNode } from '../src/domain/placement.ts';

const GiB = 2 ** 30;

function nodes(regions: number, perRegion: number, o: Partial<StorageNode> = {}): StorageNode[] {
  return Array.from({ length: regions * perRegion }, (_, i) => ({
    nodeId: `did:key:node${i}`,
    region: `region-${i % regions}`,
    subnet: `subnet-${i}`,
    freeBytes: 100 * GiB,
    uptimePpm: 999_000,
    ...o,
  }));
}

const request = (chunk: string, shards = 6) => ({ chunk, shards, shardBytes: 1 << 20 });

describe('placeShards', () => {
  it('is deterministic: the same inputs in any order give the same holders', () => {
    const all = nodes(4, 10);
    const first = placeShards(request('bafkreichunk1'), all).map((n) => n.nodeId);
    expect(placeShards(request('bafkreichunk1'), [...all].reverse()).map((n) => n.nodeId)).toEqual(first);
    expect(new Set(first).size).toBe(6);
    // Another chunk lands elsewhere.
    expect(placeShards(request('bafkreichunk2'), all).map((n) => n.nodeId)).not.toEqual(first);
  });

  it('spreads a group over regions: never two in one region while another region has none', () => {
    const spread = placeShards(request('bafkreispread', 6), nodes(6, 5));
    expect(new Set(spread.map((n) => n.region)).size).toBe(6);
    const three = placeShards(request('bafkreithree', 6), nodes(3, 10));
    const perRegion = [...three.reduce((m, n) => m.set(n.region, (m.get(n.region) ?? 0) + 1), new Map<string, number>()).values()];
    expect(perRegion.sort()).toEqual([2, 2, 2]);
  });

  it('avoids putting two shards in one subnet when another subnet of the region is free', () => {
    const all = nodes(1, 6).map((n, i) => ({ ...n, subnet: i < 4 ? 'crowded' : `own-${i}` }));
    const placed = placeShards(request('bafkreisubnet', 3), all);
    expect(placed.filter((n) => n.subnet === 'crowded').length).toBeLessThanOrEqual(1);
  });

  it('gives a node with twice the free capacity about twice the shards', () => {
    const all = nodes(1, 10).map((n, i) => (i === 0 ? { ...n, freeBytes: 200 * GiB } : n));
    let big = 0;
    let other = 0;
    for (let c = 0; c < 3000; c++) {
      const [holder] = placeShards(request(`bafkreichunk${c}`, 1), all);
      if (holder?.nodeId === 'did:key:node0') big++;
      else if (holder?.nodeId === 'did:key:node1') other++;
    }
    expect(big / other).toBeGreaterThan(1.6);
    expect(big / other).toBeLessThan(2.5);
  });

  it('moves nothing when a node that holds no shard of the group leaves', () => {
    const all = nodes(4, 8);
    const before = placeShards(request('bafkreistable'), all);
    const bystander = all.find((n) => !before.includes(n)) as StorageNode;
    const after = placeShards(request('bafkreistable'), all.filter((n) => n !== bystander));
    expect(after.map((n) => n.nodeId)).toEqual(before.map((n) => n.nodeId));
  });

  it('leaves out nodes below the uptime floor or without room, and says when too few remain', () => {
    const all = nodes(2, 3).map((n, i) => (i === 0 ? { ...n, uptimePpm: 500_000 } : i === 1 ? { ...n, freeBytes: 1000 } : n));
    const placed = placeShards(request('bafkreifloor', 4), all);
    expect(placed.map((n) => n.nodeId)).not.toContain('did:key:node0');
    expect(placed.map((n) => n.nodeId)).not.toContain('did:key:node1');
    expect(() => placeShards(request('bafkreifloor', 5), all)).toThrow(PlacementError);
    expect(() => placeShards(request('bafkreifloor', 5), all)).toThrow(/5 shards need 5 eligible nodes; 4 are eligible/);
    expect(() => placeShards({ chunk: 'x', shards: 0, shardBytes: 1 }, all)).toThrow(/shards: 0 must be a positive integer/);
  });

  it('draws u strictly inside (0, 1)', () => {
    for (let i = 0; i < 1000; i++) {
      const u = rendezvousUniform(`chunk${i}`, 'node');
      expect(u).toBeGreaterThan(0);
      expect(u).toBeLessThan(1);
    }
  });
});
