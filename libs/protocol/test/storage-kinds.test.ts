/**
 * The storage coordination kinds (issue 6): erasure_group, shard_report, repair_task.
 * Valid documents verify; each cross-field rule refuses with its code and path; the
 * schema names the member inside a scheme; only the required signer is accepted;
 * repair tasks expire like manifests.
 */
import { describe, expect, it } from 'vitest';
import {
  EXPIRING_KINDS,
  MAX_LIFETIME_MS,
  ProtocolError,
  recordId,
  schemeShardCount,
  signDocument,
  verifyBytes,
  verifyDocument,
  type SigningKey,
} from '../src/mod.ts';
import { canonicalizeSigned } from '../src/jcs.ts';
import { signDetached } from '../src/jws.ts';
import {
  CHUNK,
  erasureGroup,
  erasureGroupId,
  erasureGroupLrc,
  erasureGroupReplicated,
  holderDid,
  ISSUED_AT,
  keys,
  NOW,
  REPAIR_EXPIRES_AT,
  repairTask,
  shardReport,
} from './fixtures.ts';

const options = { now: NOW };
type Doc = Record<string, unknown>;

/** Signs without any check, so that the rule under test is the only fault. */
function rawSign(doc: Doc, key: SigningKey): Doc {
  const unsigned = { ...doc };
  delete unsigned['signature'];
  return { ...unsigned, signature: signDetached(canonicalizeSigned(unsigned).payload, key) };
}

function refusal(doc: Doc, at: Date = NOW): { code: string; path: string | undefined; reason: string } {
  try {
    verifyDocument(doc, { now: at });
  } catch (error) {
    if (error instanceof ProtocolError) return { code: error.code, path: error.path, reason: error.reason };
    throw error;
  }
  throw new Error('expected a ProtocolError');
}

const group = (changes: Doc): Doc => rawSign({ ...erasureGroup(), ...changes }, keys.node);
const report = (changes: Doc): Doc => rawSign({ ...shardReport(), ...changes }, keys.peer);
const task = (changes: Doc): Doc => rawSign({ ...repairTask(), ...changes }, keys.node);
const codeAndPath = (doc: Doc, at?: Date): { code: string; path: string | undefined } => {
  const { code, path } = refusal(doc, at);
  return { code, path };
};

