/**
 * The chunk checker (Storj calls theirs the repair checker): every tick it re-judges the
 * chunks whose records changed and the chunks of holders whose standing changed (up,
 * down, out), writes each chunk's status to the storage bucket when it changed, and
 * queues a repair for each degraded chunk, prioritised by its expected time to loss at
 * the observed node failure rate. Every chunk is judged again once a sweep interval,
 * so that a repair that failed for good is tried again later.
 */
import { createHash } from 'node:crypto';
import type { KV } from '@nats-io/kv';
import type { Logger } from 'pino';
import { DEFAULT_HEALTH_POLICY, expectedDaysToLoss, type HealthPolicy, type HolderStatus } from './domain/chunk-health.ts';
import { chunkStatus } from './domain/chunk-status.ts';
import { failureRatePerDay } from './domain/failure-rate.ts';
import { repairPriority } from './domain/repair-queue.ts';
import { holderStatuses, type StorageCandidate } from './domain/storage-nodes.ts';
import { kOf } from './domain/storage-state.ts';
import type { RepairQueue } from './repair-queue.ts';
import type { StorageProjection } from './storage-projection.ts';

export interface CheckerPolicy extends HealthPolicy {
  /** Between two ticks. Default 5 s. */
  intervalMs: number;
  /** Every chunk is judged again this often. Default 10 minutes. */
  sweepMs: number;
  /** Node failures are counted over this window. Default 30 days. */
  failureWindowMs: number;
}

export const DEFAULT_CHECKER_POLICY: Readonly<CheckerPolicy> = Object.freeze({
  ...DEFAULT_HEALTH_POLICY,
  intervalMs: 5_000,
  sweepMs: 600_000,
  failureWindowMs: 30 * 86_400_000,
});

export interface ChunkCheckerOptions {
  /** This node's node id: only chunks it coordinates are repaired here (their groups are signed by it). */
  self: string;
  projection: StorageProjection;
  kv: KV;
  queue: RepairQueue;
  nodes: () => StorageCandidate[];
  policy?: Partial<CheckerPolicy>;
  logger: Logger;
}

export interface CheckerStats {
  ticks: number;
  judged: number;
  written: number;
  queued: number;
  degraded: number;
  lost: number;
  failureRatePerDay: number;
}

type Standing = 'up' | 'down' | 'out';

/** Chunks whose writes are in flight at once. */
const IN_FLIGHT = 128;

/** KV key of a chunk's status. CIDs (base32, lowercase) are valid key tokens. */
export function chunkKey(chunk: string): string {
  return `chunk.${chunk}`;
}

export class ChunkChecker {
  readonly #o: ChunkCheckerOptions;
  readonly #policy: CheckerPolicy;
  readonly #standing = new Map<string, Standing>();
  /** A digest of the status last written per chunk: a status is written only when it changed. */
  readonly #written = new Map<string, string>();
  readonly #outs: number[] = [];
  readonly #startedAt = Date.now();
  #lastSweep = 0;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #closed = false;
  readonly #stats: CheckerStats = { ticks: 0, judged: 0, written: 0, queued: 0, degraded: 0, lost: 0, failureRatePerDay: 0 };

  constructor(options: ChunkCheckerOptions) {
    this.#o = options;
    this.#policy = { ...DEFAULT_CHECKER_POLICY, ...options.policy };
  }

