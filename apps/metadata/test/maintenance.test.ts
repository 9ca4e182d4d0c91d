import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { pino } from 'pino';
import { applyDefinitions, publishRecord } from '@dmf/bus';
import { federatedStream, metadataBucket, originStream, projectionBucketName, METADATA } from '@dmf/streams';
import { startNatsServer, waitFor, type NatsServerHandle } from '@dmf/testing';
import { createMetadataProjector } from '../src/projector.ts';
import { MetadataStore } from '../src/store/metadata-store.ts';
import { consistentDigest, rebuildMetadata, verifyMetadata } from '../src/maintenance.ts';
import { generateSigningKey, manifest, nextVersion } from './fixtures.ts';

let server: NatsServerHandle;
let nc: NatsConnection;
let js: JetStreamClient;
let jsm: JetStreamManager;
const logger = pino({ level: 'silent' });

beforeAll(async () => {
  server = await startNatsServer({ name: 'metadata-maintenance', domain: 'mm' });
  nc = await connect({ servers: server.url });
  jsm = await jetstreamManager(nc);
  js = jetstream(nc);
});

afterAll(async () => {
  await nc?.close();
  await server?.close();
});

/** A log with versions, label changes, refusals: enough for a digest to mean something. */
async function fill(operator: string): Promise<number> {
  await applyDefinitions(jsm, [originStream(operator), federatedStream(operator, []), metadataBucket(operator)]);
  const a = generateSigningKey();
  const b = generateSigningKey();
  const records = [];
  for (let i = 0; i < 20; i++) {
    const v1 = manifest(i % 2 ? a : b, { tags: [`t${i % 3}`], category: i % 4 ? 'Music' : 'Film' });
    const v2 = nextVersion(i % 2 ? a : b, v1.document, { tags: [`t${(i + 1) % 3}`] });
    records.push(v1, v2, v1);
  }
  for (const r of records) await publishRecord(js, { operator, kind: 'content_manifest', ...r });
  // ORIGIN drops the repeats (msg-id window): 40 records reach FEDERATED.
  return (await jsm.streams.info(`FEDERATED_${operator}`)).state.last_seq;
}

async function liveProjector(operator: string) {
  const bucket = projectionBucketName(METADATA, operator);
  const store = new MetadataStore(await new Kvm(js).open(bucket), jsm, bucket);
  const projector = createMetadataProjector({ js, operator, store, logger, batchSize: 7 });
  await projector.start();
  return { projector, store, bucket };
}

describe('projection maintenance', () => {
  it('verify finds the rebuilt digest equal to the live one, and different after tampering', async () => {
    const count = await fill('opv');
    const { projector, store, bucket } = await liveProjector('opv');
    await projector.reached(count);
    const report = await verifyMetadata({ js, jsm, operator: 'opv', logger });
    expect(report).toMatchObject({ position: count, equal: true });
    expect(report.live.entries).toBeGreaterThan(40);
    expect(report.rebuilt).toEqual(report.live);

    const someone = (await store.listLabel('music', undefined, 1)).heads[0];
    await store.kv.put(`man.${someone?.manifest_id}`, JSON.stringify({ ...someone, seq: 99 }));
    const tampered = await verifyMetadata({ js, jsm, operator: 'opv', logger });
    expect(tampered.equal).toBe(false);
    expect(tampered.rebuilt.digest).toBe(report.live.digest);

    // A running node rebuilds on request; afterwards the tampering is gone.
    const rebuilt = await rebuildMetadata({ js, jsm, operator: 'opv', logger });
    expect(rebuilt.by).toBe('node');
    expect(rebuilt.digest.digest).toBe(report.live.digest);
    expect((await store.head(someone?.manifest_id as string))?.seq).toBe(2);
    expect((await jsm.streams.names().next()).some((n) => n.includes('verify'))).toBe(false);
    await projector.close();
    void bucket;
  });

  it('rebuilds in this process when no node runs, and refuses nothing it should keep', async () => {
    const count = await fill('opr');
    const { projector, bucket } = await liveProjector('opr');
    await projector.reached(count);
    const before = await consistentDigest(js, bucket);
    await projector.close();
    const report = await rebuildMetadata({ js, jsm, operator: 'opr', logger });
    expect(report).toMatchObject({ by: 'here', position: count });
    expect(report.digest).toEqual({ digest: before.digest, entries: before.entries });
    expect(count).toBe(40);
    expect(report.stats).toMatchObject({ accepted: 40, duplicates: 0 });
  });

  it('a projection written fast (unacknowledged, proven by sequence) equals one written acknowledged', async () => {
    const count = await fill('opq');
    const bucket = projectionBucketName(METADATA, 'opq');
    const store = new MetadataStore(await new Kvm(js).open(bucket), jsm, bucket);
    const projector = createMetadataProjector({ js, nc, operator: 'opq', store, logger, batchSize: 3 });
    await projector.start();
    // A foreign write while it works: the proof of that batch fails and it is written again.
    await store.kv.put('_foreign', new TextEncoder().encode('x'));
    await projector.reached(count);
    expect(projector.stats().accepted).toBe(40);
    const report = await verifyMetadata({ js, jsm, operator: 'opq', logger });
    expect(report.equal).toBe(true);
    await projector.close();
  });

  it('pipelined fast writes, some of them lost on the way, still equal an acknowledged replay', async () => {
    // The test server's storage is small: give back what the tests before reserved.
    for (const stream of (await jsm.streams.names().next()).filter((n) => /_(opv|opr|opq)$/.test(n))) await jsm.streams.delete(stream);
    const count = await fill('opw');
    const bucket = projectionBucketName(METADATA, 'opw');
    const store = new MetadataStore(await new Kvm(js).open(bucket), jsm, bucket);
    // Fault injection on the real connection: every 9th unacknowledged write never leaves
    // (as if the server had refused it), so proofs fail and batches must be written again.
    let published = 0;
    let dropped = 0;
    const lossy = new Proxy(nc, {
      get(target, property, receiver) {
        if (property !== 'publish') return Reflect.get(target, property, receiver);
        return (subject: string, ...rest: unknown[]) => {
          if (++published % 9 === 0) return void dropped++;
          return (target.publish as (...args: unknown[]) => void)(subject, ...rest);
        };
      },
    });
    // Batches of 2: about 20 position writes, each proving the batch before it.
    const projector = createMetadataProjector({ js, nc: lossy, operator: 'opw', store, logger, batchSize: 2 });
    await projector.start();
    await projector.reached(count);
    expect(dropped).toBeGreaterThan(0);
    expect(projector.stats()).toMatchObject({ accepted: 40, position: count });
    expect(projector.stats().rewrites).toBeGreaterThanOrEqual(1);
    const report = await verifyMetadata({ js, jsm, operator: 'opw', logger });
    expect(report.equal).toBe(true);
    expect(report.rebuilt.entries).toBeGreaterThan(40);
    await projector.close();
  });

  it('says which operator has no projection', async () => {
    await expect(verifyMetadata({ js, jsm, operator: 'nobody', logger })).rejects.toMatchObject({ code: 'missing' });
  });
});
