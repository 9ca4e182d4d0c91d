import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { cidOfBytes, generateSigningKey, signRecord, type ErasureGroup } from '@dmf/protocol';
import { assignGroup, AssignmentError, sameAssignment, type AssignRequest } from '../src/domain/assignment.ts';
import type { StorageNode } from '../src/domain/placement.ts';
import type { Scheme } from '../src/domain/tier-scheme.ts';

const GiB = 2 ** 30;
const coordinator = generateSigningKey();
// Real did:keys, so that an assignment can be signed as an erasure_group record.
const nodeKeys = Array.from({ length: 40 }, () => generateSigningKey());

function nodes(count: number, o: Partial<StorageNode> = {}): StorageNode[] {
  return nodeKeys.slice(0, count).map((key, i) => ({
    nodeId: key.did,
    region: `region-${i % 5}`,
    subnet: `subnet-${i}`,
    freeBytes: 100 * GiB,
    uptimePpm: 999_000,
    ...o,
  }));
}

const chunk = cidOfBytes(Buffer.from('a chunk of content'));
const cids = (n: number, tag = 'shard'): string[] => Array.from({ length: n }, (_, i) => cidOfBytes(Buffer.from(`${tag} ${i}`)));

function request(scheme: Scheme | undefined, shards: readonly string[], o: Partial<AssignRequest> = {}): AssignRequest {
  return { chunk, size: 4000, tier: 'warm', ...(scheme ? { scheme } : {}), shards, ...o };
}

/** Runs `f` and returns the AssignmentError it throws (fails the test when it throws nothing or something else). */
function assignmentError(f: () => unknown): AssignmentError {
  try {
    f();
  } catch (error) {
    expect(error).toBeInstanceOf(AssignmentError);
    return error as AssignmentError;
  }
  throw new Error('expected an AssignmentError, nothing was thrown');
}

const rs42: Scheme = { type: 'rs', k: 4, m: 2 };