  start(): void {
    const tick = () => {
      this.#timer = setTimeout(() => {
        this.#running = this.tick()
          .catch((error: unknown) => this.#o.logger.error({ err: (error as Error).message }, 'chunk check failed'))
          .finally(() => {
            if (!this.#closed) tick();
          });
      }, this.#policy.intervalMs);
      this.#timer.unref();
    };
    tick();
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    await this.#running;
  }

  stats(): CheckerStats {
    return { ...this.#stats };
  }

  /** The failure rate repair priorities are computed with now (failures per node and day). */
  failureRate(nodes: number, now: number): number {
    while (this.#outs.length > 0 && (this.#outs[0] as number) < now - this.#policy.failureWindowMs) this.#outs.shift();
    const days = Math.min(this.#policy.failureWindowMs, now - this.#startedAt) / 86_400_000;
    return failureRatePerDay({ outs: this.#outs.length, nodes, days });
  }

  /** One pass (see the top of this file). */
  async tick(): Promise<void> {
    const now = Date.now();
    const candidates = this.#o.nodes();
    const statuses = holderStatuses(candidates);
    const dirty = this.#o.projection.takeDirty();
    for (const node of this.#standingChanges(statuses, now)) for (const chunk of this.#o.projection.chunksHeldBy(node)) dirty.add(chunk);
    if (now - this.#lastSweep >= this.#policy.sweepMs) {
      this.#lastSweep = now;
      this.#o.queue.forget();
      for (const chunk of this.#o.projection.chunks()) dirty.add(chunk);
    }
    const rate = this.failureRate(candidates.length, now);
    this.#stats.failureRatePerDay = rate;
    // Judged in batches whose KV writes and queue additions are in flight together: one
    // after another, each would wait a round trip to nats-server or Redis.
    const chunks = [...dirty];
    for (let i = 0; i < chunks.length; i += IN_FLIGHT) {
      const plans = await Promise.all(chunks.slice(i, i + IN_FLIGHT).map((chunk) => this.#judge(chunk, statuses, now, rate)));
      this.#stats.queued += await this.#o.queue.plan(plans.filter((p) => p !== undefined));
    }
    this.#stats.ticks++;
  }

  /** Nodes whose standing changed since the last tick; counts those that went out. */
  #standingChanges(statuses: ReadonlyMap<string, HolderStatus>, now: number): string[] {
    const changed: string[] = [];
    const nodes = new Set([...this.#standing.keys(), ...statuses.keys()]);
    for (const node of nodes) {
      const status = statuses.get(node);
      const standing: Standing =
        status === undefined ? 'out' : status.downSince === undefined ? 'up' : now - status.downSince >= this.#policy.downToOutMs ? 'out' : 'down';
      const before = this.#standing.get(node);
      if (before === standing) continue;
      if (standing === 'out' && before !== undefined) this.#outs.push(now);
      if (standing === 'out' && status === undefined) this.#standing.delete(node);
      else this.#standing.set(node, standing);
      changed.push(node);
    }
    return changed;
  }

  /** Writes the chunk's status when it changed; returns the repair to queue when it is degraded. */
  async #judge(chunk: string, statuses: ReadonlyMap<string, HolderStatus>, now: number, rate: number): Promise<{ chunk: string; group: string; priority: number } | undefined> {
    const state = this.#o.projection.state(chunk, statuses, now, this.#policy);
    if (!state) return undefined;
    this.#stats.judged++;
    const status = chunkStatus(state);
    const json = JSON.stringify(status);
    const digest = createHash('sha256').update(json).digest('base64url').slice(0, 16);
    if (this.#written.get(chunk) !== digest) {
      await this.#o.kv.put(chunkKey(chunk), json);
      this.#written.set(chunk, digest);
      this.#stats.written++;
      if (status.condition !== 'healthy') this.#o.logger.info({ chunk, group: state.group, condition: status.condition, effective: status.effective }, 'chunk condition');
    }
    if (state.health.condition === 'lost') {
      this.#stats.lost++;
      return undefined;
    }
    if (state.health.condition !== 'degraded') return undefined;
    this.#stats.degraded++;
    // Another coordinator's chunk: only it can publish the group's next version.
    if (state.document.coordinator !== this.#o.self) return undefined;
    const days = expectedDaysToLoss(state.health.effective, kOf(state.document), rate);
    return { chunk, group: state.group, priority: repairPriority(days) };
  }
}
