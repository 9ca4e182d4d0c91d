import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalBytes, MAX_DOCUMENT_BYTES, signRecord, verifyBytes, type ContentManifest } from '@dmf/protocol';
import { DEFAULT_BODY_LIMIT, PROBLEM_CONTENT_TYPE, problemType } from '@dmf/http';
import { CreatorRate } from '../src/domain/creator-rate.ts';
import { startBus, startMetadataNode, type Bus, type HttpResponse, type MetadataNode } from './adapter-harness.ts';
import { content, generateSigningKey, manifest, nextVersion, type SignedManifest } from './fixtures.ts';

let bus: Bus;
let node: MetadataNode;
/** A node whose creators may publish 3 records at once, then one a minute. */
let strict: MetadataNode;

beforeAll(async () => {
  bus = await startBus('metadata-routes');
  node = await startMetadataNode(bus, 'routes', { maxPageSize: 50 });
  strict = await startMetadataNode(bus, 'strict', { publisher: { creatorRate: new CreatorRate({ burst: 3, perMinute: 1 }) } });
});

afterAll(async () => {
  await node?.close();
  await strict?.close();
  await bus?.close();
});

const encoder = new TextEncoder();
const minutes = (n: number) => new Date(Date.now() + n * 60_000);

/** Publishes and expects it projected. */
async function published(r: SignedManifest, on: MetadataNode = node): Promise<HttpResponse> {
  const response = await on.post(r.bytes);
  expect(response.status, response.body).toBe(201);
  return response;
}

/** The problem a response carries, after checking it is one. */
function problemOf(response: HttpResponse): { type: string; status: number; detail: string; errors?: { path: string; reason: string }[] } {
  expect(response.headers['content-type']).toContain(PROBLEM_CONTENT_TYPE);
  const body = response.json() as { type: string; status: number; detail: string; errors?: { path: string; reason: string }[] };
  expect(body.status).toBe(response.status);
  return body;
}

/** Runs `act` and checks that nothing was published or projected meanwhile. */
async function storesNothing<T>(on: MetadataNode, act: () => Promise<T>): Promise<T> {
  const origin = await on.originMessages();
  const stats = on.projector.stats();
  const result = await act();
  expect(await on.originMessages()).toBe(origin);
  expect(on.projector.stats()).toEqual(stats);
  return result;
}

