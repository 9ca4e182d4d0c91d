import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { cidOfBytes, generateSigningKey, signRecord, type ErasureGroup, type ErasureScheme, type ShardReport } from '@dmf/protocol';
import { chunkStatus, type ShardStanding } from '../src/domain/chunk-status.ts';
import { chunkState, type GroupRecord, type ReportRecord } from '../src/domain/storage-state.ts';
import type { HolderStatus } from '../src/domain/chunk-health.ts';

const coordinator = generateSigningKey();
const agents = Array.from({ length: 6 }, () => generateSigningKey());
const chunk = cidOfBytes(Buffer.from('the chunk of chunk-status'));
const shardCids = Array.from({ length: 6 }, (_, i) => cidOfBytes(Buffer.from(`status shard ${i}`)));
const T = Date.parse('2026-11-29T00:00:00.000Z');
const NOW = T + 60_000;
const MINUTE = 60_000;

function group(scheme: ErasureScheme, seq = 1): GroupRecord {
  const r = signRecord(
    {
      kind: 'erasure_group',
      coordinator: coordinator.did,
      chunk,
      size: 4000,
      tier: 'warm',
      scheme,
      shard_bytes: 4000 / (scheme.type === 'rs' ? scheme.k : 1),
      shards: shardCids,
      holders: agents.map((a) => a.did),
      seq,
      issued_at: new Date(T + seq).toISOString(),
    },
    coordinator,
    { now: new Date(NOW) },
  );
  return { id: r.id, document: r.document as ErasureGroup };
}

function report(g: GroupRecord, shard: number, state: 'stored' | 'missing' | 'corrupt'): ReportRecord {
  const key = agents[shard] as typeof coordinator;
  const r = signRecord(
    { kind: 'shard_report', node: key.did, group: g.id, chunk, shard, cid: shardCids[shard] as string, state, seq: 1, issued_at: new Date(T + 1000).toISOString() },
    key,
    { now: new Date(NOW) },
  );
  return { id: r.id, document: r.document as ShardReport };
}

const rs42 = group({ type: 'rs', k: 4, m: 2 }, 3);
const rs24 = group({ type: 'rs', k: 2, m: 4 });
const pool = new Map<GroupRecord, ReportRecord[][]>(
  [rs42, rs24].map((g) => [g, [0, 1, 2, 3, 4, 5].map((i) => (['stored', 'missing', 'corrupt'] as const).map((s) => report(g, i, s)))]),
);
const stored = (g: GroupRecord, i: number) => pool.get(g)?.[i]?.[0] as ReportRecord;
const missing = (g: GroupRecord, i: number) => pool.get(g)?.[i]?.[1] as ReportRecord;

/** Every holder up, each in a subnet of its own; `o` changes some. */
function holders(o: Record<number, HolderStatus | undefined> = {}): Map<string, HolderStatus> {
  const m = new Map<string, HolderStatus>();
  agents.forEach((a, i) => {
    const s = i in o ? o[i] : { subnet: `net${i}` };
    if (s) m.set(a.did, s);
  });
  return m;
}

const standings = (g: GroupRecord, reports: ReportRecord[], h: Map<string, HolderStatus>): ShardStanding[] =>
  chunkStatus(chunkState(g, reports, h, NOW)).shards.map((s) => s.standing);

