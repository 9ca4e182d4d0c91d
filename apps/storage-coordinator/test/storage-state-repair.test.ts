import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { cidOfBytes, generateSigningKey, signRecord, type ErasureGroup, type ShardReport, type ShardState } from '@dmf/protocol';
import { chunkState, isNewerReport, storageState, type GroupRecord, type ReportRecord } from '../src/domain/storage-state.ts';
import type { HolderStatus } from '../src/domain/chunk-health.ts';

type Key = ReturnType<typeof generateSigningKey>;

const coordinator = generateSigningKey();
const agents = Array.from({ length: 8 }, () => generateSigningKey());
const did = (i: number) => (agents[i] as Key).did;
const chunk = cidOfBytes(Buffer.from('the chunk that gets repaired'));
const otherChunk = cidOfBytes(Buffer.from('some other chunk'));
const shardCids = Array.from({ length: 6 }, (_, i) => cidOfBytes(Buffer.from(`repair shard ${i}`)));
const T = Date.parse('2026-11-29T00:00:00.000Z');
const NOW = T + 60_000;

function group(seq: number, holders: string[]): GroupRecord {
  const r = signRecord(
    { kind: 'erasure_group', coordinator: coordinator.did, chunk, size: 4000, tier: 'warm', scheme: { type: 'rs', k: 4, m: 2 }, shard_bytes: 1000, shards: shardCids, holders, seq, issued_at: new Date(T + seq).toISOString() },
    coordinator,
    { now: new Date(NOW) },
  );
  return { id: r.id, document: r.document as ErasureGroup };
}

interface ReportOptions {
  seq?: number;
  cid?: string;
  chunk?: string;
  /** Milliseconds after T the report was issued (two reports alike but for this have different ids). */
  at?: number;
}

function report(agent: number, g: GroupRecord, shard: number, state: ShardState, o: ReportOptions = {}): ReportRecord {
  const key = agents[agent] as Key;
  const seq = o.seq ?? 1;
  const r = signRecord(
    {
      kind: 'shard_report',
      node: key.did,
      group: g.id,
      chunk: o.chunk ?? chunk,
      shard,
      cid: o.cid ?? (shardCids[shard] as string),
      state,
      seq,
      issued_at: new Date(T + 1000 + (o.at ?? seq)).toISOString(),
    },
    key,
    { now: new Date(NOW) },
  );
  return { id: r.id, document: r.document as ShardReport };
}

const status = (): Map<string, HolderStatus> => new Map(agents.map((a, i) => [a.did, { subnet: `net${i}` }]));

// Version 1: agents 0-5 hold shards 0-5. A repair moves shard 3 to agent 6 and publishes version 2.
const g1 = group(1, [0, 1, 2, 3, 4, 5].map(did));
const g2 = group(2, [0, 1, 2, 6, 4, 5].map(did));
const kept = [0, 1, 2, 4, 5];

function stateOf(reports: ReportRecord[], groups: GroupRecord[] = [g1, g2]) {
  const state = storageState(groups, reports, status(), NOW).get(chunk);
  if (!state) throw new Error('no state for the chunk');
  return state;
}

