/**
 * Property test of the publish path: generated garbage and mutations of valid signed
 * manifests, thrown at `POST /publish_manifest` and, bypassing the adapter, straight into
 * the operator's ORIGIN for the projector. Whatever comes in: no answer is a 5xx, every
 * refusal is a problem with a type, and every manifest the projection holds afterwards
 * is a record that verifies and that the decision rules allow.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { publishRecord } from '@dmf/bus';
import { PROBLEM_CONTENT_TYPE, PROBLEM_TYPE_BASE } from '@dmf/http';
import { canonicalBytes, signDocument, verifyBytes, type ContentManifest, type SigningKey } from '@dmf/protocol';
import { checkManifestAlone } from '../src/domain/decide.ts';
import { CreatorRate } from '../src/domain/creator-rate.ts';
import { labelsOf } from '../src/domain/labels.ts';
import { startBus, startMetadataNode, type Bus, type MetadataNode } from './adapter-harness.ts';
import { content, generateSigningKey, manifest, nextVersion, type SignedManifest } from './fixtures.ts';

let bus: Bus;
let node: MetadataNode;
const alice = generateSigningKey();
const mallory = generateSigningKey();
const keys = [alice, mallory];
let bases: SignedManifest[] = [];
/** Record ids the adapter answered 201 to: each must be in the projection afterwards. */
const projectedAnswers = new Map<string, { manifest_id: string; seq: number }>();

beforeAll(async () => {
  bus = await startBus('metadata-fuzz');
  // A generous creator rate, so that accepted mutations reach the projection rules.
  node = await startMetadataNode(bus, 'fuzz', { publisher: { creatorRate: new CreatorRate({ burst: 100_000, perMinute: 100_000 }) } });
  const a1 = manifest(alice, { tags: ['folk', 'sea'], ...content(1, 'fuzz shared') });
  const a2 = nextVersion(alice, a1.document, { title: 'second version', tags: ['folk'] });
  const b1 = manifest(alice, { category: 'Spoken', tags: [] });
  const c1 = manifest(mallory, { category: 'Music', tags: ['jazz'], description: 'a tune' });
  for (const r of [a1, a2, b1, c1]) expect((await node.post(r.bytes)).status).toBe(201);
  bases = [a1, a2, b1, c1];
});

afterAll(async () => {
  await node?.close();
  await bus?.close();
});

const encoder = new TextEncoder();

type Doc = Record<string, unknown>;
const FIELDS = ['kind', 'manifest_id', 'creator', 'title', 'tags', 'category', 'chunks', 'size', 'fingerprint', 'version', 'seq', 'issued_at', 'signature', 'description'];
const otherTypes = fc.constantFrom<unknown>(null, 0, -1, 1.5, 2 ** 60, '', 'x', [], {}, true, ['a'], { a: 1 });

/** Signs `doc` as `key` at its issued_at; when that is impossible (the mutation broke the schema), keeps the old signature. */
function resign(doc: Doc, key: SigningKey): Doc {
  try {
    const at = typeof doc['issued_at'] === 'string' ? new Date(Date.parse(doc['issued_at'])) : new Date();
    return signDocument(doc, key, { now: Number.isNaN(at.getTime()) ? new Date() : at });
  } catch {
    return doc;
  }
}

/** Where a re-signed change lands: a later version of the same manifest, or a new manifest. */
const laterOrNew: fc.Arbitrary<(doc: Doc) => Doc> = fc.oneof(
  fc.integer({ min: 1, max: 1000 }).map((ahead) => (doc: Doc) => ({ seq: Number(doc['seq']) + ahead })),
  fc.uuid({ version: 4 }).map((manifest_id) => () => ({ manifest_id, seq: 1 })),
);

