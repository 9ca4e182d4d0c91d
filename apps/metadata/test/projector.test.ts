import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { pino } from 'pino';
import { applyDefinitions, publishRecord, publishRecords } from '@dmf/bus';
import { federatedStream, federatedStreamName, kvStreamName, metadataBucket, originStream, originStreamName, projectionBucketName, METADATA } from '@dmf/streams';
import { startNatsServer, waitFor, type NatsServerHandle } from '@dmf/testing';
import { createMetadataProjector, type MetadataProjector, type RecordOutcome } from '../src/projector.ts';
import { decodeCursor, MetadataStore } from '../src/store/metadata-store.ts';
import { generateSigningKey, manifest, nextVersion, content } from './fixtures.ts';

let server: NatsServerHandle;
let nc: NatsConnection;
let js: JetStreamClient;
let jsm: JetStreamManager;
const logger = pino({ level: 'silent' });
const running: MetadataProjector[] = [];

beforeAll(async () => {
  server = await startNatsServer({ name: 'metadata-projector', domain: 'mp' });
  nc = await connect({ servers: server.url });
  jsm = await jetstreamManager(nc);
  js = jetstream(nc);
});

afterAll(async () => {
  await Promise.all(running.map((p) => p.close()));
  await nc?.close();
  await server?.close();
});

async function setup(operator: string, fast = false, extra: { batchSize?: number; cacheEntries?: number } = {}) {
  await applyDefinitions(jsm, [originStream(operator), federatedStream(operator, []), metadataBucket(operator)]);
  const bucket = projectionBucketName(METADATA, operator);
  const kv = await new Kvm(js).open(bucket);
  const store = new MetadataStore(kv, jsm, bucket);
  const outcomes = new Map<string, RecordOutcome>();
  const projector = createMetadataProjector({ js, nc: fast ? nc : undefined, operator, store, logger, batchSize: 8, ...extra });
  projector.onRecord((id, outcome) => outcomes.set(id, outcome));
  running.push(projector);
  const publish = async (r: { id: string; bytes: Uint8Array }) => publishRecord(js, { operator, kind: 'content_manifest', ...r });
  return { store, projector, outcomes, publish, bucket };
}

describe.each([
  ['acknowledged writes', 'opa', false],
  ['fast writes proven by the stream sequence', 'opf', true],
])('metadata projector (%s)', (_mode, operator, fast) => {
  it('projects versions, refuses rollbacks, strangers and re-uploads, and lists indices', async () => {
    const { store, projector, outcomes, publish } = await setup(operator, fast);
    const alice = generateSigningKey();
    const mallory = generateSigningKey();
    const v1 = manifest(alice, { tags: ['folk', 'sea'] });
    const v2 = nextVersion(alice, v1.document, { tags: ['folk', 'shanty'], title: 'A shanty' });
    const stale = nextVersion(alice, v1.document, { title: 'also seq 2' });
    const stolen = nextVersion(mallory, v2.document, { creator: mallory.did });
    const reupload = manifest(mallory, { tags: [], ...content(1, 'same bytes') });
    const original = manifest(alice, { tags: ['other'], category: 'Spoken', ...content(1, 'same bytes') });
    await projector.start();
    for (const r of [v1, v2, stale, stolen, original, reupload, v1]) await publish(r);
    await waitFor(() => outcomes.has(reupload.id), { timeoutMs: 15_000, description: 'all decided' });

    expect(outcomes.get(v1.id)).toMatchObject({ outcome: 'accepted', seq: 1 });
    expect(outcomes.get(v2.id)).toMatchObject({ outcome: 'accepted', seq: 2 });
    expect(outcomes.get(stale.id)).toMatchObject({ outcome: 'refused', code: 'seq.rollback' });
    expect(outcomes.get(stolen.id)).toMatchObject({ outcome: 'refused', code: 'manifest.owned' });
    expect(outcomes.get(original.id)).toMatchObject({ outcome: 'accepted' });
    expect(outcomes.get(reupload.id)).toMatchObject({ outcome: 'refused', code: 'fingerprint.duplicate_upload' });

    const head = await store.head(v1.document.manifest_id);
    expect(head).toMatchObject({ seq: 2, record_id: v2.id, seqs: [1, 2], labels: ['folk', 'music', 'shanty'] });
    expect(head?.record).toEqual(v2.document);
    expect((await store.version(v1.document.manifest_id, 1))?.record_id).toBe(v1.id);
    expect(await store.creatorManifests(alice.did)).toBe(2);

    const sea = await store.listLabel('sea', undefined, 10);
    expect(sea.heads).toEqual([]);
    const folk = await store.listLabel('folk', undefined, 1);
    expect(folk.heads.map((h) => h.manifest_id)).toEqual([v1.document.manifest_id]);
    expect(folk.next).toBeUndefined();
    const page1 = await store.listCreator(alice.did, undefined, 1);
    expect(page1.heads.map((h) => h.manifest_id)).toEqual([v1.document.manifest_id]);
    const page2 = await store.listCreator(alice.did, decodeCursor(page1.next as string), 1);
    expect(page2.heads.map((h) => h.manifest_id)).toEqual([original.document.manifest_id]);
    expect(page2.next).toBeUndefined();
    expect(projector.stats()).toMatchObject({ accepted: 3, refused: { 'seq.rollback': 1, 'manifest.owned': 1, 'fingerprint.duplicate_upload': 1 } });
  });
});