describe('storageState after a repair', () => {
  it('keeps counting the holders that kept their shard from their reports about the previous group version', () => {
    const before = kept.map((i) => report(i, g1, i, 'stored'));
    const rebuilt = report(6, g2, 3, 'stored');
    const state = stateOf([...before, rebuilt]);
    expect(state.group).toBe(g2.id);
    expect(state.health).toMatchObject({ condition: 'healthy', live: [0, 1, 2, 3, 4, 5], toRebuild: [] });

    // Until the new holder reports, only its shard is missing.
    expect(stateOf(before).health).toMatchObject({ condition: 'degraded', live: kept, toRebuild: [3] });
    // The two group versions may come in any order.
    expect(storageState([g2, g1], [rebuilt, ...before].reverse(), status(), NOW).get(chunk)).toEqual(state);
  });

  it('lets a kept holder\'s newer report, about either version, replace its older one', () => {
    const before = kept.map((i) => report(i, g1, i, 'stored'));
    const rebuilt = report(6, g2, 3, 'stored');
    // Agent 0 now says, about version 2, that its shard is gone.
    const gone = report(0, g2, 0, 'missing', { seq: 2 });
    expect(stateOf([...before, rebuilt, gone]).health).toMatchObject({ live: [1, 2, 3, 4, 5], toRebuild: [0] });
    // And a newer "stored" about version 1 wins over an older "missing" about version 2: by seq, not by group.
    const lateStored = report(0, g1, 0, 'stored', { seq: 3 });
    expect(stateOf([gone, lateStored, ...before.slice(1), rebuilt]).health.live).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('does not count the former holder of a moved shard, even with a newer report', () => {
    const reports = [...kept.map((i) => report(i, g1, i, 'stored')), report(3, g1, 3, 'stored'), report(3, g2, 3, 'stored', { seq: 5 })];
    expect(stateOf(reports).health).toMatchObject({ condition: 'degraded', live: kept, toRebuild: [3] });
  });
});

describe('chunkState: which reports count', () => {
  const all = [0, 1, 2, 3, 4, 5];
  const others = (skip: number) => all.filter((i) => i !== skip).map((i) => report(i, g1, i, 'stored'));

  it('ignores a report from a node that does not hold that shard in the current group', () => {
    // Agent 7 holds nothing; agent 1 holds shard 1, not shard 0.
    for (const stranger of [report(7, g1, 0, 'stored'), report(1, g1, 0, 'stored', { at: 7 })]) {
      const state = chunkState(g1, [...others(0), stranger], status(), NOW);
      expect(state.health.live).toEqual([1, 2, 3, 4, 5]);
      expect(state.health.toRebuild).toEqual([0]);
    }
    // Nor can a stranger's "missing" take a live shard away.
    const state = chunkState(g1, [...all.map((i) => report(i, g1, i, 'stored')), report(7, g1, 0, 'missing', { seq: 9 })], status(), NOW);
    expect(state.health).toMatchObject({ condition: 'healthy', live: all });
  });

  it('ignores a report that names another CID than the group\'s for that shard', () => {
    const wrongCid = report(0, g1, 0, 'stored', { cid: shardCids[1] as string });
    expect(chunkState(g1, [...others(0), wrongCid], status(), NOW).health.toRebuild).toEqual([0]);
    // A newer report about other bytes does not replace the holder's report about the right ones.
    const aboutOther = report(0, g1, 0, 'missing', { seq: 2, cid: cidOfBytes(Buffer.from('unrelated')) });
    expect(chunkState(g1, [report(0, g1, 0, 'stored'), aboutOther, ...others(0)], status(), NOW).health).toMatchObject({ condition: 'healthy', live: all });
  });

  it('ignores, in storageState, a report about the same shard CID of another chunk', () => {
    const elsewhere = report(0, g1, 0, 'stored', { chunk: otherChunk });
    const state = storageState([g1], [...others(0), elsewhere], status(), NOW);
    expect(state.get(chunk)?.health.toRebuild).toEqual([0]);
    // A chunk with reports but no group has no state.
    expect(state.has(otherChunk)).toBe(false);
  });
});

describe('isNewerReport', () => {
  const base = { kind: 'shard_report', node: did(0), group: 'g', chunk, shard: 0, cid: shardCids[0] as string, issued_at: new Date(T).toISOString(), signature: 'sig' } as const;
  const fake = (id: string, seq: number, state: ShardState): ReportRecord => ({ id, document: { ...base, seq, state } as ShardReport });
  const state = fc.constantFrom<ShardState>('stored', 'missing', 'corrupt');
  const seq = fc.integer({ min: 1, max: 4 });
  // Small ranges, so equal seqs and equal states are common.
  const reports = (n: number): fc.Arbitrary<ReportRecord[]> =>
    fc.uniqueArray(fc.string({ minLength: 1, maxLength: 3 }), { minLength: n, maxLength: n }).chain((ids) => fc.tuple(...ids.map((id) => fc.tuple(seq, state).map(([s, st]) => fake(id, s, st)))));

  it('orders by seq, then not-stored before stored, then the lower record id', () => {
    expect(isNewerReport(fake('b', 2, 'stored'), fake('a', 1, 'missing'))).toBe(true);
    expect(isNewerReport(fake('a', 1, 'missing'), fake('b', 2, 'stored'))).toBe(false);
    expect(isNewerReport(fake('z', 2, 'corrupt'), fake('a', 2, 'stored'))).toBe(true);
    expect(isNewerReport(fake('a', 2, 'stored'), fake('z', 2, 'missing'))).toBe(false);
    expect(isNewerReport(fake('a', 2, 'missing'), fake('b', 2, 'corrupt'))).toBe(true);
    expect(isNewerReport(fake('b', 2, 'stored'), fake('a', 2, 'stored'))).toBe(false);
  });

  it('is total and antisymmetric: of two distinct reports exactly one is newer; none is newer than itself (property)', () => {
    fc.assert(
      fc.property(reports(2), (list) => {
        const [a, b] = list as [ReportRecord, ReportRecord];
        expect(isNewerReport(a, b) !== isNewerReport(b, a)).toBe(true);
        expect(isNewerReport(a, a)).toBe(false);
      }),
      { numRuns: 500 },
    );
  });

  it('is transitive (property)', () => {
    fc.assert(
      fc.property(reports(3), (list) => {
        const [a, b, c] = list as [ReportRecord, ReportRecord, ReportRecord];
        if (isNewerReport(a, b) && isNewerReport(b, c)) expect(isNewerReport(a, c)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('picks the same newest report whatever order they come in (property)', () => {
    const newest = (list: readonly ReportRecord[]) => list.reduce((x, y) => (isNewerReport(y, x) ? y : x));
    fc.assert(
      fc.property(reports(5).chain((list) => fc.tuple(fc.constant(list), fc.shuffledSubarray(list, { minLength: list.length }))), ([list, shuffled]) => {
        const first = newest(list);
        expect(newest(shuffled)).toBe(first);
        // Nothing in the list is newer than it.
        for (const r of list) expect(isNewerReport(r, first)).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  it('makes chunkState independent of the order of one holder\'s conflicting signed reports (property)', () => {
    // One holder's reports about shard 0: some at one seq saying different things, some alike but for the time.
    const pool = [
      report(0, g1, 0, 'stored', { seq: 1 }),
      report(0, g1, 0, 'missing', { seq: 1 }),
      report(0, g1, 0, 'stored', { seq: 2 }),
      report(0, g1, 0, 'stored', { seq: 2, at: 50 }),
      report(0, g1, 0, 'corrupt', { seq: 2 }),
      report(0, g1, 0, 'stored', { seq: 3 }),
      report(0, g1, 0, 'missing', { seq: 3, at: 60 }),
      report(0, g1, 0, 'corrupt', { seq: 3, at: 61 }),
    ];
    const rest = [1, 2, 3, 4, 5].map((i) => report(i, g1, i, 'stored'));
    fc.assert(
      fc.property(fc.subarray(pool, { minLength: 1 }).chain((sub) => fc.tuple(fc.constant(sub), fc.shuffledSubarray(sub, { minLength: sub.length }))), ([sub, shuffled]) => {
        const a = chunkState(g1, [...sub, ...rest], status(), NOW);
        const b = chunkState(g1, [...rest, ...shuffled], status(), NOW);
        expect(b).toEqual(a);
        // Shard 0 is live exactly when its holder's highest-seq reports all say stored.
        const top = Math.max(...sub.map((r) => r.document.seq));
        const liveExpected = sub.filter((r) => r.document.seq === top).every((r) => r.document.state === 'stored');
        expect(a.health.live.includes(0)).toBe(liveExpected);
      }),
      { numRuns: 200 },
    );
  });
});