describe('POST /publish_manifest', () => {
  it('answers 201 with the record id and where to read it, and the same again for a repeat, stored once', async () => {
    const alice = generateSigningKey();
    const v1 = manifest(alice);
    const first = await published(v1);
    const location = `/manifest/${v1.document.manifest_id}?seq=1`;
    expect(first.headers['location']).toBe(location);
    expect(first.headers['set-cookie']).toBeUndefined();
    expect(first.json()).toEqual({ id: v1.id, manifest_id: v1.document.manifest_id, seq: 1, status: 'projected', location });

    const again = await storesNothing(node, () => node.post(v1.bytes));
    expect(again.status).toBe(201);
    expect(again.body).toBe(first.body);
    expect(again.headers['location']).toBe(location);

    // Where it said: the signed record, verifiable by the client itself.
    const read = await node.get(location);
    expect(read.status).toBe(200);
    const body = read.json() as { record: ContentManifest; record_id: string };
    expect(body).toMatchObject({ manifest_id: v1.document.manifest_id, creator: alice.did, seq: 1, seqs: [1], record_id: v1.id });
    expect(verifyBytes(canonicalBytes(body.record)).id).toBe(body.record_id);
  });

  it('accepts any JSON spelling of a signed manifest and stores its canonical form', async () => {
    const v1 = manifest(generateSigningKey());
    const response = await published({ ...v1, bytes: encoder.encode(`\n${JSON.stringify(v1.document, null, 3)}\n`) });
    expect(response.json()).toMatchObject({ id: v1.id });
  });

  const alice = generateSigningKey();
  const mallory = generateSigningKey();
  let owned: SignedManifest;
  let current: SignedManifest;
  const shared = content(1, `shared bytes ${randomUUID()}`);
  let claimed: SignedManifest;

  beforeAll(async () => {
    owned = manifest(alice);
    current = nextVersion(alice, owned.document, { title: 'second version' });
    claimed = manifest(alice, { ...shared });
    for (const r of [owned, current, claimed]) await published(r);
  });

  /** Bad input: the status, the problem type, and that nothing was published or projected. */
  const cases: { name: string; body: () => string | Uint8Array; status: number; type: string; path?: string; headers?: Record<string, string> }[] = [
    { name: 'malformed JSON', body: () => '{"kind": "content_manifest",', status: 400, type: 'json.syntax' },
    { name: 'a duplicate key', body: () => '{"kind":"content_manifest","kind":"content_manifest"}', status: 400, type: 'json.duplicate_key' },
    { name: 'invalid UTF-8', body: () => new Uint8Array([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]), status: 400, type: 'json.encoding' },
    { name: 'an empty body', body: () => '', status: 400, type: 'malformed-json' },
    { name: 'not an object', body: () => '[1, 2, 3]', status: 400, type: 'document.not_object' },
    { name: 'an unknown kind', body: () => '{"kind":"content_manifesto"}', status: 400, type: 'kind.unknown', path: '$.kind' },
    {
      name: 'another valid kind',
      body: () =>
        canonicalBytes(
          signRecord(
            { kind: 'node_manifest', node_id: alice.did, services: ['metadata'], capabilities: { region: 'eu' }, public_key: alice.did, mirrors: [], version: '1.0.0' },
            alice,
            { expiresInMs: 86_400_000 },
          ).document,
        ),
      status: 422,
      type: 'kind.not_content_manifest',
      path: '$.kind',
    },
    { name: 'a wrong type (seq as a string)', body: () => canonicalBytes({ ...manifest(alice).document, seq: '1' }), status: 400, type: 'schema', path: '$.seq' },
    {
      name: 'a missing member',
      body: () => {
        const { title: _dropped, ...rest } = manifest(alice).document;
        return canonicalBytes(rest);
      },
      status: 400,
      type: 'schema',
    },
    { name: 'an unknown member', body: () => canonicalBytes({ ...manifest(alice).document, rating: 5 }), status: 400, type: 'schema' },
    {
      name: 'a body over the body limit',
      body: () => `{"kind":"content_manifest","title":"${'x'.repeat(DEFAULT_BODY_LIMIT)}"}`,
      status: 413,
      type: 'payload-too-large',
    },
    {
      name: 'a document over the protocol limit',
      body: () => `{"kind":"content_manifest","title":"${'x'.repeat(MAX_DOCUMENT_BYTES)}"}`,
      status: 413,
      type: 'json.too_large',
    },
    { name: 'another media type', body: () => manifest(alice).bytes, headers: { 'content-type': 'text/plain' }, status: 415, type: 'unsupported-media-type' },
    {
      name: 'a forged signature (changed after signing)',
      body: () => canonicalBytes({ ...manifest(alice).document, title: 'changed after signing' }),
      status: 422,
      type: 'signature.invalid',
      path: '$.signature',
    },
    {
      name: "a signature by someone other than the creator",
      body: () => canonicalBytes({ ...manifest(mallory).document, creator: alice.did }),
      status: 422,
      type: 'signature.wrong_signer',
      path: '$.signature',
    },
    {
      name: "a manifest signed by one creator claiming another's manifest_id",
      body: () => nextVersion(mallory, current.document, { creator: mallory.did }).bytes,
      status: 403,
      type: 'manifest.owned',
      path: '$.manifest_id',
    },
    {
      name: "a re-upload of another creator's fingerprint",
      body: () => manifest(mallory, { ...shared }).bytes,
      status: 409,
      type: 'fingerprint.duplicate_upload',
      path: '$.fingerprint',
    },
    {
      name: 'a rollback (seq not above the current version)',
      body: () => manifest(alice, { manifest_id: owned.document.manifest_id, seq: 2, title: 'another second version' }).bytes,
      status: 409,
      type: 'seq.rollback',
      path: '$.seq',
    },
    {
      name: 'a replay of a record signed long ago',
      body: () => manifest(alice, {}, { now: minutes(-60) }).bytes,
      status: 422,
      type: 'issued_at.stale',
      path: '$.issued_at',
    },
    { name: 'a future timestamp', body: () => manifest(alice, {}, { now: minutes(30) }).bytes, status: 422, type: 'issued_at.future', path: '$.issued_at' },
    {
      name: 'inconsistent sizes',
      body: () => manifest(alice, { ...content(3), size: 2 }).bytes,
      status: 422,
      type: 'fingerprint.inconsistent',
      path: '$.size',
    },
    {
      name: 'one chunk whose CID is not the fingerprint',
      body: () => manifest(alice, { ...content(1), fingerprint: content(1).fingerprint }).bytes,
      status: 422,
      type: 'fingerprint.inconsistent',
      path: '$.fingerprint',
    },
    { name: 'tags repeated in other spelling', body: () => manifest(alice, { tags: ['Jazz', 'jazz '] }).bytes, status: 422, type: 'spam.tags', path: '$.tags[1]' },
    { name: 'a stuffed title', body: () => manifest(alice, { title: 'free free free free free music' }).bytes, status: 422, type: 'spam.text', path: '$.title' },
  ];

  for (const c of cases) {
    it(`refuses ${c.name}: ${c.status} ${c.type}, nothing stored`, async () => {
      const response = await storesNothing(node, () =>
        node.request({ path: '/publish_manifest', method: 'POST', body: c.body(), headers: c.headers }),
      );
      expect(response.status, response.body).toBe(c.status);
      const problem = problemOf(response);
      expect(problem.type).toBe(problemType(c.type));
      expect(problem.detail).not.toBe('');
      if (c.path) expect(problem.errors?.[0]?.path).toBe(c.path);
      if (c.path) expect(problem.detail.startsWith(`${c.path}: `)).toBe(true);
    });
  }

  it('answers a replay of an earlier accepted version with its own answer, storing nothing', async () => {
    const response = await storesNothing(node, () => node.post(owned.bytes));
    expect(response.status).toBe(201);
    expect(response.json()).toMatchObject({ id: owned.id, seq: 1, status: 'projected' });
    expect((await node.store.head(owned.document.manifest_id))?.record_id).toBe(current.id);
  });

  it('throttles a flood from one creator with 429 and Retry-After, while another creator still gets in', async () => {
    const flooder = generateSigningKey();
    const other = generateSigningKey();
    const accepted = Array.from({ length: 3 }, () => manifest(flooder));
    for (const r of accepted) await published(r, strict);
    const limited = await storesNothing(strict, () => strict.post(manifest(flooder).bytes));
    expect(limited.status).toBe(429);
    expect(problemOf(limited)).toMatchObject({ type: problemType('spam.rate'), errors: [{ path: '$.creator' }] });
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    // A repeat of an accepted record costs no token: still answered, even with none left.
    const repeat = await storesNothing(strict, () => strict.post(accepted[0]!.bytes));
    expect(repeat.status).toBe(201);
    expect(repeat.json()).toMatchObject({ id: accepted[0]!.id });
    // Another creator is not held back by the flood.
    await published(manifest(other), strict);
  });
});

