/**
 * Property tests over generated documents: signing then verifying always succeeds,
 * and any single-byte change of a signed document's bytes makes verification fail.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  encodeDidKey,
  GOVERNANCE_GROUNDS,
  POPULARITY_TIERS,
  ProtocolError,
  schemeShardCount,
  SHARD_STATES,
  signDocument,
  verifyBytes,
  verifyDocument,
  type ErasureScheme,
  type SigningKey,
} from '../src/mod.ts';
import { keys, NOW, rawCid } from './fixtures.ts';

const line = (max: number) =>
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: max }).filter((s) => !/[\u0000-\u001f\u007f]/.test(s) && s.length <= max);
const hex = (n: number) => fc.stringMatching(new RegExp(`^[0-9a-f]{${n}}$`));
const uuid = fc.uuid().map((u) => u.toLowerCase()).filter((u) => /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8]/.test(u) && /-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(u));
const semver = fc.tuple(fc.nat(999), fc.nat(999), fc.nat(999)).map(([a, b, c]) => `${a}.${b}.${c}`);
const cid = fc.uint8Array({ minLength: 1, maxLength: 64 }).map((bytes) => rawCid(bytes));
const issuedAt = fc.integer({ min: Date.parse('2026-11-27T00:00:00.000Z'), max: NOW.getTime() + 5 * 60 * 1000 }).map((ms) => new Date(ms).toISOString());

const contentManifest = fc.record(
  {
    kind: fc.constant('content_manifest'),
    manifest_id: uuid,
    creator: fc.constant(keys.creator.did),
    title: line(256),
    tags: fc.uniqueArray(line(64), { maxLength: 32 }),
    category: line(64),
    chunks: fc.array(cid, { minLength: 1, maxLength: 12 }),
    size: fc.maxSafeNat(),
    fingerprint: cid,
    version: semver,
    seq: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
    issued_at: issuedAt,
    description: fc.string({ maxLength: 200 }).filter((s) => !/[\u0000-\u0008\u000b-\u001f\u007f]/.test(s)),
    language: fc.constantFrom('en', 'pt-BR', 'zh-Hant-TW'),
    license: line(128),
    mime: fc.constantFrom('audio/ogg', 'video/mp4', 'application/octet-stream'),
  },
  { requiredKeys: ['kind', 'manifest_id', 'creator', 'title', 'tags', 'category', 'chunks', 'size', 'fingerprint', 'version', 'seq', 'issued_at'] },
);

const nodeReport = fc.record({
  kind: fc.constant('node_report'),
  reporter: fc.constant(keys.peer.did),
  subject: fc.constantFrom(keys.node.did, keys.stranger.did),
  reason: fc.constantFrom('manifest_churn', 'bad_fingerprint', 'invalid_metadata', 'unavailable'),
  evidence: fc.uniqueArray(hex(64), { minLength: 1, maxLength: 64 }),
  seq: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
  issued_at: issuedAt,
});

const governanceReport = fc.record(
  {
    kind: fc.constant('governance_report'),
    reporter: fc.constant(keys.peer.did),
    subject: fc.constantFrom(keys.node.did, keys.stranger.did),
    subject_operator: fc.constantFrom(keys.operator.did, keys.stranger.did),
    grounds: fc.constantFrom(...GOVERNANCE_GROUNDS),
    evidence: fc.uniqueArray(hex(64), { minLength: 1, maxLength: 64 }),
    seq: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
    issued_at: issuedAt,
  },
  { requiredKeys: ['kind', 'reporter', 'subject', 'grounds', 'evidence', 'seq', 'issued_at'] },
);

/** Distinct did:keys: any 32 bytes are an Ed25519 did:key as far as the format goes. */
const distinctDids = (count: number) =>
  fc
    .uniqueArray(fc.uint8Array({ minLength: 32, maxLength: 32 }), { minLength: count, maxLength: count, selector: (b) => Buffer.from(b).toString('hex') })
    .map((keysBytes) => keysBytes.map((bytes) => encodeDidKey(bytes)));

/** Any valid scheme of at most 24 shards (the rules do not depend on the size; this keeps runs quick). */
const scheme: fc.Arbitrary<ErasureScheme> = fc.oneof(
  fc.record({ type: fc.constant('rs' as const), k: fc.integer({ min: 1, max: 16 }), m: fc.integer({ min: 0, max: 8 }) }),
  fc
    .record({ l: fc.integer({ min: 1, max: 4 }), perGroup: fc.integer({ min: 1, max: 4 }), r: fc.integer({ min: 0, max: 4 }) })
    .map(({ l, perGroup, r }) => ({ type: 'lrc' as const, k: l * perGroup, l, r })),
  fc.record({ type: fc.constant('replication' as const), copies: fc.integer({ min: 1, max: 24 }) }),
);

const erasureGroup = scheme.chain((s) =>
  fc.record({
    kind: fc.constant('erasure_group'),
    coordinator: fc.constant(keys.node.did),
    chunk: cid,
    size: fc.maxSafeNat(),
    tier: fc.constantFrom(...POPULARITY_TIERS),
    scheme: fc.constant(s),
    shard_bytes: fc.maxSafeNat(),
    shards: fc.array(cid, { minLength: schemeShardCount(s), maxLength: schemeShardCount(s) }),
    holders: distinctDids(schemeShardCount(s)),
    seq: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
    issued_at: issuedAt,
  }),
);

