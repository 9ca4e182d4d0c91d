/**
 * The metadata role, wired: its bucket, the projector (the one writer), the publisher and
 * HTTP routes (thin adapter), and the categorisation snapshot schedule. `dmf up` starts it
 * in its process; a deployment that runs roles apart starts it on its own.
 */
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import type { DmfHttpServer } from '@dmf/http';
import type { SigningKey } from '@dmf/protocol';
import { METADATA, projectionBucketName } from '@dmf/streams';
import type { MetadataLimits } from './domain/spam.ts';
import { CreatorRate, type CreatorRateOptions } from './domain/creator-rate.ts';
import { createMetadataProjector, type MetadataProjector } from './projector.ts';
import { createManifestPublisher, type ManifestPublisher } from './publish-manifest.ts';
import { registerMetadataRoutes } from './routes.ts';
import { registerSnapshotRoutes } from './snapshot-routes.ts';
import { startSnapshotSchedule, type SnapshotSchedule } from './snapshot.ts';
import { createHeadView, openWatchBucket, type HeadView } from './store/head-view.ts';
import { openBucket } from '@dmf/bus';
import { MetadataStore } from './store/metadata-store.ts';

export const DEFAULT_SNAPSHOT_INTERVAL_MS = 3_600_000;

export interface MetadataRoleOptions {
  /** The connection under `js`: the projector's fast writes use it (without it, every write is acknowledged). */
  nc?: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  operator: string;
  /** The node key: signs categorisation snapshots. */
  key: SigningKey;
  logger: Logger;
  limits?: Partial<MetadataLimits>;
  creatorRate?: Partial<CreatorRateOptions>;
  /**
   * Byte budget of the in-memory head view that answers `GET /manifest/<id>`
   * (store/head-view.ts). Default: `DMF_METADATA_HEAD_CACHE_MB`, else min(2 GiB, a
   * quarter of the machine's memory); 0 disables it (every read goes to KV).
   */
  headCacheBytes?: number;
  /** Scheduled snapshots; 0: on request only. Default one hour. */
  snapshotIntervalMs?: number;
  /** The projector cannot go on (lost its lease, writes keep failing): the node should stop. */
  onFatal: (error: Error) => void;
}

export interface MetadataRole {
  store: MetadataStore;
  projector: MetadataProjector;
  publisher: ManifestPublisher;
  snapshots: SnapshotSchedule;
  /** The current heads in memory (its stats() for monitoring and benchmarks). */
  view: HeadView;
  /** Adds the routes (before the server listens). */
  register(app: DmfHttpServer): void;
  /** Stops the schedule, the publisher, the projector, then the head view. */
  close(): Promise<void>;
}

export async function startMetadataRole(o: MetadataRoleOptions): Promise<MetadataRole> {
  const bucket = projectionBucketName(METADATA, o.operator);
  const store = new MetadataStore(await openBucket(o.js, bucket), o.jsm, bucket);
  // Made first: a bad DMF_METADATA_HEAD_CACHE_MB stops the start before anything runs.
  const watchKv = o.nc ? await openWatchBucket(o.nc, bucket) : undefined;
  const view = createHeadView({ kv: store.kv, watchKv, jsm: o.jsm, bucket, maxBytes: o.headCacheBytes, nc: o.nc, logger: o.logger });
  const projector = createMetadataProjector({
    js: o.js,
    nc: o.nc,
    operator: o.operator,
    store,
    limits: o.limits,
    holder: 'dmf up',
    logger: o.logger,
    onFatal: o.onFatal,
  });
  await projector.start();
  const publisher = createManifestPublisher({
    js: o.js,
    operator: o.operator,
    store,
    projector,
    limits: o.limits,
    creatorRate: new CreatorRate(o.creatorRate),
  });
  const snapshots = await startSnapshotSchedule({
    js: o.js,
    operator: o.operator,
    key: o.key,
    store,
    projector,
    intervalMs: o.snapshotIntervalMs ?? DEFAULT_SNAPSHOT_INTERVAL_MS,
    logger: o.logger,
  });
  // Watches the heads from here on; loads in the background (reads go to KV meanwhile).
  // Not awaited: with a million manifests nats-server 2.9 takes tens of seconds just to
  // set up the watch, and the node serves meanwhile. start() does not throw.
  void view.start();
  return {
    store,
    projector,
    publisher,
    snapshots,
    view,
    register(app) {
      registerMetadataRoutes(app, { publisher, store, view });
      registerSnapshotRoutes(app, { store, node: o.key.did });
    },
    async close() {
      await snapshots.close();
      publisher.close();
      await projector.close();
      await view.stop();
    },
  };
}