describe('GET /manifest/:id', () => {
  it('answers the current version, and earlier ones with ?seq=', async () => {
    const alice = generateSigningKey();
    const v1 = manifest(alice, { title: 'first' });
    const v2 = nextVersion(alice, v1.document, { title: 'second' });
    const v3 = nextVersion(alice, v2.document, { title: 'third', seq: 5 });
    for (const v of [v1, v2, v3]) await published(v);
    const id = v1.document.manifest_id;

    const head = (await node.get(`/manifest/${id}`)).json();
    expect(head).toEqual({ manifest_id: id, creator: alice.did, seq: 5, seqs: [1, 2, 5], record_id: v3.id, record: v3.document });
    for (const v of [v1, v2, v3]) {
      const version = await node.get(`/manifest/${id}?seq=${v.document.seq}`);
      expect(version.status).toBe(200);
      expect(version.json()).toEqual({ manifest_id: id, creator: alice.did, seq: v.document.seq, seqs: [1, 2, 5], record_id: v.id, record: v.document });
    }

    const missing = await node.get(`/manifest/${id}?seq=3`);
    expect(missing.status).toBe(404);
    expect(problemOf(missing)).toMatchObject({ type: problemType('not-found'), errors: [{ path: 'querystring.seq' }] });
    for (const bad of ['0', '-1', 'x', '1.5']) {
      const response = await node.get(`/manifest/${id}?seq=${bad}`);
      expect(response.status).toBe(400);
      expect(problemOf(response).errors?.[0]?.path).toBe('querystring.seq');
    }
    const unknownQuery = await node.get(`/manifest/${id}?version=1`);
    expect(unknownQuery.status).toBe(400);
  });

  it('answers 404 for an unknown id and 400 naming params.id for a malformed one', async () => {
    const unknown = await node.get(`/manifest/${randomUUID()}`);
    expect(unknown.status).toBe(404);
    expect(problemOf(unknown)).toMatchObject({ type: problemType('not-found'), errors: [{ path: 'params.id' }] });
    for (const bad of ['not-a-uuid', randomUUID().toUpperCase(), '..%2F..%2Fetc']) {
      const response = await node.get(`/manifest/${bad}`);
      expect(response.status).toBe(400);
      expect(problemOf(response)).toMatchObject({ type: problemType('validation-failed'), errors: [{ path: 'params.id' }] });
    }
  });
});