describe('metadata projector and the bytes on the bus', () => {
  it('refuses a record re-encoded on the bus (reordered or re-spaced), projects the canonical one', async () => {
    const { projector, outcomes, publish } = await setup('opn');
    const alice = generateSigningKey();
    const [first, second, third] = [manifest(alice), manifest(alice), manifest(alice)];
    const encoder = new TextEncoder();
    // Our publisher refuses bytes that are not the record's (publishRecord checks the id),
    // so a peer's re-encoding is put on the bus directly, with the msg-id it would carry.
    const reordered = encoder.encode(JSON.stringify(Object.fromEntries(Object.entries(first.document).reverse())));
    const spaced = encoder.encode(JSON.stringify(second.document, null, 2));
    await projector.start();
    await js.publish('dmf.origin.opn.content_manifest', reordered, { msgID: `opn.${first.id}` });
    await js.publish('dmf.origin.opn.content_manifest', spaced, { msgID: `opn.${second.id}` });
    await publish(third);
    await waitFor(() => outcomes.has(third.id), { timeoutMs: 15_000, description: 'all three decided' });
    expect(outcomes.get(first.id)).toMatchObject({ outcome: 'invalid', reason: 'not_canonical' });
    expect(outcomes.get(second.id)).toMatchObject({ outcome: 'invalid', reason: 'not_canonical' });
    expect(outcomes.get(third.id)).toMatchObject({ outcome: 'accepted' });
    expect(projector.stats()).toMatchObject({ accepted: 1, invalidByReason: { not_canonical: 2 } });
  });
});