describe('erasure_group documents', () => {
  it('verify for each scheme type when signed by the coordinator, and never get expires_at', () => {
    expect(EXPIRING_KINDS.has('erasure_group')).toBe(false);
    for (const make of [erasureGroup, erasureGroupLrc, erasureGroupReplicated]) {
      const signed = signDocument(make(), keys.node, { ...options, expiresInMs: 60_000 });
      expect(signed['expires_at']).toBeUndefined();
      const record = verifyBytes(JSON.stringify(signed), options);
      if (record.kind !== 'erasure_group') throw new Error('narrowing');
      expect(record.signer).toBe(keys.node.did);
      expect(record.id).toBe(recordId(signed));
      expect(record.document.shards).toHaveLength(schemeShardCount(record.document.scheme));
    }
    expect(erasureGroupId()).toBe(recordId(signDocument(erasureGroup(), keys.node, options)));
  });

  it('counts shards per scheme: rs k + m, lrc k + l + r, replication copies', () => {
    expect(schemeShardCount({ type: 'rs', k: 10, m: 4 })).toBe(14);
    expect(schemeShardCount({ type: 'lrc', k: 12, l: 2, r: 2 })).toBe(16);
    expect(schemeShardCount({ type: 'replication', copies: 3 })).toBe(3);
  });

  it('accept the bounds: rs with no parity, one copy, 255 shards', () => {
    const one = { shards: [CHUNK], holders: [holderDid(0)] };
    expect(verifyDocument(group({ scheme: { type: 'rs', k: 1, m: 0 }, ...one }), options).kind).toBe('erasure_group');
    expect(verifyDocument(group({ scheme: { type: 'replication', copies: 1 }, ...one }), options).kind).toBe('erasure_group');
    const wide = { shards: Array.from({ length: 255 }, () => CHUNK), holders: Array.from({ length: 255 }, (_, i) => holderDid(i)) };
    expect(verifyDocument(group({ scheme: { type: 'rs', k: 200, m: 55 }, ...wide }), options).kind).toBe('erasure_group');
    expect(verifyDocument(group({ scheme: { type: 'lrc', k: 240, l: 12, r: 3 }, ...wide }), options).kind).toBe('erasure_group');
  });

  it('schema: names the member inside the scheme the value picks by its type', () => {
    expect(refusal(group({ scheme: { type: 'rs', k: 0, m: 6 } }))).toEqual({ code: 'schema', path: '$.scheme.k', reason: 'must be at least 1' });
    expect(refusal(group({ scheme: { type: 'rs', k: 4 } }))).toEqual({ code: 'schema', path: '$.scheme.m', reason: 'required member is missing' });
    expect(refusal(group({ scheme: { type: 'replication', copies: 6, k: 1 } }))).toEqual({
      code: 'schema',
      path: '$.scheme.k',
      reason: 'member is not allowed here',
    });
    expect(refusal(group({ scheme: { type: 'lrc', k: 4, l: 0, r: 2 } }))).toEqual({ code: 'schema', path: '$.scheme.l', reason: 'must be at least 1' });
    expect(refusal(group({ scheme: { type: 'xor', k: 4, m: 2 } }))).toEqual({
      code: 'schema',
      path: '$.scheme.type',
      reason: 'must be one of "rs", "lrc", "replication"',
    });
    expect(refusal(group({ scheme: { k: 4, m: 2 } }))).toEqual({ code: 'schema', path: '$.scheme.type', reason: 'required member is missing' });
    expect(refusal(group({ scheme: 'rs' }))).toEqual({ code: 'schema', path: '$.scheme', reason: 'must be an object' });
    expect(refusal(group({ tier: 'cold' }))).toEqual({ code: 'schema', path: '$.tier', reason: 'must be one of "hot", "warm", "long_tail"' });
    expect(codeAndPath(group({ shards: [] }))).toEqual({ code: 'schema', path: '$.shards' });
    expect(codeAndPath(group({ size: -1 }))).toEqual({ code: 'schema', path: '$.size' });
  });

  it('group.lrc: an LRC\'s k is divisible by l', () => {
    expect(refusal(group({ scheme: { type: 'lrc', k: 3, l: 2, r: 1 } }))).toEqual({
      code: 'group.lrc',
      path: '$.scheme.l',
      reason: 'k (3) is not divisible by l (2): the local groups must be of equal size',
    });
  });

  it('group.shards: shards and holders have the scheme\'s shard count of items, at most 255', () => {
    const { shards, holders } = erasureGroup() as { shards: string[]; holders: string[] };
    expect(refusal(group({ shards: shards.slice(0, 5) }))).toEqual({
      code: 'group.shards',
      path: '$.shards',
      reason: '5 items, but rs k=4 m=2 gives 6 shards',
    });
    expect(codeAndPath(group({ holders: [...holders, holderDid(6)] }))).toEqual({ code: 'group.shards', path: '$.holders' });
    expect(codeAndPath(group({ scheme: { type: 'replication', copies: 5 } }))).toEqual({ code: 'group.shards', path: '$.shards' });
    expect(refusal(group({ scheme: { type: 'rs', k: 200, m: 100 } }))).toEqual({
      code: 'group.shards',
      path: '$.scheme',
      reason: 'rs k=200 m=100 gives 300 shards; at most 255',
    });
    expect(codeAndPath(group({ scheme: { type: 'lrc', k: 250, l: 5, r: 1 } }))).toEqual({ code: 'group.shards', path: '$.scheme' });
  });

  it('group.holders: no node holds two shards of one group; shards may repeat', () => {
    const { holders } = erasureGroup() as { holders: string[] };
    expect(refusal(group({ holders: holders.map((did, i) => (i === 4 ? holders[1] : did)) }))).toEqual({
      code: 'group.holders',
      path: '$.holders[4]',
      reason: 'the node holding shard 1 holds shard 4 too: no node holds two shards of one group',
    });
    expect(verifyDocument(group({ shards: Array.from({ length: 6 }, () => CHUNK) }), options).kind).toBe('erasure_group');
  });

  it('checks group.lrc, then group.shards, then group.holders', () => {
    const { holders } = erasureGroup() as { holders: string[] };
    expect(refusal(group({ scheme: { type: 'lrc', k: 3, l: 2, r: 0 }, holders: [holders[0], holders[0]] })).code).toBe('group.lrc');
    expect(refusal(group({ scheme: { type: 'rs', k: 1, m: 0 }, holders: [holders[0], holders[0]] })).code).toBe('group.shards');
  });

  it('are refused when signed by any key but the coordinator, naming $.coordinator', () => {
    for (const key of [keys.peer, keys.operator, keys.nodeService]) {
      expect(refusal(rawSign(erasureGroup(), key))).toEqual({
        code: 'signature.wrong_signer',
        path: '$.signature',
        reason: `signed by ${key.did}, but the signer must be $.coordinator (${keys.node.did})`,
      });
    }
  });
});

