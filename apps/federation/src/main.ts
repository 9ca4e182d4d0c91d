/**
 * The federation role, wired: the registry projection (admission decided from the log),
 * the source reconciler (FEDERATED sources = configured + admitted), the announcer and
 * the routes, the prober (this node's attestations), and the bootstrapper. `dmf up`
 * starts it in its process.
 */
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import type { Logger } from 'pino';
import { createClient, type ClientOptions, type DmfClient } from '@dmf/client';
import type { DmfHttpServer } from '@dmf/http';
import { canonicalBytes, recordId, type SigningKey } from '@dmf/protocol';
import { publishRecord } from '@dmf/bus';
import type { StreamLimits } from '@dmf/streams';
import { Announcer, type AnnounceLimits } from './announce.ts';
import { Bootstrapper } from './bootstrap.ts';
import type { Peer } from './domain/peers.ts';
import { DEFAULT_REGISTRY_POLICY, type CarriedSignals, type RegistryPolicy } from './domain/records.ts';
import { Prober, type ProberPolicy } from './prober.ts';
import { RegistryProjection } from './registry-projection.ts';
import { Reporter } from './reporter.ts';
import { registerFederationRoutes } from './routes.ts';
import { SourceReconciler } from './source-reconciler.ts';

export interface FederationRoleOptions {
  js: JetStreamClient;
  jsm: JetStreamManager;
  /** This operator's token and JetStream domain. */
  operator: string;
  domain: string;
  /** The node key: signs attestations; its did is this node's node_id. */
  key: SigningKey;
  logger: Logger;
  /** Peers always sourced (configuration). */
  peers?: readonly Peer[];
  /** Bootstrap peers' URLs: verified, trusted as admitted, sourced, announced to. */
  bootstrap?: readonly string[];
  /** Node ids this operator quarantines. */
  quarantined?: readonly string[];
  /** The verifying client's options (allowed CIDRs, trusted CAs) for probes and bootstrap. */
  client?: ClientOptions;
  registryPolicy?: Partial<RegistryPolicy>;
  proberPolicy?: Partial<ProberPolicy>;
  announceLimits?: Partial<AnnounceLimits>;
  streamLimits?: Partial<StreamLimits>;
  /** This node's current signed manifests (announced to bootstrap peers, kept in our log). */
  ownManifests: () => { node_manifest: Record<string, unknown>; service_manifests: Record<string, unknown>[] };
  /** Between bootstrap attempts at peers not reached yet. Default 10 s. */
  bootstrapRetryMs?: number;
  /**
   * What each operator's ORIGIN carried (by token), for the spec 9.1 signals and 9.2
   * reputation: the metadata projection's counts (its `originSignals()`). Default none.
   */
  originSignals?: () => ReadonlyMap<string, CarriedSignals>;
}

export interface FederationRole {
  projection: RegistryProjection;
  reconciler: SourceReconciler;
  prober: Prober;
  bootstrapper: Bootstrapper;
  client: DmfClient;
  register(app: DmfHttpServer): void;
  /**
   * Starts the work that needs this node's manifests (after the HTTPS server listens):
   * publishes them into our log, joins through the bootstrap peers, reconciles the
   * sources, starts probing.
   */
  run(): Promise<void>;
  /** Publishes this node's manifests into our log when they are not there yet, and announces them again. */
  manifestsChanged(): Promise<void>;
  close(): Promise<void>;
}

export async function startFederationRole(o: FederationRoleOptions): Promise<FederationRole> {
  const logger = o.logger.child({ sub: 'federation' });
  // The node's own verdicts apply to its calls: quarantined and delisted nodes are refused.
  let registryOf: (() => ReturnType<RegistryProjection['registry']>) | undefined;
  const client = createClient({
    ...o.client,
    isQuarantined: (nodeId) => ['quarantined', 'delisted'].includes(registryOf?.().nodes.get(nodeId)?.state ?? ''),
  });
  // Filled when the prober exists: the projection asks it for its view of each node.
  let prober: Prober | undefined;
  const projection = new RegistryProjection({
    js: o.js,
    jsm: o.jsm,
    operator: o.operator,
    self: o.key.did,
    quarantined: o.quarantined,
    policy: o.registryPolicy,
    probes: () => prober?.views() ?? new Map(),
    signals: o.originSignals,
    logger,
  });
  await projection.start();
  registryOf = () => projection.registry();
  const reconciler = new SourceReconciler({ jsm: o.jsm, operator: o.operator, domain: o.domain, configured: o.peers ?? [], limits: o.streamLimits, logger });
  const announcer = new Announcer({ js: o.js, operator: o.operator, projection, limits: o.announceLimits });

  const publishOwn = async () => {
    const own = o.ownManifests();
    for (const document of [own.node_manifest, ...own.service_manifests]) {
      const id = recordId(document);
      if (projection.has(id)) continue;
      await publishRecord(o.js, { operator: o.operator, kind: String(document['kind']), id, bytes: canonicalBytes(document) });
    }
  };
  const bootstrapper = new Bootstrapper({
    client,
    urls: o.bootstrap ?? [],
    announcement: o.ownManifests,
    retryMs: o.bootstrapRetryMs,
    logger,
    onPeers: async (peers) => {
      // Their manifests into our log (like an announcement on their behalf): the registry
      // then knows their origins, and sources them while they are admitted.
      const ids: string[] = [];
      for (const peer of peers) {
        for (const document of peer.documents) {
          const id = recordId(document);
          ids.push(id);
          if (!projection.has(id)) await publishRecord(o.js, { operator: o.operator, kind: String(document['kind']), id, bytes: canonicalBytes(document) });
        }
      }
      // Read back before the sources are reconciled, or a restart would drop the peers'
      // sources for the moment it takes (bounded: the registry catches up anyway).
      const deadline = Date.now() + 5000;
      while (!ids.every((id) => projection.has(id)) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      projection.setBootstrap(peers.map((p) => p.nodeId));
    },
  });

  prober = new Prober({
    js: o.js,
    operator: o.operator,
    key: o.key,
    client,
    projection,
    policy: o.proberPolicy,
    isIndexed: (nodeId) => {
      const origin = projection.registry().nodes.get(nodeId)?.origin;
      return origin !== undefined && (reconciler.peers ?? []).some((p) => p.operator === origin.operator);
    },
    logger,
  });
  const reporter = new Reporter({
    js: o.js,
    operator: o.operator,
    key: o.key,
    policy: { ...DEFAULT_REGISTRY_POLICY, ...o.registryPolicy },
    probes: () => prober?.views() ?? new Map(),
    highestSeq: (match) => projection.highestSeq(match),
    logger,
  });
  let stopListening = () => {};

  return {
    projection,
    reconciler,
    prober,
    bootstrapper,
    client,
    register(app) {
      registerFederationRoutes(app, { announcer, projection });
    },
    async run() {
      await publishOwn();
      // Bootstrap first: the first reconcile must know the bootstrap peers, or it would
      // drop their sources (kept from the last run) until they answer again.
      await bootstrapper.start();
      await reconciler.reconcile(projection.registry());
      stopListening = projection.onChange((registry) => {
        void reconciler.reconcile(registry);
        void reporter.review(registry);
      });
      prober?.start();
    },
    async manifestsChanged() {
      await publishOwn();
      bootstrapper.reannounce();
    },
    async close() {
      stopListening();
      await bootstrapper.close();
      await prober?.close();
      await projection.close();
      await client.close();
    },
  };
}
