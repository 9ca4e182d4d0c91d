import { mkdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import { pino, type Logger } from 'pino';
import { Redis } from 'ioredis';
import { jetstream, JetStreamApiCodes, JetStreamApiError, type JetStreamManager } from '@nats-io/jetstream';
import { applyDefinitions, createRecordLedger } from '@dmf/bus';
import { definitionsFor, federatedStreamName, peersOfSources } from '@dmf/streams';
import { startFederationRole } from '@dmf/federation';
import { createHttpServer } from '@dmf/http';
import { CATEGORY_SNAPSHOT_PATH, metadataErrorFamily, startMetadataRole, storeUnavailableFamily } from '@dmf/metadata';
import { startStorageRole } from '@dmf/storage-coordinator';
import { createClient } from '@dmf/client';
import { CliError, EXIT } from '../exit-codes.ts';
import { connectJetStream } from '../nats-connection.ts';
import { redactUrl } from '../redact-url.ts';
import { DMF_VERSION } from '../version.ts';
import { writeNodeInfo } from '../node-info.ts';
import type { UpConfig } from './config.ts';
import { lockDataDir } from './data-lock.ts';
import { startBackingServices } from './embedded-servers.ts';
import { Lifecycle } from './lifecycle.ts';
import { loadOrCreateIdentity } from './node-identity.ts';
import { refreshNodeManifest } from './node-manifest.ts';
import { lastPublishedNodeManifest, publishNodeManifest } from './node-manifest-publisher.ts';
import { refreshServiceManifest } from './service-manifest.ts';
import { startFailure } from './start-errors.ts';
import { registryStorageNodes, sendRepairTask } from './storage-wiring.ts';
import { readTrustedCas } from './trusted-cas.ts';
import { NODE_MANIFEST_PATH, SERVICE_MANIFESTS_PATH, registerWellKnownRoutes } from './well-known-routes.ts';

export interface RunningNode {
  /** What runs where, for `--json`. */
  summary: NodeSummary;
  /** Stops everything that was started, in reverse order; resolves with what failed to close. */
  close(): Promise<string[]>;
}

export interface NodeSummary {
  url: string;
  operator: string;
  domain: string;
  node: string;
  dataDir: string;
  nats: string;
  redis: string;
  caFile: string | undefined;
}

function listenFailure(host: string, port: number, cause: unknown): CliError {
  const code = (cause as NodeJS.ErrnoException).code;
  const reason = code === 'EADDRINUSE' ? 'the port is in use (choose another with --port or DMF_PORT)' : (cause as Error).message;
  return new CliError(`cannot listen on ${host}:${port}: ${reason}`, EXIT.failed, { cause });
}

/** Binds and releases host:port, so that a busy port is reported before any server starts. */
async function assertPortFree(host: string, port: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const probe = createServer();
    probe.once('error', (cause) => reject(listenFailure(host, port, cause)));
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve()));
  });
}

async function createDataDir(dataDir: string): Promise<void> {
  try {
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
  } catch (cause) {
    throw new CliError(`data folder: cannot create ${dataDir}: ${(cause as Error).message}`, EXIT.usage, { cause });
  }
}

/**
 * Who signs a node's manifests cannot change: peers take the signer of its first
 * manifest as its controller and ignore manifests by anyone else (apps/federation
 * node-history.ts). Refuses to start with an operator key added, removed or changed
 * after the node published manifests.
 */
function assertSameManifestSigner(published: unknown, signer: string, nodeId: string): void {
  const last = published as { node_id?: unknown; operator?: unknown } | undefined;
  if (!last || last.node_id !== nodeId) return;
  const before = typeof last.operator === 'string' ? last.operator : nodeId;
  if (before === signer) return;
  const was = before === nodeId ? 'the node key itself' : `operator ${before}`;
  throw new CliError(
    `--operator-key/DMF_OPERATOR_KEY: this node's manifests are signed by ${was}; a node keeps the signer of its first manifest (peers would ignore the others), so start it as before or create a new node (new data folder)`,
    EXIT.usage,
  );
}

/** The peers the operator's FEDERATED stream sources now (none when it does not exist yet). */
async function existingPeers(jsm: JetStreamManager, operator: string, domain: string): Promise<{ operator: string; domain: string }[]> {
  try {
    const info = await jsm.streams.info(federatedStreamName(operator));
    return peersOfSources(operator, info.config.sources ?? [], domain);
  } catch (error) {
    if (error instanceof JetStreamApiError && error.code === JetStreamApiCodes.StreamNotFound) return [];
    throw error;
  }
}