describe('chunkStatus', () => {
  it('copies the group\'s members and names each shard\'s CID and holder', () => {
    const reports = [0, 1, 2, 3, 4, 5].map((i) => stored(rs42, i));
    const status = chunkStatus(chunkState(rs42, reports, holders(), NOW));
    expect(status).toMatchObject({
      chunk,
      group: rs42.id,
      coordinator: coordinator.did,
      seq: 3,
      size: 4000,
      tier: 'warm',
      scheme: { type: 'rs', k: 4, m: 2 },
      shard_bytes: 1000,
      condition: 'healthy',
      effective: 6,
      // k + ceil((n - k) / 2) = 4 + 1.
      repair_threshold: 5,
    });
    expect(status.shards).toEqual(shardCids.map((cid, shard) => ({ shard, cid, node: (agents[shard] as typeof coordinator).did, standing: 'live' })));
  });

  it('shows a shard whose holder is down (not yet out) as waiting, and the chunk still healthy', () => {
    const reports = [0, 1, 2, 3, 4, 5].map((i) => stored(rs42, i));
    const status = chunkStatus(chunkState(rs42, reports, holders({ 2: { subnet: 'net2', downSince: NOW - 10 * MINUTE } }), NOW));
    expect(status.condition).toBe('healthy');
    expect(status.shards.map((s) => s.standing)).toEqual(['live', 'live', 'waiting', 'live', 'live', 'live']);
    // Down past the 30 minutes: out, so rebuilt, and 5 live shards are at the threshold.
    const out = chunkStatus(chunkState(rs42, reports, holders({ 2: { subnet: 'net2', downSince: NOW - 31 * MINUTE } }), NOW));
    expect(out.condition).toBe('degraded');
    expect(out.effective).toBe(5);
    expect(out.shards.map((s) => s.standing)).toEqual(['live', 'live', 'rebuild', 'live', 'live', 'live']);
  });

  it('marks missing, corrupt, unreported and out shards to rebuild; lost when fewer than k are live', () => {
    const reports = [stored(rs42, 0), stored(rs42, 1), stored(rs42, 2), missing(rs42, 3), stored(rs42, 5)];
    // Shard 4: no report. Shard 5: its holder is no longer a storage node at all (absent: out at once).
    const status = chunkStatus(chunkState(rs42, reports, holders({ 5: undefined }), NOW));
    expect(status.condition).toBe('lost');
    expect(status.shards.map((s) => s.standing)).toEqual(['live', 'live', 'live', 'rebuild', 'rebuild', 'rebuild']);
    const corrupt = pool.get(rs42)?.[0]?.[2] as ReportRecord;
    expect(standings(rs42, [corrupt, ...[1, 2, 3, 4, 5].map((i) => stored(rs42, i))], holders())[0]).toBe('rebuild');
  });

  it('shows a live shard clumped in another\'s subnet as to rebuild when the chunk is degraded', () => {
    const reports = [0, 1, 2, 3, 4, 5].map((i) => stored(rs42, i));
    // Shards 0 and 1 in one subnet: 6 live but 5 effective, at the threshold.
    const status = chunkStatus(chunkState(rs42, reports, holders({ 1: { subnet: 'net0' } }), NOW));
    expect(status.condition).toBe('degraded');
    expect(status.effective).toBe(5);
    expect(status.shards.map((s) => s.standing)).toEqual(['live', 'rebuild', 'live', 'live', 'live', 'live']);
  });

  it('ranks rebuild above waiting: a waiting shard stays waiting in a degraded chunk unless it is the one to move', () => {
    const reports = [0, 1, 2, 4, 5].map((i) => stored(rs42, i)).concat(missing(rs42, 3));
    const status = chunkStatus(chunkState(rs42, reports, holders({ 2: { subnet: 'net2', downSince: NOW - MINUTE } }), NOW));
    expect(status.condition).toBe('degraded');
    expect(status.shards.map((s) => s.standing)).toEqual(['live', 'live', 'waiting', 'rebuild', 'live', 'live']);
    // Down and clumped with shard 0: it is moved by the next repair.
    const clumped = chunkStatus(chunkState(rs42, reports, holders({ 2: { subnet: 'net0', downSince: NOW - MINUTE } }), NOW));
    expect(clumped.shards.map((s) => s.standing)).toEqual(['live', 'live', 'rebuild', 'rebuild', 'live', 'live']);
  });

  it('shows a shard that is not live as to rebuild even in a healthy chunk (which has nothing queued)', () => {
    // RS(2,4): threshold 2 + 2 = 4; five live shards in five subnets are healthy.
    const reports = [0, 1, 2, 3, 4].map((i) => stored(rs24, i)).concat(missing(rs24, 5));
    const state = chunkState(rs24, reports, holders(), NOW);
    expect(state.health.condition).toBe('healthy');
    expect(state.health.toRebuild).toEqual([]);
    const status = chunkStatus(state);
    expect(status.repair_threshold).toBe(4);
    expect(status.shards.map((s) => s.standing)).toEqual(['live', 'live', 'live', 'live', 'live', 'rebuild']);
  });

  it('agrees with what each holder said and how it stands, for any mix (property)', () => {
    type Said = 'stored' | 'missing' | 'corrupt' | 'nothing';
    type Holder = 'up' | 'down' | 'out' | 'absent';
    const said = fc.constantFrom<Said>('stored', 'missing', 'corrupt', 'nothing');
    const holder = fc.constantFrom<Holder>('up', 'down', 'out', 'absent');
    fc.assert(
      fc.property(
        fc.constantFrom(rs42, rs24),
        fc.array(fc.tuple(said, holder, fc.integer({ min: 0, max: 6 })), { minLength: 6, maxLength: 6 }),
        (g, shards) => {
          const reports = shards.flatMap(([s], i) => (s === 'nothing' ? [] : [pool.get(g)?.[i]?.[['stored', 'missing', 'corrupt'].indexOf(s)] as ReportRecord]));
          const status = holders(
            Object.fromEntries(
              shards.map(([, h, net], i) => [
                i,
                h === 'absent' ? undefined : { subnet: `net${net}`, ...(h === 'down' ? { downSince: NOW - 5 * MINUTE } : h === 'out' ? { downSince: NOW - 60 * MINUTE } : {}) },
              ]),
            ),
          );
          const result = chunkStatus(chunkState(g, reports, status, NOW));
          const k = g.document.scheme.type === 'rs' ? g.document.scheme.k : 1;
          const live = shards.filter(([s, h]) => s === 'stored' && (h === 'up' || h === 'down')).length;
          expect(result.condition === 'lost').toBe(live < k);
          const subnetsDistinct = new Set(shards.map(([, , net]) => net)).size === 6;
          shards.forEach(([s, h], i) => {
            const standing = result.shards[i]?.standing;
            expect(result.shards[i]?.cid).toBe(shardCids[i]);
            if (s !== 'stored' || h === 'out' || h === 'absent') expect(standing).toBe('rebuild');
            else if (subnetsDistinct) expect(standing).toBe(h === 'down' ? 'waiting' : 'live');
            else expect([h === 'down' ? 'waiting' : 'live', 'rebuild']).toContain(standing);
          });
          // Counted once per subnet: never more than the live shards.
          expect(result.effective).toBeLessThanOrEqual(live);
          if (result.condition === 'healthy') expect(result.effective).toBeGreaterThan(result.repair_threshold);
        },
      ),
      { numRuns: 300 },
    );
  });
});