describe('shard_report documents', () => {
  it('verify for each state when signed by node, and never get expires_at', () => {
    expect(EXPIRING_KINDS.has('shard_report')).toBe(false);
    for (const state of ['stored', 'missing', 'corrupt']) {
      const doc: Doc = { ...shardReport(), state };
      const signed = signDocument(doc, keys.peer, { ...options, expiresInMs: 60_000 });
      expect(signed['expires_at']).toBeUndefined();
      const record = verifyBytes(JSON.stringify(signed), options);
      if (record.kind !== 'shard_report') throw new Error('narrowing');
      expect(record.signer).toBe(keys.peer.did);
      expect(record.document.state).toBe(state);
    }
  });

  it('schema: shard 0 to 254, a known state, group a record id', () => {
    expect(verifyDocument(report({ shard: 0 }), options).kind).toBe('shard_report');
    expect(verifyDocument(report({ shard: 254 }), options).kind).toBe('shard_report');
    expect(refusal(report({ shard: 255 }))).toEqual({ code: 'schema', path: '$.shard', reason: 'must be at most 254' });
    expect(codeAndPath(report({ shard: -1 }))).toEqual({ code: 'schema', path: '$.shard' });
    expect(refusal(report({ state: 'lost' }))).toEqual({ code: 'schema', path: '$.state', reason: 'must be one of "stored", "missing", "corrupt"' });
    expect(refusal(report({ group: CHUNK }))).toEqual({ code: 'schema', path: '$.group', reason: 'not a record id (lowercase hex SHA-256)' });
  });

  it('are refused when signed by any key but node, naming $.node', () => {
    for (const key of [keys.node, keys.stranger]) {
      expect(refusal(rawSign(shardReport(), key))).toEqual({
        code: 'signature.wrong_signer',
        path: '$.signature',
        reason: `signed by ${key.did}, but the signer must be $.node (${keys.peer.did})`,
      });
    }
  });
});

