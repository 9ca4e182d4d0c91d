/**
 * Runs the reference storage agent (apps/storage-agent) as a node of its own: a node
 * key and TLS certificate in its data folder, signed node and service manifests (role
 * `storage`, capability `storage.capacity_bytes`), an HTTPS server with the shard
 * routes and the well-known documents, and an announcement to its coordinators, who
 * probe and admit it like any node. Prints `ready <url>` when it serves.
 */
import { mkdir } from 'node:fs/promises';
import { pino, type Logger } from 'pino';
import { createClient } from '@dmf/client';
import { createHttpServer } from '@dmf/http';
import { MAX_CHUNK_BYTES } from '@dmf/protocol';
import { startStorageAgent } from '@dmf/storage-agent';
import { CliError, EXIT } from '../exit-codes.ts';
import { DMF_VERSION } from '../version.ts';
import { lockDataDir } from '../up/data-lock.ts';
import { Lifecycle } from '../up/lifecycle.ts';
import { loadOrCreateIdentity } from '../up/node-identity.ts';
import { refreshNodeManifest, type NodeManifestContent } from '../up/node-manifest.ts';
import { refreshServiceManifest } from '../up/service-manifest.ts';
import { startFailure } from '../up/start-errors.ts';
import { readTrustedCas } from '../up/trusted-cas.ts';
import { registerWellKnownRoutes } from '../up/well-known-routes.ts';
import type { AgentConfig } from './config.ts';

/** How often the agent checks whether its manifests need re-signing before expiry. */
const MANIFEST_CHECK_MS = 3_600_000;

export interface RunningAgent {
  url: string;
  node: string;
  close(): Promise<string[]>;
}

export async function runAgent(config: AgentConfig, print: (line: string) => void): Promise<RunningAgent> {
  const log: Logger = pino({ level: config.logLevel, base: { role: 'storage-agent' } }, pino.destination({ dest: 2, sync: true }));
  const lifecycle = new Lifecycle();
  try {
    try {
      await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
    } catch (cause) {
      throw new CliError(`data folder: cannot create ${config.dataDir}: ${(cause as Error).message}`, EXIT.usage, { cause });
    }
    lifecycle.add('data folder lock', await lockDataDir(config.dataDir));
    const identity = await loadOrCreateIdentity(config);
    const trustedCas = await readTrustedCas(config.trustCaFiles, identity.caFile);
    const client = createClient({
      allow: config.allowAddresses,
      ...(trustedCas.length > 0 ? { ca: trustedCas } : {}),
      // A shard is at most a chunk; a repair fetches several, each within the timeout.
      maxResponseBytes: MAX_CHUNK_BYTES + 2 ** 16,
      timeoutMs: 60_000,
    });
    lifecycle.add('client', () => client.close());
    const agent = await startStorageAgent({
      dataDir: config.dataDir,
      key: identity.key,
      client,
      coordinators: config.coordinators,
      logger: log,
      auditIntervalMs: config.auditIntervalSeconds * 1000,
    });
    lifecycle.add('storage agent', () => agent.close());

    const app = await createHttpServer({
      tls: identity.tls,
      info: { title: 'DMF storage agent', version: DMF_VERSION, description: 'DMF reference storage agent: shards by CID, self-audit, repair' },
      logger: log,
    });
    const content: NodeManifestContent = {
      services: ['storage'],
      region: config.region,
      capabilities: { storage: { capacity_bytes: config.capacityBytes } },
      mirrors: [],
      version: DMF_VERSION,
    };
    const signers = { node: identity.key, manifest: identity.key, service: identity.serviceKey };
    let nodeManifest = await refreshNodeManifest(config.dataDir, signers, content);
    let serviceManifests: Record<string, unknown>[] = [];
    agent.register(app);
    registerWellKnownRoutes(app, { nodeManifest: () => nodeManifest, serviceManifests: () => serviceManifests });
    lifecycle.add('https', () => app.close());
    const refreshServices = async () => {
      const openapi = await app.inject({ method: 'GET', url: '/openapi.json' });
      serviceManifests = [
        await refreshServiceManifest(config.dataDir, identity.serviceKey, identity.key.did, {
          type: 'storage',
          entrypoints: [`${config.publicUrl}/`],
          openapiUrl: `${config.publicUrl}/openapi.json`,
          openapiBytes: openapi.rawPayload,
          version: DMF_VERSION,
        }),
      ];
    };
    await refreshServices();
    try {
      await app.listen({ host: config.host, port: config.port });
    } catch (cause) {
      const code = (cause as NodeJS.ErrnoException).code;
      throw new CliError(`cannot listen on ${config.host}:${config.port}: ${code === 'EADDRINUSE' ? 'the port is in use (choose another with --port)' : (cause as Error).message}`, EXIT.failed, { cause });
    }
    const announcement = () => JSON.stringify({ node_manifest: nodeManifest, service_manifests: serviceManifests });
    await agent.run(announcement);
    const renew = setInterval(() => {
      void (async () => {
        const next = await refreshNodeManifest(config.dataDir, signers, content);
        const before = serviceManifests;
        await refreshServices();
        if (next !== nodeManifest || serviceManifests[0] !== before[0]) {
          nodeManifest = next;
          await agent.link.announce(announcement());
        }
      })().catch((error: unknown) => log.error({ err: (error as Error).message }, 'manifest renewal failed'));
    }, MANIFEST_CHECK_MS);
    renew.unref();
    lifecycle.add('manifest renewal', async () => clearInterval(renew));

    const url = `https://${config.host.includes(':') ? `[${config.host}]` : config.host}:${config.port}`;
    print(`DMF ${DMF_VERSION} storage agent: node ${identity.key.did}`);
    print(`  data         ${config.dataDir}${identity.created ? ' (new node key and TLS certificate)' : ''}`);
    print(`  offers       ${config.capacityBytes} bytes in region ${config.region}; ${agent.state.shards().length} shard(s) held`);
    print(`  coordinators ${config.coordinators.join(', ')} (${agent.link.ids().length} reached)`);
    print(`  https        ${url}/shards/<group>/<shard> (PUT), /shards/<cid>, /repair_task, /.well-known/dmf/node`);
    if (identity.caFile) print(`  tls          self-signed; trust ${identity.caFile}`);
    print(`ready ${url}`);
    return { url, node: identity.key.did, close: () => lifecycle.close() };
  } catch (error) {
    await lifecycle.close();
    throw startFailure(error);
  }
}
