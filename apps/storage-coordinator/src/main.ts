/**
 * The storage coordination role, wired: the storage projection (from the log), the
 * chunk checker (health into KV, repairs into the queue), the repair queue and its
 * worker (the executor), the intake and the routes. `dmf up` starts it in its process.
 */
import { DelayedError, type Job } from 'bullmq';
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { DmfHttpServer } from '@dmf/http';
import type { SigningKey } from '@dmf/protocol';
import { projectionBucketName, STORAGE } from '@dmf/streams';
import { openBucket } from '@dmf/bus';
import { ChunkChecker, DEFAULT_CHECKER_POLICY, type CheckerPolicy } from './chunk-checker.ts';
import type { PlacementPolicy } from './domain/placement.ts';
import { RepairTrafficCap } from './domain/repair-queue.ts';
import { storageCandidates, type RegistryNodeLike, type StorageCandidate } from './domain/storage-nodes.ts';
import { StorageIntake } from './intake.ts';
import { RepairDeferred, RepairExecutor, type TaskSender } from './repair-executor.ts';
import { RepairQueue, type RepairJob, type RepairOutcome } from './repair-queue.ts';
import { registerStorageRoutes } from './routes.ts';
import { StorageProjection } from './storage-projection.ts';

export interface StoragePolicy extends CheckerPolicy {
  /** Repair traffic (bytes read plus written) each node may carry per window. Default 10 GiB... */
  repairBytesPerNode: number;
  /** ...per this window. Default 1 hour. */
  repairWindowMs: number;
  /** Repairs run at once. Default 2. */
  repairConcurrency: number;
}

export const DEFAULT_STORAGE_POLICY: Readonly<Omit<StoragePolicy, keyof CheckerPolicy>> = Object.freeze({
  repairBytesPerNode: 10 * 2 ** 30,
  repairWindowMs: 3_600_000,
  repairConcurrency: 2,
});

export interface StorageRoleOptions {
  js: JetStreamClient;
  jsm: JetStreamManager;
  operator: string;
  key: SigningKey;
  redis: Redis;
  logger: Logger;
  /** The federation registry's nodes now (admission, manifests, attesters). */
  registryNodes: () => Iterable<RegistryNodeLike>;
  /** Nodes that did not answer their latest probes, and since when (the prober's). */
  unreachable: () => ReadonlyMap<string, number>;
  isAdmitted: (nodeId: string) => boolean;
  /** Posts a signed repair task to a storage node's storage service. */
  send: TaskSender;
  policy?: Partial<StoragePolicy>;
  placement?: PlacementPolicy;
}

export interface StorageRole {
  projection: StorageProjection;
  checker: ChunkChecker;
  queue: RepairQueue;
  nodes(): StorageCandidate[];
  register(app: DmfHttpServer): void;
  close(): Promise<void>;
}

export async function startStorageRole(o: StorageRoleOptions): Promise<StorageRole> {
  const logger = o.logger.child({ sub: 'storage' });
  const policy: StoragePolicy = { ...DEFAULT_CHECKER_POLICY, ...DEFAULT_STORAGE_POLICY, ...o.policy };
  const projection = new StorageProjection({ js: o.js, jsm: o.jsm, operator: o.operator, logger });
  await projection.start();
  const nodes = () => storageCandidates(o.registryNodes(), projection.usedBytes(), o.unreachable());
  const kv = await openBucket(o.js, projectionBucketName(STORAGE, o.operator));
  const queue = new RepairQueue(o.redis, o.operator, logger);
  // The queue is a projection: emptied, then filled by the checker's first pass over every chunk.
  await queue.rebuild();
  const checker = new ChunkChecker({ self: o.key.did, projection, kv, queue, nodes, policy, logger });
  const executor = new RepairExecutor({
    js: o.js,
    operator: o.operator,
    key: o.key,
    projection,
    nodes,
    send: o.send,
    cap: new RepairTrafficCap(policy.repairBytesPerNode, policy.repairWindowMs),
    health: policy,
    placement: o.placement,
    logger,
  });
  const worker = queue.worker(
    o.redis,
    async (job: Job<RepairJob, RepairOutcome>, token?: string) => {
      try {
        return job.data.kind === 'plan' ? await executor.plan(job.data.chunk, job.data.group) : await executor.execute(job.data.task);
      } catch (error) {
        if (!(error instanceof RepairDeferred)) throw error;
        // Over the traffic cap: back later, without spending an attempt.
        await job.moveToDelayed(Date.now() + error.waitMs, token);
        throw new DelayedError();
      }
    },
    policy.repairConcurrency,
  );
  const intake = new StorageIntake({ js: o.js, operator: o.operator, key: o.key, projection, nodes, isAdmitted: o.isAdmitted, queue, health: policy, placement: o.placement, logger });
  checker.start();
  return {
    projection,
    checker,
    queue,
    nodes,
    register: (app) => registerStorageRoutes(app, { intake, projection, kv, queue, nodes }),
    async close() {
      await checker.close();
      await worker.close();
      await queue.close();
      await projection.close();
    },
  };
}