describe('assignGroup', () => {
  it('takes as many shard CIDs as the scheme has shards: rs k+m, lrc k+l+r, replication copies', () => {
    const all = nodes(30);
    const cases: [Scheme, number][] = [
      [rs42, 6],
      [{ type: 'lrc', k: 6, l: 2, r: 2 }, 10],
      [{ type: 'replication', copies: 3 }, 3],
    ];
    for (const [scheme, n] of cases) {
      const shards = scheme.type === 'replication' ? Array<string>(n).fill(chunk) : cids(n);
      const body = assignGroup(request(scheme, shards), coordinator.did, all);
      expect(body.shards).toEqual(shards);
      expect(body.holders).toHaveLength(n);
      for (const wrong of [n - 1, n + 1]) {
        const fewer = scheme.type === 'replication' ? Array<string>(wrong).fill(chunk) : cids(wrong);
        const error = assignmentError(() => assignGroup(request(scheme, fewer), coordinator.did, all));
        expect(error.code).toBe('assign.invalid');
        expect(error.field).toBe('$.shards');
        expect(error.reason).toContain(`${wrong} shard CIDs given`);
        expect(error.reason).toContain(`has ${n} shards`);
      }
    }
  });

  it('uses the tier\'s scheme when none is asked for (warm: RS(10,4), 14 shards)', () => {
    const body = assignGroup(request(undefined, cids(14)), coordinator.did, nodes(30));
    expect(body.scheme).toEqual({ type: 'rs', k: 10, m: 4 });
    expect(body.holders).toHaveLength(14);
    expect(assignmentError(() => assignGroup(request(undefined, cids(6)), coordinator.did, nodes(30))).field).toBe('$.shards');
  });

  it('accepts any rs shard count equal to k + m and refuses every other (property)', () => {
    const all = nodes(30);
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 0, max: 6 }), fc.integer({ min: 1, max: 20 }), (k, m, given) => {
        const run = () => assignGroup(request({ type: 'rs', k, m }, cids(given)), coordinator.did, all);
        if (given === k + m) {
          expect(run().holders).toHaveLength(k + m);
        } else {
          const error = assignmentError(run);
          expect(error.code).toBe('assign.invalid');
          expect(error.field).toBe('$.shards');
        }
      }),
      { numRuns: 60 },
    );
  });

  it('under replication requires every shard CID to be the chunk\'s, naming the first that is not', () => {
    const all = nodes(10);
    const replication: Scheme = { type: 'replication', copies: 3 };
    const body = assignGroup(request(replication, [chunk, chunk, chunk]), coordinator.did, all);
    expect(body.shards).toEqual([chunk, chunk, chunk]);
    const other = cidOfBytes(Buffer.from('other bytes'));
    const error = assignmentError(() => assignGroup(request(replication, [chunk, other, other]), coordinator.did, all));
    expect(error.code).toBe('assign.invalid');
    expect(error.field).toBe('$.shards[1]');
    expect(error.message.startsWith('$.shards[1]: ')).toBe(true);
    // Erasure codes have shards of their own: distinct CIDs are what they must have.
    expect(() => assignGroup(request(rs42, cids(6)), coordinator.did, all)).not.toThrow();
  });

  it('gives shard_bytes = ceil(size / k) for rs and lrc, and the whole size for replication (property)', () => {
    const all = nodes(30);
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 * 1024 * 1024 }), fc.integer({ min: 1, max: 10 }), fc.integer({ min: 0, max: 4 }), (size, k, m) => {
        const rs = assignGroup(request({ type: 'rs', k, m }, cids(k + m), { size }), coordinator.did, all);
        expect(rs.shard_bytes).toBe(Math.ceil(size / k));
        // k shards of shard_bytes hold the chunk, k of one byte less would not.
        expect(rs.shard_bytes * k).toBeGreaterThanOrEqual(size);
        expect((rs.shard_bytes - 1) * k).toBeLessThan(size === 0 ? 1 : size);
        expect(rs.size).toBe(size);
        const lrc = assignGroup(request({ type: 'lrc', k: 2 * k, l: 2, r: 1 }, cids(2 * k + 3), { size }), coordinator.did, all);
        expect(lrc.shard_bytes).toBe(Math.ceil(size / (2 * k)));
        const copies = Math.min(k, 5);
        const rep = assignGroup(request({ type: 'replication', copies }, Array<string>(copies).fill(chunk), { size }), coordinator.did, all);
        expect(rep.shard_bytes).toBe(size);
      }),
      { numRuns: 40 },
    );
    // A worked example: 4000 bytes over 3 data shards need 1334 bytes each (3 × 1333 = 3999 is one short).
    expect(assignGroup(request({ type: 'rs', k: 3, m: 1 }, cids(4)), coordinator.did, all).shard_bytes).toBe(1334);
  });

  it('returns the body to sign: the request\'s members, the coordinator, and holders', () => {
    const shards = cids(6);
    const body = assignGroup(request(rs42, shards, { tier: 'hot', size: 1234 }), coordinator.did, nodes(12));
    expect(body).toMatchObject({ kind: 'erasure_group', coordinator: coordinator.did, chunk, size: 1234, tier: 'hot', scheme: rs42, shard_bytes: 309, shards });
    expect(body).not.toHaveProperty('seq');
    expect(body).not.toHaveProperty('signature');
    // A copy: changing the request afterwards does not change the body.
    expect(body.shards).not.toBe(shards);
    // It signs as a valid erasure_group record (holders distinct did:keys, counts right).
    expect(() => signRecord({ ...body, seq: 1 }, coordinator)).not.toThrow();
  });

  it('picks distinct holders among the nodes given, the same ones whatever order the nodes come in (property)', () => {
    const all = nodes(25);
    const ids = new Set(all.map((n) => n.nodeId));
    const first = assignGroup(request(rs42, cids(6)), coordinator.did, all).holders;
    expect(new Set(first).size).toBe(6);
    for (const h of first) expect(ids.has(h)).toBe(true);
    fc.assert(
      fc.property(fc.shuffledSubarray(all, { minLength: all.length }), (shuffled) => {
        expect(assignGroup(request(rs42, cids(6)), coordinator.did, shuffled).holders).toEqual(first);
      }),
      { numRuns: 50 },
    );
    // Another chunk is placed on its own (rendezvous hashing names the chunk).
    const another = assignGroup(request(rs42, cids(6), { chunk: cidOfBytes(Buffer.from('another chunk')) }), coordinator.did, all).holders;
    expect(another).not.toEqual(first);
  });

  it('says assign.no_nodes on $.scheme when fewer placeable nodes than shards remain', () => {
    const five = nodes(5);
    const error = assignmentError(() => assignGroup(request(rs42, cids(6)), coordinator.did, five));
    expect(error.code).toBe('assign.no_nodes');
    expect(error.field).toBe('$.scheme');
    expect(error.reason).toMatch(/6 shards need 6 eligible nodes; 5 are eligible/);
    expect(error.reason).not.toMatch(/^placement\./);
    // Six nodes, but one below the default uptime floor: still too few...
    const six = nodes(6).map((n, i) => (i === 0 ? { ...n, uptimePpm: 100_000 } : n));
    expect(assignmentError(() => assignGroup(request(rs42, cids(6)), coordinator.did, six)).code).toBe('assign.no_nodes');
    // ...unless the placement policy takes it.
    expect(assignGroup(request(rs42, cids(6)), coordinator.did, six, { minUptimePpm: 0 }).holders).toHaveLength(6);
    // Nodes without room for a shard do not count either.
    const full = nodes(6).map((n, i) => (i === 0 ? { ...n, freeBytes: 10 } : n));
    expect(assignmentError(() => assignGroup(request(rs42, cids(6)), coordinator.did, full)).code).toBe('assign.no_nodes');
  });

  it('refuses an unusable scheme as assign.invalid on $.scheme, before looking at the shards', () => {
    const all = nodes(30);
    const bad: [Scheme, RegExp][] = [
      [{ type: 'lrc', k: 5, l: 2, r: 1 }, /k \(5\) must split evenly into l \(2\)/],
      [{ type: 'rs', k: 0, m: 2 }, /k must be an integer >= 1, got 0/],
      [{ type: 'rs', k: 2.5, m: 2 }, /k must be an integer/],
      [{ type: 'replication', copies: 0 }, /copies must be an integer >= 1/],
      [{ type: 'rs', k: 200, m: 100 }, /300 shards; at most 255/],
    ];
    for (const [scheme, reason] of bad) {
      // The shard list would even be the "right" length for the scheme's arithmetic; the scheme is refused first.
      const count = scheme.type === 'rs' ? Math.max(1, Math.floor(scheme.k + scheme.m)) : scheme.type === 'lrc' ? scheme.k + scheme.l + scheme.r : 1;
      const error = assignmentError(() => assignGroup(request(scheme, cids(count)), coordinator.did, all));
      expect(error.code).toBe('assign.invalid');
      expect(error.field).toBe('$.scheme');
      expect(error.reason).toMatch(reason);
      expect(error.reason).not.toMatch(/^scheme: /);
      expect(error.name).toBe('AssignmentError');
    }
  });
});

