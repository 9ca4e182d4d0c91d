import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { pino } from 'pino';
import { applyDefinitions, publishRecord } from '@dmf/bus';
import { federatedStream, metadataBucket, originStream, projectionBucketName, METADATA } from '@dmf/streams';
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

async function setup(operator: string, fast = false) {
  await applyDefinitions(jsm, [originStream(operator), federatedStream(operator, []), metadataBucket(operator)]);
  const bucket = projectionBucketName(METADATA, operator);
  const kv = await new Kvm(js).open(bucket);
  const store = new MetadataStore(kv, jsm, bucket);
  const outcomes = new Map<string, RecordOutcome>();
  const projector = createMetadataProjector({ js, nc: fast ? nc : undefined, operator, store, logger, batchSize: 8 });
  projector.onRecord((id, outcome) => outcomes.set(id, outcome));
  running.push(projector);
  const publish = async (r: { id: string; bytes: Uint8Array }) => publishRecord(js, { operator, kind: 'content_manifest', ...r });
  return { store, projector, outcomes, publish };
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
