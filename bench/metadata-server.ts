/**
 * The HTTPS server under test in the metadata benchmarks, run as a child process (see
 * bench/metadata-child.ts) so that the load generator does not share its event loop.
 * It serves either
 *
 * - `dmf`: the metadata role as `dmf up` wires it (startMetadataRole: projector,
 *   publisher, snapshot schedule; its routes on createHttpServer with the metadata
 *   error family), or
 * - `dmf-reads`: the same metadata routes over the same bucket, without the projector
 *   (a publisher that does not wait for one, no lease, no snapshot schedule), with the
 *   in-memory head view as startMetadataRole makes it (budget from
 *   DMF_METADATA_HEAD_CACHE_MB, else the default), loaded before it listens: what
 *   answers `GET /manifest/<id>` is the same code. The read benchmark serves from this
 *   process once the projection is complete: it measures the read path alone (an idle
 *   projector only renews its lease), and before c6a2e90 the lease renewal could
 *   overlap itself under read load at a million manifests and stop the node (see
 *   docs/benchmarks.md);
 * - `bare`: createHttpServer with one route, `GET /bare/:id`, answering a constant JSON
 *   object (a real /manifest answer, so the same size and shape),
 *
 * with the same TLS material, logger and rate-limit settings, so the two differ only in
 * what the route does. Driven over the IPC channel: a `start` message, then requests
 * with ids (`reached`, `stats`, `memory`), then `close`. `stats` answers the projector's
 * stats (dmf mode) with the head view's as `view` (both dmf modes).
 *
 * Both dmf modes register the error families `dmf up` registers (metadata and store
 * unavailable), so a store timeout is the 503 a node answers.
 */
import type { AddressInfo } from 'node:net';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { pino } from 'pino';
import { createHttpServer, type DmfHttpServer, type RateLimitOptions } from '@dmf/http';
import {
  createHeadView,
  openWatchBucket,
  createManifestPublisher,
  metadataErrorFamily,
  storeUnavailableFamily,
  type HeadView,
  MetadataStore,
  openBucket,
  registerMetadataRoutes,
  registerSnapshotRoutes,
  startMetadataRole,
  type MetadataRole,
} from '@dmf/metadata';
import { generateSigningKey } from '@dmf/protocol';
import { METADATA, projectionBucketName } from '@dmf/streams';

export interface StartMessage {
  type: 'start';
  mode: 'dmf' | 'dmf-reads' | 'bare';
  tls: { key: string; cert: string };
  rateLimit: RateLimitOptions;
  logLevel: string;
  /** dmf: the NATS server and operator whose streams and bucket exist already. */
  natsUrl?: string;
  operator?: string;
  /** dmf: wait until the projector has applied this FEDERATED sequence before listening, and time it. */
  projectUntil?: number;
  /** bare: the answer of its one route. */
  body?: unknown;
}

export interface MemoryFigures {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
}

export interface ProjectionFigures {
  seconds: number;
  position: number;
  accepted: number;
  duplicates: number;
  refused: Record<string, number>;
  invalid: Record<string, number>;
  batches: number;
}

export type ChildRequest =
  | { type: 'reached'; id: number; seq: number }
  | { type: 'stats'; id: number }
  | { type: 'memory'; id: number; gc: boolean }
  | { type: 'close'; id: number };

export type ChildMessage =
  | { type: 'ready'; port: number; projection?: ProjectionFigures }
  | { type: 'reply'; id: number; value: unknown }
  | { type: 'failed'; reason: string };

const send = (message: ChildMessage) => process.send?.(message);

function memory(): MemoryFigures {
  const { rss, heapUsed, heapTotal, external, arrayBuffers } = process.memoryUsage();
  return { rss, heapUsed, heapTotal, external, arrayBuffers };
}

interface Running {
  app: DmfHttpServer;
  role?: MetadataRole;
  view?: HeadView;
  nc?: NatsConnection;
  projection?: ProjectionFigures;
  close?: () => Promise<void>;
}

