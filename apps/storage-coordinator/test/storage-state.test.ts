import { describe, expect, it } from 'vitest';
import { generateSigningKey, signRecord, type ErasureGroup, type ShardReport } from '@dmf/protocol';
import { cidOfBytes } from '@dmf/metadata';
import { currentGroups, storageState, type GroupRecord, type ReportRecord } from '../src/domain/storage-state.ts';
import type { HolderStatus } from '../src/domain/chunk-health.ts';

const coordinator = generateSigningKey();
const other = generateSigningKey();
const agents = Array.from({ length: 8 }, () => generateSigningKey());
const chunk = cidOfBytes(Buffer.from('the chunk'));
const shardCids = Array.from({ length: 6 }, (_, i) => cidOfBytes(Buffer.from(`shard ${i}`)));
const T = Date.parse('2026-11-29T00:00:00.000Z');

function group(by: typeof coordinator, seq: number, holders: string[]): GroupRecord {
  const r = signRecord(
    { kind: 'erasure_group', coordinator: by.did, chunk, size: 4000, tier: 'warm', scheme: { type: 'rs', k: 4, m: 2 }, shard_bytes: 1000, shards: shardCids, holders, seq, issued_at: new Date(T + seq).toISOString() },
    by,
    { now: new Date(T + 60_000) },
  );
  return { id: r.id, document: r.document as ErasureGroup };
}

function report(agent: number, groupId: string, shard: number, state: 'stored' | 'missing' | 'corrupt', seq = 1): ReportRecord {
  const key = agents[agent] as typeof coordinator;
  const r = signRecord(
    { kind: 'shard_report', node: key.did, group: groupId, chunk, shard, cid: shardCids[shard] as string, state, seq, issued_at: new Date(T + 1000 + seq).toISOString() },
    key,
    { now: new Date(T + 60_000) },
  );
  return { id: r.id, document: r.document as ShardReport };
}

const holders = agents.slice(0, 6).map((a) => a.did);
const status = (): Map<string, HolderStatus> => new Map(agents.map((a, i) => [a.did, { subnet: `net${i}` }]));

describe('storageState', () => {
  it('takes the first coordinator\'s newest group, and each holder\'s newest report about it', () => {
    const g1 = group(coordinator, 1, holders);
    const g2 = group(coordinator, 2, [...holders.slice(0, 5), (agents[6] as typeof coordinator).did]);
    const stranger = group(other, 5, holders);
    expect(currentGroups([stranger, g2, g1]).get(chunk)?.id).toBe(g2.id);

    const reports = [0, 1, 2, 3, 4].map((i) => report(i, g2.id, i, 'stored'));
    // Reports about the older group do not count; a newer report about shard 4 says it is gone.
    reports.push(report(5, g1.id, 5, 'stored'), report(4, g2.id, 4, 'missing', 2));
    const state = storageState([g1, g2, stranger], reports, status(), T + 60_000).get(chunk);
    expect(state?.group).toBe(g2.id);
    expect(state?.health).toMatchObject({ condition: 'degraded', live: [0, 1, 2, 3], toRebuild: [4, 5] });
  });

  it('is healthy when every holder reports its shard stored, whatever order the records come in', () => {
    const g = group(coordinator, 1, holders);
    const reports = [0, 1, 2, 3, 4, 5].map((i) => report(i, g.id, i, 'stored'));
    const a = storageState([g], reports, status(), T + 60_000).get(chunk);
    const b = storageState([g], [...reports].reverse(), status(), T + 60_000).get(chunk);
    expect(a?.health.condition).toBe('healthy');
    expect(b).toEqual(a);
  });
});