const shardReport = fc.record({
  kind: fc.constant('shard_report'),
  node: fc.constant(keys.peer.did),
  group: hex(64),
  chunk: cid,
  shard: fc.integer({ min: 0, max: 254 }),
  cid,
  state: fc.constantFrom(...SHARD_STATES),
  seq: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
  issued_at: issuedAt,
});

/** Distinct shard numbers, split into the ones read and the ones rebuilt. */
const repairTask = fc
  .uniqueArray(fc.integer({ min: 0, max: 254 }), { minLength: 2, maxLength: 40 })
  .chain((shards) => fc.tuple(fc.constant(shards), fc.integer({ min: 1, max: shards.length - 1 }), distinctDids(shards.length)))
  .chain(([shards, split, nodes]) =>
    fc.record({
      kind: fc.constant('repair_task'),
      coordinator: fc.constant(keys.node.did),
      group: hex(64),
      chunk: cid,
      read: fc.constant(shards.slice(0, split).map((shard, i) => ({ shard, node: nodes[i]! }))),
      rebuild: fc.constant(shards.slice(split).map((shard, i) => ({ shard, node: nodes[split + i]! }))),
      seq: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
      issued_at: issuedAt,
    }),
  )
  // Valid at NOW (issuedAt is at most 42 hours earlier) and at most 30 days long.
  .chain((task) =>
    fc
      .integer({ min: 2 * 24 * 3_600_000, max: 30 * 24 * 3_600_000 })
      .map((lifetime) => ({ ...task, expires_at: new Date(Date.parse(task.issued_at) + lifetime).toISOString() })),
  );

const options = { now: NOW };

describe('sign → verify', () => {
  it('round-trips arbitrary valid content manifests', () => {
    fc.assert(
      fc.property(contentManifest, (doc) => {
        const signed = signDocument(doc, keys.creator, options);
        const record = verifyBytes(JSON.stringify(signed), options);
        expect(record.signer).toBe(keys.creator.did);
        expect(record.document).toEqual(signed);
      }),
      { numRuns: 150 },
    );
  });

  it('round-trips arbitrary valid node reports', () => {
    fc.assert(
      fc.property(nodeReport, (doc) => {
        const signed = signDocument(doc, keys.peer, options);
        expect(verifyDocument(signed, options).kind).toBe('node_report');
      }),
      { numRuns: 100 },
    );
  });

  it('round-trips arbitrary valid governance reports', () => {
    fc.assert(
      fc.property(governanceReport, (doc) => {
        const signed = signDocument(doc, keys.peer, options);
        const record = verifyBytes(JSON.stringify(signed), options);
        expect(record.kind).toBe('governance_report');
        expect(record.document).toEqual(signed);
      }),
      { numRuns: 100 },
    );
  });

  it('round-trips arbitrary valid erasure groups, shard reports and repair tasks', () => {
    const roundTrip = (doc: Record<string, unknown>, key: SigningKey, kind: string): void => {
      const signed = signDocument(doc, key, options);
      const record = verifyBytes(JSON.stringify(signed), options);
      expect(record.kind).toBe(kind);
      expect(record.document).toEqual(signed);
    };
    fc.assert(
      fc.property(erasureGroup, (doc) => roundTrip(doc, keys.node, 'erasure_group')),
      { numRuns: 100 },
    );
    fc.assert(
      fc.property(shardReport, (doc) => roundTrip(doc, keys.peer, 'shard_report')),
      { numRuns: 100 },
    );
    fc.assert(
      fc.property(repairTask, (doc) => roundTrip(doc, keys.node, 'repair_task')),
      { numRuns: 100 },
    );
  });
});

describe('tampering', () => {
  function expectRefused(bytes: Buffer): void {
    let thrown: unknown;
    try {
      verifyBytes(bytes, options);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ProtocolError);
  }

  it('any single-byte change of the payload bytes fails verification', () => {
    fc.assert(
      fc.property(contentManifest, fc.nat(), fc.integer({ min: 1, max: 255 }), (doc, at, delta) => {
        const signed = signDocument(doc, keys.creator, options);
        const { signature, ...unsigned } = signed;
        // Payload first, signature member last, so the two regions are easy to tell apart.
        const text = JSON.stringify({ ...unsigned, signature });
        const bytes = Buffer.from(text, 'utf8');
        const payloadEnd = bytes.length - Buffer.byteLength(`,"signature":"${signature}"}`);
        const index = at % payloadEnd;
        bytes[index] = (bytes[index]! + delta) & 0xff;
        expectRefused(bytes);
      }),
      { numRuns: 300 },
    );
  });

  it('any single-byte change of the signature fails verification', () => {
    fc.assert(
      fc.property(contentManifest, fc.nat(), fc.integer({ min: 1, max: 255 }), (doc, at, delta) => {
        const signed = signDocument(doc, keys.creator, options);
        const text = JSON.stringify(signed);
        const bytes = Buffer.from(text, 'utf8');
        const start = bytes.lastIndexOf(Buffer.from(signed.signature));
        const index = start + (at % signed.signature.length);
        bytes[index] = (bytes[index]! + delta) & 0xff;
        expectRefused(bytes);
      }),
      { numRuns: 300 },
    );
  });
});