/** A mutation of a valid signed manifest, as a function of the document. */
const mutation: fc.Arbitrary<(doc: Doc) => Doc> = fc.oneof(
  // Flip a field, unsigned: the signature no longer matches.
  fc.constantFrom(...FIELDS).map((field) => (doc: Doc) => {
    const value = doc[field];
    const flipped = typeof value === 'string' ? `${value}x` : typeof value === 'number' ? value + 1 : Array.isArray(value) ? [...value].reverse().concat(value) : 'x';
    return { ...doc, [field]: flipped };
  }),
  // Change a type.
  fc.tuple(fc.constantFrom(...FIELDS), otherTypes).map(([field, value]) => (doc: Doc) => ({ ...doc, [field]: value })),
  // Drop a member, or add one, and maybe re-sign.
  fc.tuple(fc.constantFrom(...FIELDS), fc.boolean()).map(([field, sign]) => (doc: Doc) => {
    const { [field]: _dropped, ...rest } = doc;
    return sign ? resign(rest, alice) : rest;
  }),
  fc.tuple(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 })).map(([field, value]) => (doc: Doc) => ({ ...doc, [field || 'extra']: value })),
  // Re-sign with another key: as the stated creator's impostor, or as a creator of its own claiming the id.
  fc.boolean().map((claim) => (doc: Doc) => {
    const { issued_at: _issued, ...rest } = doc;
    const signed = resign({ ...rest, creator: mallory.did }, mallory);
    return claim ? signed : { ...signed, creator: doc['creator'] };
  }),
  // New seq or issued_at, re-signed by the right key (valid records: a rollback, a new version, stale, future).
  fc.integer({ min: 1, max: 6 }).map((seq) => (doc: Doc) => resign({ ...doc, seq, title: `${String(doc['title'])} ${seq}` }, keyOf(doc))),
  fc.integer({ min: -120, max: 120 }).map((offset) => (doc: Doc) =>
    resign({ ...doc, seq: Number(doc['seq']) + 1, issued_at: new Date(Date.now() + offset * 60_000).toISOString() }, keyOf(doc)),
  ),
  // Content and text changes, re-signed, as a later version or as a new manifest: inconsistent sizes, someone else's fingerprint, spam.
  fc.tuple(fc.integer({ min: 0, max: 3 }), fc.constantFrom('same', 'zero', 'fewer', 'more'), laterOrNew).map(([chunks, size, place]) => (doc: Doc) => {
    const c = chunks === 0 ? content(1, 'fuzz shared') : content(chunks);
    const sizes = { same: c.size, zero: 0, fewer: c.chunks.length - 1, more: c.chunks.length * 4 * 1024 * 1024 + 1 };
    return resign({ ...doc, ...c, size: sizes[size], ...place(doc) }, keyOf(doc));
  }),
  fc.tuple(fc.array(fc.string({ maxLength: 10 }), { maxLength: 5 }), fc.string({ maxLength: 40 }), laterOrNew).map(([tags, title, place]) => (doc: Doc) =>
    resign({ ...doc, tags, title, ...place(doc) }, keyOf(doc)),
  ),
);

/** Canonical bytes, or plain JSON when the mutation made it no protocol value (a float, a huge integer). */
function bytesOf(doc: Doc): Uint8Array {
  try {
    return canonicalBytes(doc);
  } catch {
    return encoder.encode(JSON.stringify(doc));
  }
}

function keyOf(doc: Doc): SigningKey {
  return keys.find((k) => k.did === doc['creator']) ?? alice;
}

/** What is thrown at the endpoint and the bus: bytes. */
const input: fc.Arbitrary<Uint8Array> = fc.oneof(
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 300 }) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => encoder.encode(JSON.stringify(v) ?? 'null')) },
  {
    weight: 1,
    arbitrary: fc
      .dictionary(fc.constantFrom(...FIELDS), fc.oneof(fc.string({ maxLength: 12 }), fc.integer(), otherTypes), { maxKeys: 8 })
      .map((d) => encoder.encode(JSON.stringify({ kind: 'content_manifest', ...d }))),
  },
  {
    weight: 4,
    arbitrary: fc.tuple(fc.nat(), fc.array(mutation, { minLength: 1, maxLength: 2 })).map(([i, ms]) => {
      const base = bases[i % bases.length] as SignedManifest;
      let doc: Doc = { ...base.document };
      for (const m of ms) doc = m(doc);
      return bytesOf(doc);
    }),
  },
  {
    weight: 1,
    // Byte-level damage of a valid record: one byte changed, or cut short.
    arbitrary: fc.tuple(fc.nat(), fc.nat(), fc.integer({ min: 0, max: 255 }), fc.boolean()).map(([i, at, byte, cut]) => {
      const bytes = Uint8Array.from((bases[i % bases.length] as SignedManifest).bytes);
      const index = at % bytes.length;
      if (cut) return bytes.slice(0, Math.max(1, index));
      bytes[index] = byte;
      return bytes;
    }),
  },
);

