/**
 * The reference storage agent, wired: shards on disk by CID, its memory of what it
 * holds, the link to its coordinators, the reporter, the self-audit and the repair
 * executor. `dmf storage agent` runs it behind its own HTTPS server, with its own node
 * key and signed manifests (it joins the federation as a node offering `storage`).
 */
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { DmfClient } from '@dmf/client';
import type { DmfHttpServer } from '@dmf/http';
import type { SigningKey } from '@dmf/protocol';
import { AgentState } from './agent-state.ts';
import { Auditor } from './auditor.ts';
import { CoordinatorLink } from './coordinator-link.ts';
import { AgentRepair } from './repair.ts';
import { Reporter } from './reporter.ts';
import { registerAgentRoutes } from './routes.ts';
import { ShardStore } from './shard-store.ts';

export interface StorageAgentOptions {
  dataDir: string;
  /** The agent's node key: its node_id; signs its shard reports. */
  key: SigningKey;
  /** The verifying client (coordinators and peers). */
  client: DmfClient;
  /** Its coordinators' base URLs. */
  coordinators: readonly string[];
  logger: Logger;
  /** Between two self-audits. Default 1 hour. */
  auditIntervalMs?: number;
  /** Between two attempts to reach coordinators not reached yet. Default 10 s. */
  retryMs?: number;
}

export interface StorageAgent {
  store: ShardStore;
  state: AgentState;
  link: CoordinatorLink;
  auditor: Auditor;
  reporter: Reporter;
  register(app: DmfHttpServer): void;
  /**
   * Once the HTTPS server listens: finds the coordinators, announces `announcement` (its
   * signed manifests) to them, and starts reporting and auditing. Coordinators not
   * reached are tried again in the background.
   */
  run(announcement: () => string): Promise<void>;
  close(): Promise<void>;
}

export async function startStorageAgent(o: StorageAgentOptions): Promise<StorageAgent> {
  const logger = o.logger.child({ sub: 'storage-agent' });
  const store = new ShardStore(join(o.dataDir, 'shards'));
  await store.open();
  const state = new AgentState(join(o.dataDir, 'agent-state.json'));
  await state.load();
  const link = new CoordinatorLink({ client: o.client, urls: o.coordinators, logger });
  const reporter = new Reporter({ key: o.key, state, link, logger });
  const auditor = new Auditor({ store, state, reporter, logger, ...(o.auditIntervalMs === undefined ? {} : { intervalMs: o.auditIntervalMs }) });
  const repair = new AgentRepair({ self: o.key.did, client: o.client, link, store, state, reporter, logger });
  let retry: NodeJS.Timeout | undefined;
  let closed = false;
  return {
    store,
    state,
    link,
    auditor,
    reporter,
    register: (app) => registerAgentRoutes(app, { self: o.key.did, store, state, link, reporter, repair }),
    async run(announcement) {
      const join = async () => {
        const before = link.ids().length;
        await link.discover();
        if (link.ids().length > before) await link.announce(announcement());
        return link.ids().length === o.coordinators.length;
      };
      const all = await join();
      reporter.start();
      auditor.start();
      if (!all) {
        const again = () => {
          retry = setTimeout(() => {
            void join().then((done) => {
              if (!done && !closed) again();
            });
          }, o.retryMs ?? 10_000);
          retry.unref();
        };
        again();
      }
    },
    async close() {
      closed = true;
      clearTimeout(retry);
      reporter.close();
      await auditor.close();
      await state.save();
    },
  };
}