describe('repair_task documents', () => {
  it('verify when signed by the coordinator, and expire like manifests', () => {
    expect(EXPIRING_KINDS.has('repair_task')).toBe(true);
    const signed = signDocument(repairTask(), keys.node, options);
    const record = verifyBytes(JSON.stringify(signed), options);
    if (record.kind !== 'repair_task') throw new Error('narrowing');
    expect(record.signer).toBe(keys.node.did);
    expect(record.document.rebuild.map((item) => item.shard)).toEqual([2, 5]);
    expect(() => verifyDocument(signed, { now: new Date(Date.parse(REPAIR_EXPIRES_AT) - 1) })).not.toThrow();
    expect(codeAndPath(signed, new Date(REPAIR_EXPIRES_AT))).toEqual({ code: 'expires_at.expired', path: '$.expires_at' });
  });

  it('get expires_at from expiresInMs, at most 30 days after issued_at', () => {
    const { expires_at: _expires, ...unexpiring } = repairTask();
    const signed = signDocument(unexpiring, keys.node, { now: NOW, expiresInMs: 3_600_000 });
    expect(signed['expires_at']).toBe('2026-11-28T18:00:00.000Z');
    expect(codeAndPath(task({ expires_at: new Date(Date.parse(ISSUED_AT) + MAX_LIFETIME_MS + 1).toISOString() }))).toEqual({
      code: 'expires_at.too_far',
      path: '$.expires_at',
    });
    expect(codeAndPath(task({ expires_at: ISSUED_AT }))).toEqual({ code: 'expires_at.before_issued', path: '$.expires_at' });
    expect(codeAndPath(rawSign(unexpiring, keys.node))).toEqual({ code: 'schema', path: '$.expires_at' });
  });

  it('schema: 1 to 255 closed items of { shard 0-254, node }', () => {
    const read = repairTask()['read'] as Doc[];
    expect(codeAndPath(task({ read: [] }))).toEqual({ code: 'schema', path: '$.read' });
    expect(refusal(task({ rebuild: [] }))).toEqual({ code: 'schema', path: '$.rebuild', reason: 'must not be empty' });
    expect(codeAndPath(task({ read: read.map((item, i) => (i === 1 ? { ...item, shard: 255 } : item)) }))).toEqual({
      code: 'schema',
      path: '$.read[1].shard',
    });
    expect(refusal(task({ read: read.map((item, i) => (i === 0 ? { ...item, bytes: 1 } : item)) }))).toEqual({
      code: 'schema',
      path: '$.read[0].bytes',
      reason: 'member is not allowed here',
    });
    expect(codeAndPath(task({ rebuild: [{ shard: 2 }] }))).toEqual({ code: 'schema', path: '$.rebuild[0].node' });
  });

  it('repair.duplicate: no shard twice within read or within rebuild, naming the second', () => {
    const read = repairTask()['read'] as Doc[];
    const rebuild = repairTask()['rebuild'] as Doc[];
    expect(refusal(task({ read: [read[0], read[1], { ...read[1]!, node: holderDid(8) }, read[3]] }))).toEqual({
      code: 'repair.duplicate',
      path: '$.read[2].shard',
      reason: 'shard 1 is listed twice (also at $.read[1])',
    });
    expect(refusal(task({ rebuild: [rebuild[0], { ...rebuild[0]!, node: holderDid(8) }] }))).toEqual({
      code: 'repair.duplicate',
      path: '$.rebuild[1].shard',
      reason: 'shard 2 is listed twice (also at $.rebuild[0])',
    });
    // One node may appear in both lists (it serves one shard and stores another).
    expect(verifyDocument(task({ rebuild: [{ shard: 2, node: read[0]!['node'] }] }), options).kind).toBe('repair_task');
  });

  it('repair.overlap: a shard is read or rebuilt, not both', () => {
    const rebuild = repairTask()['rebuild'] as Doc[];
    expect(refusal(task({ rebuild: [rebuild[0], { shard: 3, node: holderDid(8) }] }))).toEqual({
      code: 'repair.overlap',
      path: '$.rebuild[1].shard',
      reason: 'shard 3 is also read (at $.read[2]): a shard is read or rebuilt, not both',
    });
  });

  it('checks repair.duplicate before repair.overlap', () => {
    const read = repairTask()['read'] as Doc[];
    expect(refusal(task({ read: [read[0], read[0]], rebuild: [{ shard: 0, node: holderDid(8) }] })).code).toBe('repair.duplicate');
  });

  it('are refused when signed by any key but the coordinator, naming $.coordinator', () => {
    for (const key of [keys.peer, keys.stranger]) {
      expect(refusal(rawSign(repairTask(), key))).toEqual({
        code: 'signature.wrong_signer',
        path: '$.signature',
        reason: `signed by ${key.did}, but the signer must be $.coordinator (${keys.node.did})`,
      });
    }
  });
});