describe('publish path under generated input', () => {
  it('answers every POST with a 2xx or a 4xx problem carrying a type, never a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(input, async (bytes) => {
        const response = await node.post(bytes);
        expect(response.status, response.body).toBeLessThan(500);
        if (response.status >= 400) {
          expect(response.headers['content-type']).toContain(PROBLEM_CONTENT_TYPE);
          const problem = response.json();
          expect(typeof problem['type'] === 'string' && problem['type'].startsWith(PROBLEM_TYPE_BASE)).toBe(true);
          expect(problem['status']).toBe(response.status);
          expect(typeof problem['detail']).toBe('string');
        } else {
          expect([201, 202]).toContain(response.status);
          const answer = response.json() as { id: string; manifest_id: string; seq: number; status: string };
          expect(response.headers['location']).toBe(`/manifest/${answer.manifest_id}?seq=${answer.seq}`);
          if (answer.status === 'projected') projectedAnswers.set(answer.id, answer);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('publishes the same kind of input straight into ORIGIN without the projector ever failing on it', async () => {
    await fc.assert(
      fc.asyncProperty(input, fc.constantFrom('content_manifest', 'content_manifest', 'node_manifest'), async (bytes, kind) => {
        const id = createHash('sha256').update(bytes).digest('hex');
        await publishRecord(bus.js, { operator: node.operator, kind, id, bytes });
      }),
      { numRuns: 200 },
    );
    await node.caughtUp();
    expect(node.projector.stats().position).toBeGreaterThan(0);
  });

  it('leaves a projection whose every manifest is a verified record its creator owns, consistent with the rules', async () => {
    await node.caughtUp();
    const heads: string[] = [];
    for await (const key of await node.store.kv.keys('man.>')) heads.push(key.slice('man.'.length));
    expect(heads.length).toBeGreaterThanOrEqual(bases.length - 1);
    const owned = new Map<string, number>();
    for (const manifestId of heads) {
      const head = await node.store.head(manifestId);
      if (!head) throw new Error(`head ${manifestId} vanished`);
      const verified = verifyBytes(canonicalBytes(head.record), { freshness: false });
      expect(verified.kind).toBe('content_manifest');
      expect(verified.id).toBe(head.record_id);
      const record = verified.document as ContentManifest;
      expect(record.manifest_id).toBe(manifestId);
      expect(record.creator).toBe(head.creator);
      expect(record.seq).toBe(head.seq);
      expect(() => checkManifestAlone(record)).not.toThrow();
      expect(head.labels).toEqual(labelsOf(record));
      expect(head.seqs.at(-1)).toBe(head.seq);
      for (let i = 1; i < head.seqs.length; i++) expect(head.seqs[i]).toBeGreaterThan(head.seqs[i - 1] as number);
      // The fingerprint belongs to this creator (first claim), and earlier versions are the owner's too.
      expect((await node.store.fingerprintClaim(record.fingerprint))?.creator).toBe(head.creator);
      for (const seq of head.seqs.slice(0, -1)) {
        const version = await node.store.version(manifestId, seq);
        if (!version) throw new Error(`version ${seq} of ${manifestId} missing`);
        const old = verifyBytes(canonicalBytes(version.record), { freshness: false });
        expect(old.id).toBe(version.record_id);
        expect((old.document as ContentManifest).creator).toBe(head.creator);
        expect((old.document as ContentManifest).manifest_id).toBe(manifestId);
      }
      owned.set(head.creator, (owned.get(head.creator) ?? 0) + 1);
    }
    for (const [creator, count] of owned) expect(await node.store.creatorManifests(creator)).toBe(count);
    // Every 201 the adapter gave is in the projection as it said.
    for (const [id, answer] of projectedAnswers) {
      const head = await node.store.head(answer.manifest_id);
      const recordId = head?.seq === answer.seq ? head.record_id : (await node.store.version(answer.manifest_id, answer.seq))?.record_id;
      expect(recordId, `answer ${id}`).toBe(id);
    }
  });
});