describe('metadata projector reads and batches', () => {
  // Each operator's streams reserve their maximum size on the test server: give it back.
  async function dropOperator(operator: string) {
    for (const stream of [originStreamName(operator), federatedStreamName(operator), kvStreamName(projectionBucketName(METADATA, operator))]) {
      await jsm.streams.delete(stream).catch(() => undefined);
    }
  }
  afterEach(async () => {
    await Promise.all(running.splice(0).map((p) => p.close()));
    for (const operator of ['ors', 'orr', 'orq']) await dropOperator(operator);
  });

  it('on an empty bucket skips reads of keys it never wrote, and still reads (and decides right) keys it wrote but forgot', async () => {
    // A cache of 2 entries: nearly every earlier head, claim and count has been evicted when it is needed again.
    const { store, projector, outcomes, publish } = await setup('ors', true, { cacheEntries: 2 });
    const alice = generateSigningKey();
    const mallory = generateSigningKey();
    const firsts = Array.from({ length: 12 }, (_, i) => manifest(alice, { tags: [`t${i}`] }));
    const seconds = firsts.map((f) => nextVersion(alice, f.document, { title: 'second version' }));
    const rollbacks = firsts.slice(0, 3).map((f) => nextVersion(alice, f.document, { seq: 1, title: 'rolled back' }));
    const stolen = firsts.slice(3, 6).map((f) => nextVersion(mallory, f.document, { creator: mallory.did }));
    const reuploads = firsts.slice(6, 9).map((f) => manifest(mallory, { fingerprint: f.document.fingerprint, chunks: f.document.chunks, size: f.document.size }));
    for (const r of [...firsts, ...seconds, ...rollbacks, ...stolen, ...reuploads]) await publish(r);
    await projector.start();
    const last = reuploads.at(-1) as { id: string };
    await waitFor(() => outcomes.has(last.id), { timeoutMs: 15_000, description: 'all decided' });

    for (const r of [...firsts, ...seconds]) expect(outcomes.get(r.id)).toMatchObject({ outcome: 'accepted' });
    for (const r of rollbacks) expect(outcomes.get(r.id)).toMatchObject({ outcome: 'refused', code: 'seq.rollback' });
    for (const r of stolen) expect(outcomes.get(r.id)).toMatchObject({ outcome: 'refused', code: 'manifest.owned' });
    for (const r of reuploads) expect(outcomes.get(r.id)).toMatchObject({ outcome: 'refused', code: 'fingerprint.duplicate_upload' });
    expect(await store.creatorManifests(alice.did)).toBe(12);
    expect((await store.head(firsts[0]?.document.manifest_id as string))?.seqs).toEqual([1, 2]);
    // The first versions' heads and claims were never written before: not read.
    expect(projector.stats().skippedReads).toBeGreaterThanOrEqual(12);
  });

  it('resumed on a bucket that already holds state, reads every miss (it cannot know what is absent)', async () => {
    const first = await setup('orr', true);
    const alice = generateSigningKey();
    const v1 = manifest(alice);
    await first.publish(v1);
    await first.projector.start();
    await waitFor(() => first.outcomes.has(v1.id), { timeoutMs: 15_000, description: 'v1 decided' });
    await first.projector.close();

    const second = await setup('orr', true);
    const again = nextVersion(alice, v1.document, { seq: 1, title: 'rolled back' });
    await second.publish(again);
    await second.projector.start();
    await waitFor(() => second.outcomes.has(again.id), { timeoutMs: 15_000, description: 'rollback decided' });
    expect(second.outcomes.get(again.id)).toMatchObject({ outcome: 'refused', code: 'seq.rollback' });
    expect(second.projector.stats().skippedReads).toBe(0);
  });

  it('replaying a backlog holds a few batches in memory, not the stream', async () => {
    const { projector, outcomes, publish } = await setup('orq', true, { batchSize: 4 });
    const alice = generateSigningKey();
    const records = Array.from({ length: 300 }, () => manifest(alice));
    for (const r of records) await publish(r);
    await projector.start();
    await waitFor(() => outcomes.size === records.length, { timeoutMs: 15_000, description: 'all 300 decided' });
    expect(projector.stats().accepted).toBe(300);
    // Paused at 32 (8 batches of 4); what was already on its way when it paused comes on top.
    expect(projector.stats().maxQueued).toBeGreaterThanOrEqual(32);
    expect(projector.stats().maxQueued).toBeLessThan(100);
  });

  it('under live load takes what arrived while a batch was written as the next batch (not one record a batch)', async () => {
    const { projector, outcomes } = await setup('orb', true, { batchSize: 256 });
    await projector.start();
    const alice = generateSigningKey();
    const records = Array.from({ length: 200 }, () => manifest(alice));
    await publishRecords(js, records.map((r) => ({ operator: 'orb', kind: 'content_manifest', id: r.id, bytes: r.bytes })), { window: 200 });
    await waitFor(() => outcomes.size === records.length, { timeoutMs: 15_000, description: 'all 200 decided' });
    expect(projector.stats().accepted).toBe(200);
    expect(projector.stats().batches).toBeLessThanOrEqual(50);
  });
});