/** Every page of an index, following `next`. */
async function allPages(path: string, limit: number): Promise<string[][]> {
  const pages: string[][] = [];
  let cursor: string | null = null;
  do {
    const response = await node.get(`${path}?limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`);
    expect(response.status, response.body).toBe(200);
    const body = response.json() as { items: { manifest_id: string }[]; next: string | null };
    pages.push(body.items.map((i) => i.manifest_id));
    cursor = body.next;
  } while (cursor !== null && pages.length < 100);
  return pages;
}

describe('GET /creator/:did', () => {
  it("pages through a creator's manifests in order of first publication, with the signed records", async () => {
    const alice = generateSigningKey();
    const records = Array.from({ length: 5 }, () => manifest(alice));
    for (const r of records) await published(r);
    // A new version does not move a manifest in its creator's index.
    await published(nextVersion(alice, records[0]!.document));
    const ids = records.map((r) => r.document.manifest_id);
    expect(await allPages(`/creator/${alice.did}`, 2)).toEqual([ids.slice(0, 2), ids.slice(2, 4), ids.slice(4)]);
    const all = (await node.get(`/creator/${alice.did}`)).json() as { items: { manifest_id: string; seq: number; record_id: string; record: ContentManifest }[]; next: null };
    expect(all.next).toBeNull();
    expect(all.items[0]).toMatchObject({ manifest_id: ids[0], seq: 2 });
    for (const item of all.items) expect(verifyBytes(canonicalBytes(item.record)).id).toBe(item.record_id);
    expect((await node.get(`/creator/${generateSigningKey().did}`)).json()).toEqual({ items: [], next: null });
  });

  it('refuses a malformed did, cursor or limit, naming it', async () => {
    const did = generateSigningKey().did;
    const checks: [string, string][] = [
      ['/creator/did:web:example.com', 'params.did'],
      [`/creator/${did}?cursor=not!ours`, 'querystring.cursor'],
      [`/creator/${did}?cursor=0`, 'querystring.cursor'],
      [`/creator/${did}?limit=0`, 'querystring.limit'],
      [`/creator/${did}?limit=51`, 'querystring.limit'],
      [`/creator/${did}?limit=ten`, 'querystring.limit'],
    ];
    for (const [path, field] of checks) {
      const response = await node.get(path);
      expect(response.status, path).toBe(400);
      expect(problemOf(response).errors?.[0]?.path, path).toBe(field);
    }
  });
});

