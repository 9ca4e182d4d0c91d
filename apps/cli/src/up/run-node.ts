import { mkdir } from 'node:fs/promises';
import { pino, type Logger } from 'pino';
import { Redis } from 'ioredis';
import { jetstream } from '@nats-io/jetstream';
import { applyDefinitions, createRecordLedger, publishRecord } from '@dmf/bus';
import { definitionsFor } from '@dmf/streams';
import { createHttpServer } from '@dmf/http';
import { canonicalBytes, recordId } from '@dmf/protocol';
import { CliError, EXIT } from '../exit-codes.ts';
import { connectJetStream } from '../nats-connection.ts';
import { DMF_VERSION } from '../version.ts';
import type { UpConfig } from './config.ts';
import { startBackingServices } from './embedded-servers.ts';
import { Lifecycle } from './lifecycle.ts';
import { loadOrCreateIdentity } from './node-identity.ts';
import { refreshNodeManifest } from './node-manifest.ts';
import { NODE_MANIFEST_PATH, SERVICE_MANIFESTS_PATH, registerWellKnownRoutes } from './well-known-routes.ts';

export interface RunningNode {
  url: string;
  /** Stops everything that was started, in reverse order. */
  close(): Promise<string[]>;
}

/** How often the node checks whether its manifest needs re-signing before expiry. */
const MANIFEST_CHECK_MS = 3_600_000;

/**
 * Starts a whole DMF node in this process: backing servers (embedded unless URLs are
 * configured), streams, every role that exists, and the HTTPS adapter. Prints what
 * runs where, ending with `ready <url>`. On failure, stops what it had started.
 */
export async function runNode(config: UpConfig, print: (line: string) => void): Promise<RunningNode> {
  const log: Logger = pino({ level: config.logLevel, base: { operator: config.operator } }, pino.destination(2));
  const lifecycle = new Lifecycle();
  try {
    await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
    const identity = await loadOrCreateIdentity(config);
    const services = await startBackingServices(config, lifecycle);

    const { nc, jsm } = await connectJetStream(services.natsUrl, `dmf node ${config.operator}`);
    lifecycle.add('nats connection', () => nc.drain());
    const report = await applyDefinitions(jsm, definitionsFor({ operator: config.operator, peers: config.peers }));
    const js = jetstream(nc);

    const redis = new Redis(services.redisUrl, { lazyConnect: true, maxRetriesPerRequest: null, enableOfflineQueue: false });
    redis.on('error', (error) => log.warn({ err: error.message }, 'redis connection error'));
    try {
      await redis.connect();
      await redis.ping();
    } catch (cause) {
      redis.disconnect();
      throw new CliError(`cannot reach Redis at ${redactUrl(services.redisUrl)}: ${(cause as Error).message}`, EXIT.failed, { cause });
    }
    lifecycle.add('redis connection', async () => {
      await redis.quit();
    });

    const ledger = createRecordLedger({ js, operator: config.operator, logger: log });
    lifecycle.add('record ledger', () => ledger.close());
    await ledger.start();

    const manifestContent = {
      // Roles that exist so far: the federation plumbing (log, sourcing, record ledger).
      services: ['federation'],
      region: config.region,
      jetstreamDomain: config.operator,
      mirrors: [] as string[],
      version: DMF_VERSION,
    };
    let nodeManifest = await refreshNodeManifest(config.dataDir, identity.key, manifestContent);
    const publishManifest = async () => {
      const bytes = canonicalBytes(nodeManifest);
      await publishRecord(js, { operator: config.operator, id: recordId(nodeManifest), kind: 'node_manifest', bytes });
    };
    await publishManifest();
    const renew = setInterval(() => {
      void (async () => {
        const next = await refreshNodeManifest(config.dataDir, identity.key, manifestContent);
        if (next !== nodeManifest) {
          nodeManifest = next;
          await publishManifest();
          log.info({ seq: next.seq }, 'node manifest re-signed before expiry');
        }
      })().catch((error: unknown) => log.error({ err: (error as Error).message }, 'node manifest renewal failed'));
    }, MANIFEST_CHECK_MS);
    renew.unref();
    lifecycle.add('manifest renewal', async () => clearInterval(renew));

    const app = await createHttpServer({
      tls: identity.tls,
      info: { title: 'DMF node', version: DMF_VERSION, description: `DMF node of operator ${config.operator}` },
      logger: log,
    });
    registerWellKnownRoutes(app, { nodeManifest: () => nodeManifest, serviceManifests: () => [] });
    lifecycle.add('https', () => app.close());
    try {
      await app.listen({ host: config.host, port: config.port });
    } catch (cause) {
      const code = (cause as NodeJS.ErrnoException).code;
      const reason = code === 'EADDRINUSE' ? 'the port is in use (choose another with --port)' : (cause as Error).message;
      throw new CliError(`cannot listen on ${config.host}:${config.port}: ${reason}`, EXIT.failed, { cause });
    }

    const url = `https://${config.host.includes(':') ? `[${config.host}]` : config.host}:${config.port}`;
    const created = report.filter((r) => r.action !== 'unchanged').map((r) => `${r.action} ${r.name}`);
    print(`DMF ${DMF_VERSION}: operator ${config.operator}, node ${identity.key.did}`);
    print(`  data       ${config.dataDir}${identity.created ? ' (new node key and TLS certificate)' : ''}`);
    for (const line of services.summary) print(`  ${line}`);
    print(`  streams    ${report.length} definitions applied${created.length ? `: ${created.join(', ')}` : ', all unchanged'}`);
    print(`  roles      record-ledger projector on FEDERATED (${config.peers.length} peer(s))`);
    print(`  https      ${url}${NODE_MANIFEST_PATH}, ${SERVICE_MANIFESTS_PATH}, /openapi.json, /healthz`);
    if (identity.caFile) print(`  tls        self-signed; trust ${identity.caFile} (curl --cacert ${identity.caFile} ${url}/openapi.json)`);
    print(`ready ${url}`);
    return { url, close: () => lifecycle.close() };
  } catch (error) {
    await lifecycle.close();
    throw error;
  }
}

/** A URL without its password, fit to print. */
function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparsable URL)';
  }
}