async function start(m: StartMessage): Promise<Running> {
  // Synchronous stderr, like dmf up; the level is the benchmark's choice (the same for both modes).
  const logger = pino({ level: m.logLevel, base: { bench: m.mode } }, pino.destination({ dest: 2, sync: true }));
  const app = await createHttpServer({
    tls: m.tls,
    info: { title: 'DMF node', version: 'bench' },
    logger,
    errorFamilies: [metadataErrorFamily, storeUnavailableFamily],
    rateLimit: m.rateLimit,
  });
  if (m.mode === 'bare') {
    const body = m.body;
    app.get('/bare/:id', async () => body);
    await app.listen({ host: '127.0.0.1', port: 0 });
    return { app };
  }
  if (!m.natsUrl || !m.operator) throw new Error('dmf mode needs natsUrl and operator');
  // The connection options of `dmf up` (apps/cli/src/nats-connection.ts).
  const nc = await connect({
    servers: m.natsUrl,
    name: 'dmf bench metadata node',
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    noAsyncTraces: true,
  });
  const js = jetstream(nc);
  const jsm = await jetstreamManager(nc, { timeout: 2_000 });
  if (m.mode === 'dmf-reads') {
    const bucket = projectionBucketName(METADATA, m.operator);
    const store = new MetadataStore(await openBucket(js, bucket), jsm, bucket);
    const publisher = createManifestPublisher({ js, operator: m.operator, store });
    const view = createHeadView({ kv: store.kv, watchKv: await openWatchBucket(nc, bucket), jsm, bucket, nc, logger });
    await view.start();
    // Loaded before listening: the rounds measure the steady state; the load time is a figure of its own (stats().view.loadMs).
    await view.loaded();
    registerMetadataRoutes(app, { publisher, store, view });
    registerSnapshotRoutes(app, { store, node: generateSigningKey().did });
    await app.listen({ host: '127.0.0.1', port: 0 });
    return {
      app,
      nc,
      view,
      close: async () => {
        publisher.close();
        await view.stop();
      },
    };
  }
  const started = process.hrtime.bigint();
  const role = await startMetadataRole({
    js,
    jsm,
    nc,
    operator: m.operator,
    key: generateSigningKey(),
    logger,
    onFatal: (error) => {
      send({ type: 'failed', reason: `metadata projector: ${error.message}` });
      process.exit(1);
    },
  });
  role.register(app);
  let projection: ProjectionFigures | undefined;
  if (m.projectUntil !== undefined) {
    const target = m.projectUntil;
    const progress = setInterval(() => {
      const s = role.projector.stats();
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      process.stderr.write(`  projector: ${s.position.toLocaleString('en-US')} / ${target.toLocaleString('en-US')} after ${seconds.toFixed(0)} s (${Math.round(s.position / seconds).toLocaleString('en-US')}/s)\n`);
    }, 15_000);
    await role.projector.reached(target);
    clearInterval(progress);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const s = role.projector.stats();
    projection = {
      seconds,
      position: s.position,
      accepted: s.accepted,
      duplicates: s.duplicates,
      refused: s.refused,
      invalid: s.invalidByReason,
      batches: s.batches,
    };
  }
  await app.listen({ host: '127.0.0.1', port: 0 });
  return { app, role, view: role.view, nc, projection };
}

process.once('message', (first: StartMessage) => {
  void (async () => {
    const { app, role, view, nc, projection, close } = await start(first);
    const stats = () => ({ ...role?.projector.stats(), ...(view ? { view: view.stats() } : {}) });
    process.on('message', (r: ChildRequest) => {
      void (async () => {
        switch (r.type) {
          case 'reached':
            await role?.projector.reached(r.seq);
            send({ type: 'reply', id: r.id, value: stats() });
            break;
          case 'stats':
            send({ type: 'reply', id: r.id, value: stats() });
            break;
          case 'memory': {
            const gc = (globalThis as { gc?: () => void }).gc;
            if (r.gc && gc) gc();
            send({ type: 'reply', id: r.id, value: { ...memory(), gcRan: r.gc && gc !== undefined } });
            break;
          }
          case 'close':
            await app.close();
            await role?.close();
            await close?.();
            await nc?.close();
            send({ type: 'reply', id: r.id, value: true });
            process.disconnect();
            break;
        }
      })().catch((error: unknown) => send({ type: 'failed', reason: (error as Error).stack ?? String(error) }));
    });
    send({ type: 'ready', port: (app.server.address() as AddressInfo).port, projection });
  })().catch((error: unknown) => {
    send({ type: 'failed', reason: (error as Error).stack ?? String(error) });
    process.exitCode = 1;
    process.disconnect();
  });
});