describe('GET /category/:tag', () => {
  it('lists by category or tag, normalised, and pages stay stable while entries join and leave', async () => {
    const alice = generateSigningKey();
    const tag = `jazz ${randomUUID().slice(0, 8)}`;
    const rs = Array.from({ length: 5 }, (_, i) => manifest(alice, { title: `tune ${i}`, tags: [tag], category: i % 2 ? tag : 'Music' }));
    for (const r of rs) await published(r);
    const ids = rs.map((r) => r.document.manifest_id);
    const path = `/category/${encodeURIComponent(` ${tag.toUpperCase()}  `)}`;

    const first = (await node.get(`${path}?limit=2`)).json() as { items: { manifest_id: string }[]; next: string };
    expect(first.items.map((i) => i.manifest_id)).toEqual(ids.slice(0, 2));
    // Between pages: the first entry leaves, an entry of the next page leaves, a new one joins.
    await published(nextVersion(alice, rs[0]!.document, { tags: ['blues'], category: 'Music' }));
    await published(nextVersion(alice, rs[2]!.document, { tags: [], category: 'Spoken' }));
    const late = manifest(alice, { tags: [tag] });
    await published(late);
    const rest: string[] = [];
    let cursor: string | null = first.next;
    while (cursor !== null) {
      const page = (await node.get(`${path}?limit=2&cursor=${cursor}`)).json() as { items: { manifest_id: string }[]; next: string | null };
      rest.push(...page.items.map((i) => i.manifest_id));
      cursor = page.next;
    }
    // Entries that stayed (ids 1, 3, 4) are neither skipped nor repeated; the left one is gone, the newcomer is last.
    expect(rest).toEqual([ids[3], ids[4], late.document.manifest_id]);
    expect(await allPages(`/category/${encodeURIComponent(tag)}`, 10)).toEqual([[ids[1], ids[3], ids[4], late.document.manifest_id]]);
    expect(await allPages('/category/blues', 50)).toContainEqual(expect.arrayContaining([ids[0]]));
  });

  it('refuses a tag that is blank after normalising', async () => {
    const response = await node.get(`/category/${encodeURIComponent(' \t ')}`);
    expect(response.status).toBe(400);
    expect(problemOf(response)).toMatchObject({ type: problemType('validation-failed'), errors: [{ path: 'params.tag' }] });
  });
});

describe('OpenAPI', () => {
  it('documents the four routes with their parameters and answers', async () => {
    const doc = (await node.get('/openapi.json')).json() as { paths: Record<string, Record<string, { parameters?: { name: string; in: string }[]; responses: Record<string, unknown> }>> };
    expect(Object.keys(doc.paths['/publish_manifest']?.['post']?.responses ?? {})).toEqual(expect.arrayContaining(['201', '202', '4XX']));
    expect(doc.paths['/manifest/{id}']?.['get']?.parameters).toEqual(
      expect.arrayContaining([expect.objectContaining({ name: 'id', in: 'path' }), expect.objectContaining({ name: 'seq', in: 'query' })]),
    );
    expect(doc.paths['/creator/{did}']?.['get']?.parameters).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'cursor', in: 'query' })]));
    expect(Object.keys(doc.paths['/category/{tag}']?.['get']?.responses ?? {})).toContain('200');
  });
});
