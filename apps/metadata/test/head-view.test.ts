/**
 * The in-memory head view (src/store/head-view.ts) over a real nats-server and a real
 * projector: loading, following updates, the newer-revision rule, eviction, deletes and
 * a projection that starts over, the connection lost, and byte-for-byte equality with
 * the KV path's answers (Fastify's serialiser with the ManifestAnswer schema).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KV } from '@nats-io/kv';
import { pino } from 'pino';
import { openBucket, publishRecord } from '@dmf/bus';
import { createHttpServer, createSelfSignedCertificate, type DmfHttpServer } from '@dmf/http';
import { projectionBucketName, METADATA } from '@dmf/streams';
import { waitFor } from '@dmf/testing';
import { KEYS } from '../src/domain/keys.ts';
import { purgeProjection } from '../src/projector.ts';
import { createManifestPublisher } from '../src/publish-manifest.ts';
import { metadataErrorFamily } from '../src/problems.ts';
import { registerMetadataRoutes } from '../src/routes.ts';
import { decodeEntry, encodeJson } from '../src/store/codec.ts';
import { createHeadView, ENTRY_OVERHEAD_BYTES, headCacheBytes, HEAD_CACHE_ENV, manifestAnswerBytes, type HeadView, type HeadViewOptions } from '../src/store/head-view.ts';
import { setupProjection, startBus, startMetadataNode, type Bus, type MetadataNode, type Projection } from './adapter-harness.ts';
import { generateSigningKey, manifest, nextVersion, type SignedManifest } from './fixtures.ts';

const logger = pino({ level: 'silent' });
const WAIT = { timeoutMs: 15_000 };
let bus: Bus;
const views: HeadView[] = [];

beforeAll(async () => {
  bus = await startBus('metadata-head-view');
});

afterAll(async () => {
  await Promise.all(views.map((v) => v.stop()));
  await bus?.close();
});

async function publishAll(p: Projection, records: SignedManifest[], on: Bus = bus): Promise<void> {
  for (const r of records) await publishRecord(on.js, { operator: p.operator, kind: 'content_manifest', id: r.id, bytes: r.bytes });
  await p.caughtUp();
}

/** The bucket as the node opens it (direct gets), optionally with its `get` replaced. */
async function bucketOf(p: Projection, get?: (kv: KV, key: string) => ReturnType<KV['get']>, on: Bus = bus): Promise<KV> {
  const kv = await openBucket(on.js, p.store.bucket);
  if (!get) return kv;
  return new Proxy(kv, {
    get(target, property) {
      if (property === 'get') return (key: string) => get(target, key);
      const value: unknown = Reflect.get(target, property);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

async function startView(p: Projection, options: Partial<HeadViewOptions> = {}, on: Bus = bus): Promise<HeadView> {
  const view = createHeadView({ kv: await bucketOf(p, undefined, on), jsm: on.jsm, bucket: p.store.bucket, maxBytes: 64 * 1024 * 1024, logger, ...options });
  views.push(view);
  await view.start();
  return view;
}

/** What the KV path answers with, as the view would make it. */
async function kvAnswer(p: Projection, manifestId: string): Promise<Buffer | undefined> {
  const head = await p.store.head(manifestId);
  return head && manifestAnswerBytes(head);
}

const seqOf = (bytes: Uint8Array | undefined) => (bytes ? (JSON.parse(Buffer.from(bytes).toString('utf8')) as { seq: number }).seq : undefined);

describe('head view', () => {
  it('loads the heads the bucket holds, then follows new versions and new manifests', async () => {
    const p = await setupProjection(bus, 'hvload');
    const alice = generateSigningKey();
    const first = [manifest(alice), manifest(alice), manifest(alice, { title: 'Chanson de la mer — « été »', description: 'tab\there, quote " and \\ and 🐚' })];
    await publishAll(p, first);

    const view = await startView(p);
    await view.loaded();
    expect(view.stats()).toMatchObject({ enabled: true, serving: true, loaded: true, entries: 3, hits: 0, misses: 0 });
    for (const r of first) {
      const held = view.get(r.document.manifest_id);
      expect(held).toBeDefined();
      expect(held?.equals((await kvAnswer(p, r.document.manifest_id))!)).toBe(true);
    }
    expect(view.stats().hits).toBe(3);

    const v2 = nextVersion(alice, first[0]!.document, { title: 'second version' });
    const later = manifest(alice);
    await publishAll(p, [v2, later]);
    await waitFor(() => seqOf(view.get(v2.document.manifest_id)) === 2 && view.get(later.document.manifest_id) !== undefined, { ...WAIT, description: 'the new version and the new manifest in the view' });
    expect(view.get(v2.document.manifest_id)?.equals((await kvAnswer(p, v2.document.manifest_id))!)).toBe(true);
    expect(view.stats().entries).toBe(4);
    expect(view.stats().misses).toBe(0);
  });

  it('is loaded at once over a bucket without heads, and answers an unknown id with nothing', async () => {
    const p = await setupProjection(bus, 'hvempty');
    const view = await startView(p);
    await view.loaded();
    expect(view.stats()).toMatchObject({ loaded: true, entries: 0 });
    expect(await view.answer('00000000-0000-4000-8000-000000000000')).toBeUndefined();
    expect(view.stats()).toMatchObject({ entries: 0, misses: 1 });
  });

  it('never lets an older read overwrite a newer version the watch brought, even once evicted', async () => {
    const p = await setupProjection(bus, 'hvrace');
    const alice = generateSigningKey();
    const v1 = manifest(alice);
    const other = manifest(alice);
    await publishAll(p, [v1]);
    const id = v1.document.manifest_id;

    // While `hold` is set, reads of `id` fetch the current value at once but hand it back only when released.
    let hold: { fetched: () => void; released: Promise<void> } | undefined;
    const kv = await bucketOf(p, async (target, key) => {
      const entry = await target.get(key);
      if (key === KEYS.head(id) && hold) {
        hold.fetched();
        await hold.released;
      }
      return entry;
    });
    const v1Cost = manifestAnswerBytes((await p.store.head(id))!).byteLength + id.length + ENTRY_OVERHEAD_BYTES;
    // Room for one entry: the next manifest evicts `id`.
    const view = createHeadView({ kv, jsm: bus.jsm, bucket: p.store.bucket, maxBytes: v1Cost + 200, logger });
    views.push(view);
    await view.start();
    await view.loaded();
    expect(view.get(id)).toBeDefined();

    // Make room by evicting id, so the next answer() is a miss that reads KV.
    await publishAll(p, [other]);
    await waitFor(() => view.get(other.document.manifest_id) !== undefined && view.stats().entries === 1, { ...WAIT, description: 'id evicted' });
    expect(view.get(id)).toBeUndefined();
    expect(view.stats().evictions).toBeGreaterThanOrEqual(1);

    // A miss reads v1 from KV and is held up; meanwhile v2 is projected, watched, and evicted again.
    let release = () => {};
    const read = new Promise<void>((fetched) => {
      hold = { fetched, released: new Promise<void>((resolve) => (release = resolve)) };
    });
    const answer = view.answer(id);
    await read;
    const v2 = nextVersion(alice, v1.document, { title: 'newer' });
    await publishAll(p, [v2]);
    await waitFor(() => seqOf(view.get(id)) === 2, { ...WAIT, description: 'v2 watched' });
    const third = manifest(alice);
    await publishAll(p, [third]);
    await waitFor(() => view.get(third.document.manifest_id) !== undefined && view.get(id) === undefined, { ...WAIT, description: 'v2 evicted' });

    release();
    // The read answers what it read (v1 was current when it was read)...
    expect(seqOf(await answer)).toBe(1);
    // ...but does not become the view's answer: the watch had seen v2.
    expect(view.get(id)).toBeUndefined();
    hold = undefined;
    expect(seqOf(await view.answer(id))).toBe(2);
    expect(seqOf(view.get(id))).toBe(2);
  });

  it('evicts the least recently used under a small budget and still answers evicted ids through KV', async () => {
    const p = await setupProjection(bus, 'hvevict');
    const alice = generateSigningKey();
    const records = Array.from({ length: 6 }, () => manifest(alice));
    await publishAll(p, records);
    const ids = records.map((r) => r.document.manifest_id);
    const costs = await Promise.all(ids.map(async (id) => (await kvAnswer(p, id))!.byteLength + id.length + ENTRY_OVERHEAD_BYTES));
    const budget = Math.max(...costs) * 2 + 100; // room for two entries
    const view = await startView(p, { maxBytes: budget });
    await view.loaded();
    const loaded = view.stats();
    expect(loaded.entries).toBe(2);
    expect(loaded.bytes).toBeLessThanOrEqual(budget);
    expect(loaded.evictions).toBe(4);
    const held = ids.filter((id) => view.get(id) !== undefined);
    expect(held).toHaveLength(2);

    // Every id answers, evicted or not, with the KV path's bytes.
    for (const id of ids) expect((await view.answer(id))?.equals((await kvAnswer(p, id))!)).toBe(true);
    const after = view.stats();
    expect(after.misses).toBeGreaterThanOrEqual(4);
    expect(after.entries).toBe(2);
    expect(after.bytes).toBeLessThanOrEqual(budget);
    // The two read last are held; reading the older one makes the newer one the next to go.
    const [a, b] = ids.slice(-2) as [string, string];
    expect(view.get(a)).toBeDefined();
    expect(view.get(b)).toBeDefined();
    view.get(a);
    await view.answer(ids[0]!);
    expect(view.get(a)).toBeDefined();
    expect(view.get(b)).toBeUndefined();
  });

  it('drops a head that is deleted or purged, and everything when the projection is purged and starts over', async () => {
    const p = await setupProjection(bus, 'hvpurge');
    const alice = generateSigningKey();
    const records = Array.from({ length: 4 }, () => manifest(alice));
    await publishAll(p, records);
    const ids = records.map((r) => r.document.manifest_id);
    const view = await startView(p);
    await view.loaded();
    expect(view.stats().entries).toBe(4);
    await p.projector.close();

    // A delete and a purge marker on man.<id>.
    const kv = p.store.kv;
    await kv.delete(KEYS.head(ids[0]!));
    await kv.purge(KEYS.head(ids[1]!));
    await waitFor(() => view.stats().entries === 2, { ...WAIT, description: 'two heads dropped' });
    expect(view.get(ids[0]!)).toBeUndefined();
    expect(await view.answer(ids[1]!)).toBeUndefined();
    expect(view.get(ids[2]!)).toBeDefined();

    // A rebuild: the data prefixes purged from the stream (no markers), then `_pos` back to 0.
    const clears = view.stats().clears;
    await purgeProjection(bus.jsm, p.store.bucket);
    const position = await kv.get(KEYS.position);
    await kv.update(KEYS.position, encodeJson({ seq: 0 }), position!.revision);
    await waitFor(() => view.stats().entries === 0, { ...WAIT, description: 'the view cleared' });
    expect(view.stats().clears).toBe(clears + 1);
    for (const id of ids) expect(await view.answer(id)).toBeUndefined();
    expect(view.stats()).toMatchObject({ serving: true, entries: 0 });
  });

  it('rebuilt by the node: cleared, then the heads come back from the replay', async () => {
    const p = await setupProjection(bus, 'hvrebuild');
    const alice = generateSigningKey();
    const records = [manifest(alice), manifest(alice)];
    await publishAll(p, records);
    const view = await startView(p);
    await view.loaded();
    const before = view.stats();
    expect(before.entries).toBe(2);
    const position = (await p.store.position()).seq;

    await p.store.kv.put(KEYS.rebuild, encodeJson({ requested_at: new Date().toISOString() }));
    await waitFor(() => view.stats().clears > before.clears, { ...WAIT, description: 'cleared by the rebuild' });
    await waitFor(async () => (await p.store.position()).seq >= position && decodeEntry(await p.store.kv.get(KEYS.rebuild)) === undefined, { ...WAIT, description: 'rebuilt' });
    for (const r of records) {
      const id = r.document.manifest_id;
      expect((await view.answer(id))?.equals((await kvAnswer(p, id))!)).toBe(true);
    }
  });

  it('0 disables it: no watch, nothing held, every read from KV', async () => {
    const p = await setupProjection(bus, 'hvoff');
    const r = manifest(generateSigningKey());
    await publishAll(p, [r]);
    const view = await startView(p, { maxBytes: 0 });
    await view.loaded();
    expect(view.stats()).toMatchObject({ enabled: false, serving: false, entries: 0 });
    expect((await view.answer(r.document.manifest_id))?.equals((await kvAnswer(p, r.document.manifest_id))!)).toBe(true);
    expect(view.stats()).toMatchObject({ entries: 0, misses: 1, hits: 0 });
  });

  it('takes its budget from the option, else DMF_METADATA_HEAD_CACHE_MB, else a default, and refuses a bad one', () => {
    expect(headCacheBytes(1234, {})).toBe(1234);
    expect(headCacheBytes(undefined, { [HEAD_CACHE_ENV]: '16' })).toBe(16 * 1024 * 1024);
    expect(headCacheBytes(undefined, { [HEAD_CACHE_ENV]: '0' })).toBe(0);
    const fallback = headCacheBytes(undefined, {});
    expect(fallback).toBeGreaterThan(0);
    expect(fallback).toBeLessThanOrEqual(2 * 1024 * 1024 * 1024);
    expect(() => headCacheBytes(undefined, { [HEAD_CACHE_ENV]: '1.5' })).toThrow(HEAD_CACHE_ENV);
    expect(() => headCacheBytes(undefined, { [HEAD_CACHE_ENV]: '-1' })).toThrow(HEAD_CACHE_ENV);
    expect(() => headCacheBytes(-1, {})).toThrow(RangeError);
  });
});

describe('GET /manifest/<id> through the view', () => {
  let node: MetadataNode;
  let viewed: DmfHttpServer;
  let view: HeadView;
  let publisherClose: () => void;

  beforeAll(async () => {
    node = await startMetadataNode(bus, 'hvroutes');
    view = await startView(node);
    const tls = await createSelfSignedCertificate({ hosts: ['127.0.0.1'], days: 1 });
    viewed = await createHttpServer({ tls: { key: tls.key, cert: tls.cert }, logger, errorFamilies: [metadataErrorFamily] });
    const publisher = createManifestPublisher({ js: bus.js, operator: node.operator, store: node.store });
    publisherClose = () => publisher.close();
    registerMetadataRoutes(viewed, { publisher, store: node.store, view });
    await viewed.ready();
  });

  afterAll(async () => {
    await viewed?.close();
    publisherClose?.();
    await node?.close();
  });

  it('answers the same status, content type and bytes as the KV path, hit or miss', async () => {
    const alice = generateSigningKey();
    const plain = manifest(alice);
    const odd = manifest(alice, {
      title: 'Ünïcödé — “quotes” \\ back\\slash </script> \u2028 🐚',
      description: 'line one\nline two\ttabbed',
      tags: ['folk', 'Sea Shanty'],
      language: 'fr',
      license: 'CC-BY-4.0',
      mime: 'audio/ogg',
    });
    const v2 = nextVersion(alice, plain.document, { title: 'second' });
    for (const r of [plain, odd]) expect((await node.post(r.bytes)).status).toBe(201);
    expect((await node.post(v2.bytes)).status).toBe(201);
    await view.loaded();

    for (const id of [plain.document.manifest_id, odd.document.manifest_id]) {
      await waitFor(() => seqOf(view.get(id)) === (id === plain.document.manifest_id ? 2 : 1), { ...WAIT, description: 'the current version held' });
      const before = view.stats().hits;
      const [fromKv, fromView] = await Promise.all([node.app.inject({ url: `/manifest/${id}` }), viewed.inject({ url: `/manifest/${id}` })]);
      expect(view.stats().hits).toBe(before + 1);
      expect(fromView.statusCode).toBe(200);
      expect(fromView.statusCode).toBe(fromKv.statusCode);
      expect(fromView.headers['content-type']).toBe(fromKv.headers['content-type']);
      expect(fromView.headers['content-length']).toBe(fromKv.headers['content-length']);
      expect(fromView.rawPayload.equals(fromKv.rawPayload)).toBe(true);
    }

    // A miss (a view that holds nothing) answers the same bytes too.
    const cold = await startView(node, { maxBytes: 1 });
    const coldApp = await createHttpServer({ tls: await createSelfSignedCertificate({ hosts: ['127.0.0.1'], days: 1 }), logger });
    const publisher = createManifestPublisher({ js: bus.js, operator: node.operator, store: node.store });
    registerMetadataRoutes(coldApp, { publisher, store: node.store, view: cold });
    try {
      const id = odd.document.manifest_id;
      const [fromKv, fromMiss] = await Promise.all([node.app.inject({ url: `/manifest/${id}` }), coldApp.inject({ url: `/manifest/${id}` })]);
      expect(cold.stats()).toMatchObject({ hits: 0, misses: 1, entries: 0 });
      expect(fromMiss.headers['content-type']).toBe(fromKv.headers['content-type']);
      expect(fromMiss.rawPayload.equals(fromKv.rawPayload)).toBe(true);
    } finally {
      publisher.close();
      await coldApp.close();
    }
  });

  it('leaves ?seq= to KV and answers an unknown id with the same 404 problem', async () => {
    const alice = generateSigningKey();
    const v1 = manifest(alice);
    const v2 = nextVersion(alice, v1.document);
    expect((await node.post(v1.bytes)).status).toBe(201);
    expect((await node.post(v2.bytes)).status).toBe(201);
    const id = v1.document.manifest_id;
    for (const url of [`/manifest/${id}?seq=1`, `/manifest/${id}?seq=2`, `/manifest/${id}?seq=7`, '/manifest/00000000-0000-4000-8000-000000000000']) {
      const [fromKv, fromView] = await Promise.all([node.app.inject({ url }), viewed.inject({ url })]);
      expect(fromView.statusCode, url).toBe(fromKv.statusCode);
      expect(fromView.headers['content-type'], url).toBe(fromKv.headers['content-type']);
      expect(fromView.body, url).toBe(fromKv.body);
    }
  });
});

describe('head view, connection lost', () => {
  let own: Bus;

  afterAll(async () => {
    await own?.close();
  });

  it('clears and reads from KV when the NATS connection drops, then watches and loads again', async () => {
    own = await startBus('metadata-head-view-restart');
    const p = await setupProjection(own, 'hvdrop');
    expect(p.store.bucket).toBe(projectionBucketName(METADATA, 'hvdrop'));
    const records = [manifest(generateSigningKey()), manifest(generateSigningKey())];
    await publishAll(p, records, own);
    await p.projector.close();
    const view = await startView(p, { nc: own.nc }, own);
    try {
      await view.loaded();
      expect(view.stats().entries).toBe(2);

      await own.server.stop();
      await waitFor(() => !view.stats().serving, { ...WAIT, description: 'the view stops serving' });
      expect(view.stats()).toMatchObject({ serving: false, entries: 0 });
      expect(view.get(records[0]!.document.manifest_id)).toBeUndefined();

      await own.server.start();
      await waitFor(() => view.stats().serving && view.stats().entries === 2, { ...WAIT, description: 'watched and loaded again' });
      const id = records[1]!.document.manifest_id;
      expect(view.get(id)?.equals((await kvAnswer(p, id))!)).toBe(true);
    } finally {
      await view.stop();
    }
  });
});