/** How often the node checks whether its manifest needs re-signing before expiry. */
const MANIFEST_CHECK_MS = 3_600_000;

/** Thrown inside runNode when a stop was asked for while it was still starting. */
class StartInterrupted extends Error {}

/**
 * Starts a whole DMF node in this process: backing servers (embedded unless URLs are
 * configured), streams, every role that exists, and the HTTPS adapter. Prints what
 * runs where, ending with `ready <url>`. When `stop` is aborted while starting, or a
 * step fails, it stops what it had started; it returns undefined when interrupted.
 */
export async function runNode(
  config: UpConfig,
  print: (line: string) => void,
  stop: AbortSignal,
  onFatal: (description: string) => void,
): Promise<RunningNode | undefined> {
  // Synchronous stderr: the last lines before an exit must not be lost.
  const log: Logger = pino({ level: config.logLevel, base: { operator: config.operator } }, pino.destination({ dest: 2, sync: true }));
  const lifecycle = new Lifecycle();
  const checkpoint = () => {
    if (stop.aborted) throw new StartInterrupted();
  };
  try {
    await createDataDir(config.dataDir);
    lifecycle.add('data folder lock', await lockDataDir(config.dataDir));
    // Before launching anything: a busy port would otherwise be found out last.
    await assertPortFree(config.host, config.port);
    const identity = await loadOrCreateIdentity(config);
    const trustedCas = await readTrustedCas(config.federation.trustCaFiles, identity.caFile);
    checkpoint();
    const services = await startBackingServices(config, lifecycle, onFatal);
    checkpoint();

    const { nc, jsm } = await connectJetStream(services.natsUrl, `dmf node ${config.operator}`);
    lifecycle.add('nats connection', () => nc.drain(), () => void nc.close());
    // Keep the sources the federation role added last time (admitted peers): it
    // reconciles them once its registry is read back; dropping them here first would
    // only make every peer's source start over.
    const peers = new Map(config.peers.map((p) => [p.operator, p]));
    for (const p of await existingPeers(jsm, config.operator, config.domain)) if (!peers.has(p.operator)) peers.set(p.operator, p);
    const report = await applyDefinitions(jsm, definitionsFor({ operator: config.operator, domain: config.domain, peers: [...peers.values()] }));
    const js = jetstream(nc);
    checkpoint();

    const redis = new Redis(services.redisUrl, { lazyConnect: true, maxRetriesPerRequest: null, enableOfflineQueue: false });
    // Once stopping (a server died, or Ctrl-C), reconnect errors are expected noise.
    redis.on('error', (error) => {
      if (!stop.aborted) log.warn({ err: error.message }, 'redis connection error');
    });
    try {
      await redis.connect();
      await redis.ping();
    } catch (cause) {
      redis.disconnect();
      throw new CliError(`cannot reach Redis at ${redactUrl(services.redisUrl)}: ${(cause as Error).message}`, EXIT.failed, { cause });
    }
    lifecycle.add(
      'redis connection',
      async () => {
        await redis.quit();
      },
      () => redis.disconnect(),
    );

    const ledger = createRecordLedger({ js, operator: config.operator, logger: log });
    lifecycle.add('record ledger', () => ledger.close());
    await ledger.start();
    checkpoint();

    const metadata = await startMetadataRole({
      nc,
      js,
      jsm,
      operator: config.operator,
      key: identity.key,
      logger: log,
      snapshotIntervalMs: config.snapshotIntervalSeconds * 1000,
      headCacheBytes: config.metadataHeadCacheBytes,
      onFatal: (error) => onFatal(`metadata projector: ${error.message}`),
    });
    lifecycle.add('metadata role', () => metadata.close());
    checkpoint();

    const manifestContent = {
      // Roles that exist so far: the federation plumbing (log, sourcing, record ledger), metadata and storage coordination.
      services: ['federation', 'metadata', 'storage_coord'],
      region: config.region,
      jetstreamDomain: config.domain,
      originOperator: config.operator,
      mirrors: [] as string[],
      version: DMF_VERSION,
    };
    const signers = { node: identity.key, manifest: identity.operatorKey ?? identity.key, service: identity.serviceKey };
    const published = await lastPublishedNodeManifest(jsm, config.operator);
    assertSameManifestSigner(published, signers.manifest.did, identity.key.did);
    let nodeManifest = await refreshNodeManifest(config.dataDir, signers, manifestContent, new Date(), published);
    await publishNodeManifest(js, jsm, config.operator, nodeManifest);
    const renew = setInterval(() => {
      void (async () => {
        const next = await refreshNodeManifest(config.dataDir, signers, manifestContent);
        const servicesBefore = serviceManifests;
        const nodeChanged = next !== nodeManifest;
        if (nodeChanged) {
          nodeManifest = next;
          await publishNodeManifest(js, jsm, config.operator, nodeManifest);
          log.info({ seq: next.seq }, 'node manifest re-signed before expiry');
        }
        await refreshServices();
        // Peers learn of a new version through our log and our bootstrap peers.
        if (nodeChanged || serviceManifests.some((s, i) => s !== servicesBefore[i])) await federation.manifestsChanged();
      })().catch((error: unknown) => log.error({ err: (error as Error).message }, 'node manifest renewal failed'));
    }, MANIFEST_CHECK_MS);
    renew.unref();
    lifecycle.add('manifest renewal', async () => clearInterval(renew));

    let serviceManifests: Record<string, unknown>[] = [];
    const federation = await startFederationRole({
      js,
      jsm,
      operator: config.operator,
      domain: config.domain,
      key: identity.key,
      logger: log,
      peers: config.peers,
      bootstrap: config.federation.bootstrap,
      quarantined: config.federation.quarantined,
      client: {
        allow: config.federation.allowAddresses,
        ...(trustedCas.length > 0 ? { ca: trustedCas } : {}),
      },
      proberPolicy: {
        intervalMs: config.federation.probeIntervalSeconds * 1000,
        windowMs: config.federation.probeWindowSeconds * 1000,
        // Five probes a window when the window holds them, else as many as it holds.
        minProbes: Math.max(1, Math.min(5, Math.floor(config.federation.probeWindowSeconds / config.federation.probeIntervalSeconds))),
        retryAfterFailureMs: config.federation.probeWindowSeconds * 1000,
        ...(config.federation.thresholds.newNodesPerHour ? { newNodesPerHour: config.federation.thresholds.newNodesPerHour } : {}),
      },
      registryPolicy: {
        ...(config.federation.thresholds.churnLimit ? { churnLimit: config.federation.thresholds.churnLimit } : {}),
        ...(config.federation.thresholds.badFingerprintLimit ? { badFingerprintLimit: config.federation.thresholds.badFingerprintLimit } : {}),
        ...(config.federation.thresholds.invalidMetadataLimit ? { invalidMetadataLimit: config.federation.thresholds.invalidMetadataLimit } : {}),
        ...(config.federation.thresholds.attestersNeeded ? { attestersNeeded: config.federation.thresholds.attestersNeeded } : {}),
      },
      announceLimits: config.federation.thresholds.newNodesPerHour ? { newNodesPerHour: config.federation.thresholds.newNodesPerHour } : {},
      ownManifests: () => ({ node_manifest: nodeManifest, service_manifests: serviceManifests }),
      // Bootstrap peers not reached are tried again as often as nodes are probed.
      bootstrapRetryMs: config.federation.probeIntervalSeconds * 1000,
      // Spec 9.1 signals and 9.2 correctness, counted from the log by the metadata projection.
      originSignals: () => metadata.projector.originSignals(),
    });
    lifecycle.add('federation role', () => federation.close());
    checkpoint();

    // Repairs post tasks to storage nodes, which fetch and rebuild shards before they
    // answer: a client of its own with a longer timeout than the prober's.
    const storageClient = createClient({
      allow: config.federation.allowAddresses,
      ...(trustedCas.length > 0 ? { ca: trustedCas } : {}),
      timeoutMs: 120_000,
      isQuarantined: (nodeId) => ['quarantined', 'delisted'].includes(federation.projection.registry().nodes.get(nodeId)?.state ?? ''),
    });
    lifecycle.add('storage client', () => storageClient.close());
    const storage = await startStorageRole({
      js,
      jsm,
      operator: config.operator,
      key: identity.key,
      redis,
      logger: log,
      registryNodes: () => registryStorageNodes(federation.projection.registry()),
      unreachable: () => federation.prober.unreachable(),
      isAdmitted: (nodeId) => federation.projection.registry().nodes.get(nodeId)?.state === 'admitted',
      send: (target, task) => sendRepairTask(storageClient, target, task),
      policy: {
        downToOutMs: config.storage.downToOutSeconds * 1000,
        intervalMs: config.storage.checkIntervalSeconds * 1000,
        repairBytesPerNode: config.storage.repairMibPerHour * 2 ** 20,
      },
    });
    lifecycle.add('storage role', () => storage.close());
    checkpoint();

    const app = await createHttpServer({
      tls: identity.tls,
      info: { title: 'DMF node', version: DMF_VERSION, description: `DMF node of operator ${config.operator}` },
      logger: log,
      rateLimit: { max: config.rateLimitPerTenSeconds, timeWindowMs: 10_000 },
      errorFamilies: [metadataErrorFamily, storeUnavailableFamily],
      // A load balancer asking /healthz learns when the node lost its NATS or Redis.
      healthChecks: {
        nats: async () => {
          if (nc.isClosed()) throw new Error('connection closed');
          await nc.flush();
        },
        redis: async () => redis.ping(),
      },
    });
    metadata.register(app);
    federation.register(app);
    storage.register(app);
    registerWellKnownRoutes(app, { nodeManifest: () => nodeManifest, serviceManifests: () => serviceManifests });
    lifecycle.add('https', () => app.close());
    // The federation service's manifest pins the exact OpenAPI document served. Signed
    // before the server listens, so /.well-known/dmf/services never answers empty.
    const refreshServices = async () => {
      const openapi = await app.inject({ method: 'GET', url: '/openapi.json' });
      // One OpenAPI document describes every role of this process.
      const describe = (type: string) =>
        refreshServiceManifest(config.dataDir, identity.serviceKey, identity.key.did, {
          type,
          entrypoints: [`${config.publicUrl}/`],
          openapiUrl: `${config.publicUrl}/openapi.json`,
          openapiBytes: openapi.rawPayload,
          version: DMF_VERSION,
        });
      serviceManifests = [await describe('federation'), await describe('metadata_index'), await describe('storage_coord')];
    };
    await refreshServices();
    try {
      await app.listen({ host: config.host, port: config.port });
    } catch (cause) {
      throw listenFailure(config.host, config.port, cause);
    }
    checkpoint();
    await federation.run();
    checkpoint();

    const url = `https://${config.host.includes(':') ? `[${config.host}]` : config.host}:${config.port}`;
    const changed = report.filter((r) => r.action !== 'unchanged').map((r) => `${r.action} ${r.name}`);
    print(`DMF ${DMF_VERSION}: operator ${config.operator}, node ${identity.key.did}`);
    print(`  data       ${config.dataDir}${identity.created ? ' (new node key and TLS certificate)' : ''}`);
    for (const line of services.summary) print(`  ${line}`);
    print(`  streams    ${report.length} definitions applied${changed.length ? `: ${changed.join(', ')}` : ', all unchanged'}`);
    const snapshotEvery = config.snapshotIntervalSeconds > 0 ? `every ${config.snapshotIntervalSeconds} s` : 'on request only';
    print(`  roles      record ledger; metadata (projector at sequence ${metadata.projector.stats().position}, snapshots ${snapshotEvery}) on FEDERATED (${config.peers.length} peer(s))`);
    print(`             storage coordination (${storage.projection.stats().groups} erasure group record(s); holders out after ${config.storage.downToOutSeconds} s down)`);
    print(`  https      ${url}/publish_manifest, /manifest/<id>, /creator/<did>, /category/<tag>, ${CATEGORY_SNAPSHOT_PATH}`);
    print(`             ${url}/assign_erasure_group, /chunk_status/<cid>, /repair_task, /storage_nodes`);
    print(`             ${url}${NODE_MANIFEST_PATH}, ${SERVICE_MANIFESTS_PATH}, /openapi.json, /healthz`);
    if (identity.caFile) print(`  tls        self-signed; trust ${identity.caFile} (curl --cacert ${identity.caFile} ${url}/openapi.json)`);
    lifecycle.add(
      'node.json',
      await writeNodeInfo(config.dataDir, { pid: process.pid, operator: config.operator, domain: config.domain, nats: services.natsUrl, url }),
    );
    print(`ready ${url}`);
    return {
      summary: {
        url,
        operator: config.operator,
        domain: config.domain,
        node: identity.key.did,
        dataDir: config.dataDir,
        nats: redactUrl(services.natsUrl),
        redis: redactUrl(services.redisUrl),
        caFile: identity.caFile,
      },
      close: () => lifecycle.close(),
    };
  } catch (error) {
    await lifecycle.close();
    if (error instanceof StartInterrupted) return undefined;
    throw startFailure(error);
  }
}
