import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { pino } from 'pino';
import { applyDefinitions, publishRecords } from '@dmf/bus';
import { federatedStream, metadataBucket, originStream, projectionBucketName, METADATA } from '@dmf/streams';
import { startNatsServer, type NatsServerHandle } from '@dmf/testing';
import { appendTo, chunksFrom, emptyList, entriesOf, inFullChunk, LIST_CHUNK_SIZE, removeFromTail, withoutEntry, type FullChunk } from '../src/domain/index-list.ts';
import { KEYS } from '../src/domain/keys.ts';
import { createMetadataProjector } from '../src/projector.ts';
import { decodeCursor, MetadataStore } from '../src/store/metadata-store.ts';
import { verifyMetadata } from '../src/maintenance.ts';
import { generateSigningKey, manifest, nextVersion, type SignedManifest } from './fixtures.ts';

describe('index lists (pure)', () => {
  it('fills the tail, hands over a full chunk at every LIST_CHUNK_SIZE joins, and numbers joins from 0', () => {
    const list = emptyList();
    const full: FullChunk[] = [];
    for (let i = 0; i < LIST_CHUNK_SIZE * 2 + 3; i++) {
      const { join, full: filled } = appendTo(list, `m${i}`);
      expect(join).toBe(i);
      if (filled) full.push(filled);
    }
    expect(full.map((f) => f.chunk)).toEqual([0, 1]);
    expect(full[1]?.slots[0]).toBe(`m${LIST_CHUNK_SIZE}`);
    expect(full[1]?.slots).toHaveLength(LIST_CHUNK_SIZE);
    expect(list).toEqual({ joined: LIST_CHUNK_SIZE * 2 + 3, tail: [0, 1, 2].map((k) => `m${LIST_CHUNK_SIZE * 2 + k}`) });
    expect(inFullChunk(list, LIST_CHUNK_SIZE * 2 - 1)).toBe(true);
    expect(inFullChunk(list, LIST_CHUNK_SIZE * 2)).toBe(false);
  });

  it('removes an entry from the tail or from a chunk, once, and refuses one that is not where the head says', () => {
    const list = emptyList();
    for (let i = 0; i < 5; i++) appendTo(list, `m${i}`);
    removeFromTail(list, 2, 'm2');
    expect(entriesOf(list.tail, 0, 0).map((e) => e.join)).toEqual([0, 1, 3, 4]);
    const chunk = ['a', 'b'];
    expect(withoutEntry(chunk, 3, 3 * LIST_CHUNK_SIZE + 1, 'b')).toEqual(['a', null]);
    expect(chunk).toEqual(['a', 'b']); // a new array: a cached copy is not changed
    expect(() => withoutEntry(chunk, 3, 3 * LIST_CHUNK_SIZE + 1, 'a')).toThrow(/join 193 is not manifest a/);
    // Leaving twice (applied again after a crash) changes nothing; a slot of another manifest is a bug.
    removeFromTail(list, 2, 'm2');
    expect(entriesOf(list.tail, 0, 0).map((e) => e.join)).toEqual([0, 1, 3, 4]);
    expect(() => removeFromTail(list, 3, 'm2')).toThrow(/join 3 is not manifest m2/);
  });

  it('lists a chunk from a join number on, without the entries that left', () => {
    const slots = ['a', null, 'c', 'd'];
    expect(entriesOf(slots, 2, 0)).toEqual([
      { join: 2 * LIST_CHUNK_SIZE, manifestId: 'a' },
      { join: 2 * LIST_CHUNK_SIZE + 2, manifestId: 'c' },
      { join: 2 * LIST_CHUNK_SIZE + 3, manifestId: 'd' },
    ]);
    expect(entriesOf(slots, 2, 2 * LIST_CHUNK_SIZE + 3).map((e) => e.manifestId)).toEqual(['d']);
    expect(entriesOf(slots, 2, 3 * LIST_CHUNK_SIZE)).toEqual([]);
  });

  it('names the chunks a page from a join number reads', () => {
    const list = { joined: LIST_CHUNK_SIZE * 3 + 1, tail: [] };
    expect(chunksFrom(list, 0)).toEqual({ full: [0, 1, 2], tail: true });
    expect(chunksFrom(list, LIST_CHUNK_SIZE * 2 + 5)).toEqual({ full: [2], tail: true });
    expect(chunksFrom(list, LIST_CHUNK_SIZE * 3)).toEqual({ full: [], tail: true });
    expect(chunksFrom({ joined: LIST_CHUNK_SIZE, tail: [] }, LIST_CHUNK_SIZE)).toEqual({ full: [], tail: true });
  });
});