describe('sameAssignment', () => {
  const shards = cids(6);
  const asked = request(rs42, shards, { size: 4000, tier: 'warm' });
  const body = assignGroup(asked, coordinator.did, nodes(12));
  const existing = signRecord({ ...body, seq: 1 }, coordinator).document as ErasureGroup;

  it('accepts the identical request, with or without the scheme, and a scheme spelled in another key order', () => {
    expect(sameAssignment(existing, asked)).toBe(true);
    expect(sameAssignment(existing, request(undefined, shards))).toBe(true);
    expect(sameAssignment(existing, request({ m: 2, k: 4, type: 'rs' } as Scheme, [...shards]))).toBe(true);
  });

  it('throws assign.conflict on $.chunk for another size, tier, scheme or shards', () => {
    const different: AssignRequest[] = [
      request(rs42, shards, { size: 4001 }),
      request(rs42, shards, { tier: 'hot' }),
      request({ type: 'rs', k: 3, m: 3 }, shards),
      request({ type: 'lrc', k: 4, l: 1, r: 1 }, shards),
      request(rs42, [...shards].reverse()),
      request(rs42, [...shards.slice(0, 5), cidOfBytes(Buffer.from('replaced'))]),
      request(undefined, shards.slice(0, 5)),
    ];
    for (const r of different) {
      const error = assignmentError(() => sameAssignment(existing, r));
      expect(error.code).toBe('assign.conflict');
      expect(error.field).toBe('$.chunk');
      expect(error.reason).toContain(coordinator.did);
    }
  });
});
