/**
 * A store that does not answer is a 503 problem with Retry-After, not a 500: the
 * mapping alone, then a real read timing out against a real nats-server that is
 * stopped (SIGSTOP) for the length of the request.
 */
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { errors as natsErrors } from '@nats-io/transport-node';
import { openBucket, publishRecord } from '@dmf/bus';
import { createHttpServer, createSelfSignedCertificate, PROBLEM_CONTENT_TYPE, type DmfHttpServer } from '@dmf/http';
import type { NatsServerHandle } from '@dmf/testing';
import { createManifestPublisher, type ManifestPublisher } from '../src/publish-manifest.ts';
import { asProblem, isStoreUnavailable, metadataErrorFamily, storeUnavailableFamily } from '../src/problems.ts';
import { registerMetadataRoutes } from '../src/routes.ts';
import { createHeadView, type HeadView } from '../src/store/head-view.ts';
import { MetadataStore } from '../src/store/metadata-store.ts';
import { logger, setupProjection, startBus, type Bus, type Projection } from './adapter-harness.ts';
import { generateSigningKey, manifest } from './fixtures.ts';

describe('store unavailable', () => {
  it('answers a NATS timeout with a 503 problem and Retry-After, not a 500', () => {
    const timeout = Object.assign(new Error('timeout'), { name: 'TimeoutError' });
    expect(storeUnavailableFamily.match(timeout)).toBe(true);
    const problem = storeUnavailableFamily.toProblem(timeout);
    expect(problem).toMatchObject({ status: 503, type: 'https://dmf.cwe/problems/store.unavailable' });
    expect(problem.headers).toMatchObject({ 'retry-after': '1' });
  });
  it('knows nats.js 3 errors by their real names, also when wrapped', () => {
    // NoRespondersError names itself "NoResponders"; a request wraps it in a RequestError.
    const noResponders = new natsErrors.NoRespondersError('$JS.API.DIRECT.GET.KV_x');
    expect(noResponders.name).toBe('NoResponders');
    expect(isStoreUnavailable(noResponders)).toBe(true);
    expect(isStoreUnavailable(new natsErrors.TimeoutError())).toBe(true);
    expect(isStoreUnavailable(new natsErrors.ClosedConnectionError())).toBe(true);
    expect(isStoreUnavailable(new Error('read failed', { cause: new natsErrors.TimeoutError() }))).toBe(true);
    expect(asProblem(new natsErrors.TimeoutError())).toMatchObject({ status: 503 });
  });
  it('leaves other errors to the server', () => {
    expect(storeUnavailableFamily.match(new TypeError('bug'))).toBe(false);
    expect(storeUnavailableFamily.match('TimeoutError')).toBe(false);
    expect(isStoreUnavailable(new Error('bug', { cause: new TypeError('deeper bug') }))).toBe(false);
    const bug = new TypeError('bug');
    expect(asProblem(bug)).toBe(bug);
  });
});

/** The pid of a test nats-server (@dmf/servers writes it next to the store). */
async function pidOf(server: NatsServerHandle): Promise<number> {
  const pid = Number.parseInt(await readFile(join(dirname(server.storeDir), 'nats-server.pid'), 'utf8'), 10);
  expect(pid).toBeGreaterThan(1);
  return pid;
}

/** Runs `act` while the nats-server process is stopped (SIGSTOP), and always resumes it. */
async function whileStopped<T>(server: NatsServerHandle, act: () => Promise<T>): Promise<T> {
  const pid = await pidOf(server);
  process.kill(pid, 'SIGSTOP');
  try {
    return await act();
  } finally {
    process.kill(pid, 'SIGCONT');
  }
}

describe('a read that times out in a real nats-server', () => {
  let bus: Bus;
  let projection: Projection;
  let app: DmfHttpServer;
  let publisher: ManifestPublisher;
  let view: HeadView;
  const alice = generateSigningKey();
  const record = manifest(alice);
  const id = record.document.manifest_id;

  beforeAll(async () => {
    bus = await startBus('metadata-store-timeout');
    projection = await setupProjection(bus, 'timeout');
    await publishRecord(bus.js, { operator: projection.operator, kind: 'content_manifest', id: record.id, bytes: record.bytes });
    await projection.caughtUp();
    // Reads with a 300 ms request timeout, direct gets as the node makes them.
    const bucket = projection.store.bucket;
    const kv = await openBucket(jetstream(bus.nc, { timeout: 300 }), bucket);
    const store = new MetadataStore(kv, await jetstreamManager(bus.nc, { timeout: 300 }), bucket);
    // A view that holds nothing (budget of 1 byte): every read is a miss through KV.
    view = createHeadView({ kv, jsm: bus.jsm, bucket, maxBytes: 1, logger });
    await view.start();
    publisher = createManifestPublisher({ js: bus.js, operator: projection.operator, store });
    const tls = await createSelfSignedCertificate({ hosts: ['127.0.0.1'], days: 1 });
    // Only the metadata family, as the benchmark server had it: the routes map store errors themselves.
    app = await createHttpServer({ tls: { key: tls.key, cert: tls.cert }, logger, errorFamilies: [metadataErrorFamily] });
    registerMetadataRoutes(app, { publisher, store, view });
    await app.ready();
  });

  afterAll(async () => {
    await view?.stop();
    publisher?.close();
    await app?.close();
    await projection?.projector.close();
    await bus?.close();
  });

  it('answers 503 with Retry-After and a problem document, then 200 once the server runs again', async () => {
    expect((await app.inject({ url: `/manifest/${id}` })).statusCode).toBe(200);
    const urls = [`/manifest/${id}`, `/manifest/${id}?seq=1`, `/creator/${alice.did}`, '/category/folk'];
    const answers = await whileStopped(bus.server, () => Promise.all(urls.map((url) => app.inject({ url }))));
    for (const [i, answer] of answers.entries()) {
      expect(answer.statusCode, urls[i]).toBe(503);
      expect(answer.headers['retry-after'], urls[i]).toBe('1');
      expect(answer.headers['content-type'], urls[i]).toContain(PROBLEM_CONTENT_TYPE);
      expect(answer.json(), urls[i]).toMatchObject({ type: 'https://dmf.cwe/problems/store.unavailable', status: 503 });
    }
    const again = await app.inject({ url: `/manifest/${id}` });
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({ manifest_id: id, record_id: record.id });
  });
});
