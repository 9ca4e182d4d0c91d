/**
 * A metadata node for adapter tests: a real nats-server, one operator's ORIGIN,
 * FEDERATED and metadata bucket, the projector, the publisher, and the HTTP routes on a
 * real TLS 1.3 socket (libs/http), with a client that trusts the test CA.
 */
import { Agent, request as httpsRequest } from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { pino } from 'pino';
import { applyDefinitions } from '@dmf/bus';
import { createCertificateAuthority, createHttpServer, issueServerCertificate, type DmfHttpServer } from '@dmf/http';
import { federatedStream, federatedStreamName, metadataBucket, METADATA, originStream, originStreamName, projectionBucketName } from '@dmf/streams';
import { startNatsServer, type NatsServerHandle } from '@dmf/testing';
import { createMetadataProjector, type MetadataProjector, type RecordOutcome } from '../src/projector.ts';
import { createManifestPublisher, type ManifestPublisher, type ManifestPublisherOptions } from '../src/publish-manifest.ts';
import { metadataErrorFamily } from '../src/problems.ts';
import { registerMetadataRoutes } from '../src/routes.ts';
import { MetadataStore } from '../src/store/metadata-store.ts';

export const logger = pino({ level: 'silent' });
const MiB = 1024 * 1024;

export interface Bus {
  server: NatsServerHandle;
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  close(): Promise<void>;
}

export async function startBus(name: string): Promise<Bus> {
  const server = await startNatsServer({ name, domain: name.replace(/[^A-Za-z0-9]/g, '').slice(0, 16) });
  const nc = await connect({ servers: server.url });
  return {
    server,
    nc,
    js: jetstream(nc),
    jsm: await jetstreamManager(nc),
    async close() {
      await nc.close();
      await server.close();
    },
  };
}

export interface Projection {
  operator: string;
  store: MetadataStore;
  projector: MetadataProjector;
  /** Every outcome the projector reported, by record id. */
  outcomes: Map<string, RecordOutcome>;
  /** Messages in the operator's ORIGIN: what was published. */
  originMessages(): Promise<number>;
  /** Resolves once the projector has applied everything FEDERATED holds now. */
  caughtUp(): Promise<void>;
}

/** Streams, bucket and projector of one operator (not started unless `start`). */
export async function setupProjection(bus: Bus, operator: string, options: { start?: boolean; batchSize?: number } = {}): Promise<Projection> {
  // Small streams: a test server holds many operators, and JetStream reserves each stream's max_bytes.
  const limits = { originMaxBytes: 32 * MiB, federatedMaxBytes: 32 * MiB };
  await applyDefinitions(bus.jsm, [
    originStream(operator, limits),
    federatedStream(operator, [], { limits }),
    metadataBucket(operator, { max_bytes: 64 * MiB }),
  ]);
  const bucket = projectionBucketName(METADATA, operator);
  const kv = await new Kvm(bus.js).open(bucket);
  const store = new MetadataStore(kv, bus.jsm, bucket);
  const projector = createMetadataProjector({ js: bus.js, operator, store, logger, batchSize: options.batchSize ?? 32 });
  const outcomes = new Map<string, RecordOutcome>();
  projector.onRecord((id, outcome) => outcomes.set(id, outcome));
  if (options.start ?? true) await projector.start();
  return {
    operator,
    store,
    projector,
    outcomes,
    originMessages: async () => (await bus.jsm.streams.info(originStreamName(operator))).state.messages,
    async caughtUp() {
      // FEDERATED sources ORIGIN asynchronously: wait until it holds what ORIGIN holds, then for the projector.
      const origin = (await bus.jsm.streams.info(originStreamName(operator))).state.last_seq;
      let federated = 0;
      const deadline = Date.now() + 15_000;
      while (Date.now() < deadline) {
        const info = await bus.jsm.streams.info(federatedStreamName(operator));
        federated = info.state.last_seq;
        if (info.state.messages >= origin) break;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await projector.reached(federated);
    },
  };
}

export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  json(): Record<string, unknown>;
}

export interface MetadataNode extends Projection {
  publisher: ManifestPublisher;
  app: DmfHttpServer;
  request(options: { path: string; method?: string; body?: string | Uint8Array; headers?: Record<string, string> }): Promise<HttpResponse>;
  post(body: string | Uint8Array): Promise<HttpResponse>;
  get(path: string): Promise<HttpResponse>;
  close(): Promise<void>;
}

let tls: Promise<{ ca: string; key: string; cert: string }> | undefined;
function testTls() {
  tls ??= (async () => {
    const ca = await createCertificateAuthority({ commonName: 'DMF metadata test CA' });
    const server = await issueServerCertificate(ca, { hosts: ['127.0.0.1'], days: 1 });
    return { ca: ca.cert, key: server.key, cert: server.cert };
  })();
  return tls;
}

/** A whole metadata node of `operator`: projection, publisher and routes on a TLS socket. */
export async function startMetadataNode(
  bus: Bus,
  operator: string,
  options: { publisher?: Partial<ManifestPublisherOptions>; maxPageSize?: number; startProjector?: boolean } = {},
): Promise<MetadataNode> {
  const projection = await setupProjection(bus, operator, { start: options.startProjector });
  const publisher = createManifestPublisher({ js: bus.js, operator, store: projection.store, projector: projection.projector, ...options.publisher });
  const material = await testTls();
  const app = await createHttpServer({ tls: { key: material.key, cert: material.cert }, logger, errorFamilies: [metadataErrorFamily] });
  registerMetadataRoutes(app, { publisher, store: projection.store, maxPageSize: options.maxPageSize });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const port = (app.server.address() as AddressInfo).port;
  const agent = new Agent({ ca: material.ca, keepAlive: true, maxSockets: 16, minVersion: 'TLSv1.3' });

  const request: MetadataNode['request'] = (o) =>
    new Promise((resolve, reject) => {
      const body = o.body === undefined ? undefined : typeof o.body === 'string' ? Buffer.from(o.body) : Buffer.from(o.body);
      const req = httpsRequest(
        {
          host: '127.0.0.1',
          port,
          path: o.path,
          method: o.method ?? 'GET',
          agent,
          headers: { ...(body ? { 'content-type': 'application/json', 'content-length': String(body.length) } : {}), ...o.headers },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text, json: () => JSON.parse(text) as Record<string, unknown> });
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });

  return {
    ...projection,
    publisher,
    app,
    request,
    post: (body) => request({ path: '/publish_manifest', method: 'POST', body }),
    get: (path) => request({ path }),
    async close() {
      agent.destroy();
      publisher.close();
      await app.close();
      await projection.projector.close();
    },
  };
}