describe('index lists in the projection (real nats-server)', () => {
  let server: NatsServerHandle;
  let nc: NatsConnection;
  let js: JetStreamClient;
  let jsm: JetStreamManager;
  const logger = pino({ level: 'silent' });

  beforeAll(async () => {
    server = await startNatsServer({ name: 'metadata-index-lists', domain: 'mil' });
    nc = await connect({ servers: server.url });
    jsm = await jetstreamManager(nc);
    js = jetstream(nc);
  });

  afterAll(async () => {
    await nc?.close();
    await server?.close();
  });

  /** The streams and bucket of an operator. */
  async function defineOperator(operator: string): Promise<void> {
    await applyDefinitions(jsm, [originStream(operator), federatedStream(operator, []), metadataBucket(operator)]);
  }

  /** Publishes signed manifests into the operator's ORIGIN, in order. */
  async function publishManifests(operator: string, records: readonly SignedManifest[]): Promise<void> {
    await publishRecords(
      js,
      records.map((r) => ({ operator, kind: 'content_manifest', id: r.id, bytes: r.bytes })),
      { window: 100 },
    );
  }

  async function listAll(page: (cursor: number | undefined) => Promise<{ heads: { manifest_id: string }[]; next: string | undefined }>) {
    const ids: string[] = [];
    let cursor: number | undefined;
    for (let pages = 0; pages < 100; pages++) {
      const answer = await page(cursor);
      ids.push(...answer.heads.map((h) => h.manifest_id));
      if (!answer.next) return { ids, pages: pages + 1 };
      cursor = decodeCursor(answer.next);
    }
    throw new Error('more than 100 pages');
  }

  it('lists across chunks in order of joining, after leaving from a full chunk, the tail, and joining again; a replay writes the same', async () => {
    const operator = 'ilp';
    await defineOperator(operator);
    const alice = generateSigningKey();
    const count = LIST_CHUNK_SIZE * 2 + 20;
    const firsts = Array.from({ length: count }, (_, i) => manifest(alice, { tags: ['deep', `t${i % 3}`] }));
    const m = (i: number) => (firsts[i] as SignedManifest).document;
    // Leaves `deep`: one from full chunk 0, one from chunk 1, one from the tail; the first joins again.
    const leave = [5, LIST_CHUNK_SIZE + 7, count - 2].map((i) => nextVersion(alice, m(i), { tags: [`t${i % 3}`] }));
    const rejoin = nextVersion(alice, leave[0]?.document as never, { tags: ['deep'] });
    const records = [...firsts, ...leave, rejoin];
    await publishManifests(operator, records);
    const bucket = projectionBucketName(METADATA, operator);
    const store = new MetadataStore(await new Kvm(js).open(bucket), jsm, bucket);
    // Batches of 10 do not line up with chunks of 128: the values must not depend on batches.
    const projector = createMetadataProjector({ js, nc, operator, store, logger, batchSize: 10 });
    await projector.start();
    await projector.reached(records.length);
    await projector.close();
    expect(projector.stats()).toMatchObject({ accepted: records.length, position: records.length });

    const expected = firsts.map((_, i) => m(i).manifest_id).filter((_, i) => ![5, LIST_CHUNK_SIZE + 7, count - 2].includes(i));
    expected.push(m(5).manifest_id);
    const deep = await listAll((cursor) => store.listLabel('deep', cursor, 50));
    expect(deep.ids).toEqual(expected);
    expect(deep.pages).toBe(Math.ceil(expected.length / 50));
    const creator = await listAll((cursor) => store.listCreator(alice.did, cursor, 100));
    expect(creator.ids).toEqual(firsts.map((_, i) => m(i).manifest_id));
    expect(await store.creatorManifests(alice.did)).toBe(count);

    // The list's value holds only its open chunk; the head knows where it joined again.
    const list = await store.listHead(KEYS.labelList('deep'));
    expect(list?.joined).toBe(count + 1);
    // Slots of the open chunk: one per join in it, the one that left is null.
    expect(list?.tail.length).toBe((count + 1) % LIST_CHUNK_SIZE);
    expect(list?.tail.filter((slot) => slot === null)).toHaveLength(1);
    expect((await store.head(m(5).manifest_id))?.joins).toEqual({ deep: count, music: expect.any(Number) });
    expect((await store.head(m(6).manifest_id))?.joins.deep).toBe(6);

    // An acknowledged replay in other batches gives the same bytes, key for key.
    const report = await verifyMetadata({ js, jsm, operator, logger });
    expect(report.equal).toBe(true);
  });

  it('pages a label by cursor without skipping or repeating while manifests join behind the cursor', async () => {
    const operator = 'ilc';
    await defineOperator(operator);
    const bob = generateSigningKey();
    const bucket = projectionBucketName(METADATA, operator);
    const store = new MetadataStore(await new Kvm(js).open(bucket), jsm, bucket);
    const projector = createMetadataProjector({ js, nc, operator, store, logger, batchSize: 16 });
    await projector.start();
    const publish = async (records: SignedManifest[]) => {
      await publishManifests(operator, records);
      await projector.reached((await jsm.streams.info(`FEDERATED_${operator}`)).state.last_seq);
    };
    const first = Array.from({ length: LIST_CHUNK_SIZE + 10 }, () => manifest(bob, { tags: ['wide'] }));
    await publish(first);
    const page1 = await store.listLabel('wide', undefined, 50);
    expect(page1.next).toBeDefined();
    const later = Array.from({ length: 30 }, () => manifest(bob, { tags: ['wide'] }));
    await publish(later);
    const rest = await listAll((cursor) => store.listLabel('wide', cursor ?? decodeCursor(page1.next as string), 50));
    await projector.close();
    expect([...page1.heads.map((h) => h.manifest_id), ...rest.ids]).toEqual([...first, ...later].map((r) => r.document.manifest_id));
  });

  it('rebuilds from the log a projection an older DMF wrote (one key per entry, `cnt.` counts)', async () => {
    const operator = 'ill';
    await defineOperator(operator);
    const carol = generateSigningKey();
    const records = Array.from({ length: 3 }, () => manifest(carol, { tags: ['old'] }));
    await publishManifests(operator, records);
    const bucket = projectionBucketName(METADATA, operator);
    const kv = await new Kvm(js).open(bucket);
    const token = carol.did.slice('did:key:'.length);
    // The old layout, said to cover the whole log: a projector that trusted it would add nothing.
    await kv.put(`cnt.${token}`, new TextEncoder().encode('3'));
    for (const r of records) await kv.put(`cre.${token}.${r.document.manifest_id}`, new Uint8Array(0));
    await kv.put(KEYS.position, new TextEncoder().encode(JSON.stringify({ seq: 3 })));
    const store = new MetadataStore(kv, jsm, bucket);
    const projector = createMetadataProjector({ js, nc, operator, store, logger });
    await projector.start();
    await projector.reached(3);
    await projector.close();
    expect(projector.stats()).toMatchObject({ accepted: 3 });
    expect(await kv.get(`cnt.${token}`)).toBeNull();
    expect(await kv.get(`cre.${token}.${records[0]?.document.manifest_id}`)).toBeNull();
    expect((await listAll((cursor) => store.listCreator(carol.did, cursor, 10))).ids).toEqual(records.map((r) => r.document.manifest_id));
  });

  it('a crash after a batch wrote its lists, before its heads and position: applying it again changes no list twice', async () => {
    // The same log on two operators: `whole` projects all of it; `crashed` stops at 60,
    // then gets the lists `whole` wrote (as if the batches up to the end had written
    // their lists and died before their heads and `_pos`), and applies 61 onwards again.
    // The test server's storage is small: give back what the tests before reserved.
    for (const stream of (await jsm.streams.names().next()).filter((n) => /_(ilp|ilc|ill)$/.test(n))) await jsm.streams.delete(stream);
    const dave = generateSigningKey();
    const firsts = Array.from({ length: 100 }, () => manifest(dave, { tags: ['again'] }));
    const leaves = [4, 69, 98].map((i) => nextVersion(dave, (firsts[i] as SignedManifest).document, { tags: ['other'] }));
    const records = [...firsts, ...leaves];
    const stores: Record<string, MetadataStore> = {};
    for (const operator of ['ilw', 'ilx']) {
      await defineOperator(operator);
      await publishManifests(operator, records);
      const bucket = projectionBucketName(METADATA, operator);
      stores[operator] = new MetadataStore(await new Kvm(js).open(bucket), jsm, bucket);
    }
    const [whole, crashed] = [stores['ilw'] as MetadataStore, stores['ilx'] as MetadataStore];
    const run = async (operator: string, store: MetadataStore, stopAt: number) => {
      const projector = createMetadataProjector({ js, nc, operator, store, logger, batchSize: 16, stopAt });
      await projector.start();
      await projector.reached(stopAt);
      await projector.close();
    };
    await run('ilw', whole, records.length);
    await run('ilx', crashed, 60);
    for await (const key of await whole.kv.keys()) {
      if (!key.startsWith('cre.') && !key.startsWith('idx.')) continue;
      await crashed.kv.put(key, (await whole.kv.get(key))?.value as Uint8Array);
    }
    // The batches' origin counts were written too (they go with the lists, before heads and `_pos`).
    await crashed.kv.put('sig.ilx', (await whole.kv.get('sig.ilw'))?.value as Uint8Array);
    await run('ilx', crashed, records.length);

    const again = await listAll((cursor) => crashed.listLabel('again', cursor, 40));
    expect(again.ids).toHaveLength(97);
    expect(new Set(again.ids).size).toBe(97);
    expect(await crashed.creatorManifests(dave.did)).toBe(100);
    expect((await verifyMetadata({ js, jsm, operator: 'ilx', logger })).equal).toBe(true);
    // What each origin carried is counted once, crash or not (sig.<origin> keeps the last sequence counted).
    const signalsOf = async (store: MetadataStore, origin: string) => (await store.kv.get(`sig.${origin}`))?.json<{ records: number; seq: number }>();
    expect(await signalsOf(crashed, 'ilx')).toEqual({ records: records.length, invalid: 0, bad_fingerprint: 0, seq: records.length });
    expect(await signalsOf(whole, 'ilw')).toEqual(await signalsOf(crashed, 'ilx'));
    // Apart from those (named by origin), the two projections of one log are the same.
    await whole.kv.delete('sig.ilw');
    await crashed.kv.delete('sig.ilx');
    expect((await verifyMetadata({ js, jsm, operator: 'ilw', logger })).live.digest).toEqual((await verifyMetadata({ js, jsm, operator: 'ilx', logger })).live.digest);
  });
});

