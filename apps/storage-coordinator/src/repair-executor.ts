/**
 * The coordinator's side of a repair (spec 7.3), run by the repair worker:
 *
 * 1. `plan`: for a degraded chunk, the repair task (domain/repair-task.ts: what to read
 *    from where, what to rebuild where), under the per-node traffic cap; signed and
 *    published into the log, so every node sees what was asked.
 * 2. `execute`: the task is posted to each node that rebuilds a shard (its storage
 *    service's `POST /repair_task`); each fetches the shards to read, rebuilds, checks
 *    the CIDs, stores, reports, and answers. When all have answered, the next version of
 *    the erasure group is published with the new holders: the chunk is healthy again
 *    once their reports are in.
 *
 * Whatever fails throws, and BullMQ retries with backoff. A chunk whose group changed
 * meanwhile, or that is healthy again, ends the job without doing anything.
 */
import type { JetStreamClient } from '@nats-io/jetstream';
import type { Logger } from 'pino';
import { canonicalBytes, signRecord, type ErasureGroup, type RepairTask, type SigningKey } from '@dmf/protocol';
import { publishRecord } from '@dmf/bus';
import type { HealthPolicy } from './domain/chunk-health.ts';
import type { PlacementPolicy } from './domain/placement.ts';
import { RepairTrafficCap } from './domain/repair-queue.ts';
import { repairTaskFor, RepairTaskError } from './domain/repair-task.ts';
import { holderStatuses, placeableNodes, type StorageCandidate } from './domain/storage-nodes.ts';
import type { RepairOutcome } from './repair-queue.ts';
import type { StorageProjection, TaskRecord } from './storage-projection.ts';

/** Posts a signed repair task to a storage node; resolves when it stored its shards, throws otherwise. */
export type TaskSender = (target: StorageCandidate, task: Record<string, unknown>) => Promise<void>;

export interface RepairExecutorOptions {
  js: JetStreamClient;
  operator: string;
  /** This node's key: signs repair tasks and erasure groups. */
  key: SigningKey;
  projection: StorageProjection;
  nodes: () => StorageCandidate[];
  send: TaskSender;
  cap: RepairTrafficCap;
  health?: HealthPolicy;
  placement?: PlacementPolicy;
  /** How long a repair task is valid. Default 1 hour. */
  taskValidityMs?: number;
  logger: Logger;
}

/** Thrown when the traffic cap says to wait: the worker delays the job by `waitMs`. */
export class RepairDeferred extends Error {
  constructor(readonly waitMs: number) {
    super(`repair traffic cap reached; retry in ${waitMs} ms`);
    this.name = 'RepairDeferred';
  }
}

export class RepairExecutor {
  readonly #o: RepairExecutorOptions;

  constructor(options: RepairExecutorOptions) {
    this.#o = options;
  }

  /** Plans, signs and publishes the repair of a degraded chunk, then executes it. */
  async plan(chunk: string, groupId: string): Promise<RepairOutcome> {
    const now = Date.now();
    const nodes = this.#o.nodes();
    const state = this.#o.projection.state(chunk, holderStatuses(nodes), now, this.#o.health);
    if (!state || state.group !== groupId) return { outcome: 'superseded', ...(state ? { group: state.group } : {}) };
    // Only the coordinator that assigned the chunk can publish its group's next version.
    if (state.document.coordinator !== this.#o.key.did) return { outcome: 'not_coordinated_here', group: state.group };
    if (state.health.condition === 'healthy') return { outcome: 'healthy', group: state.group };
    const g = state.document;
    let body;
    try {
      body = repairTaskFor({ chunk, scheme: g.scheme, shardBytes: g.shard_bytes, holders: g.holders, health: state.health, candidates: placeableNodes(nodes), policy: this.#o.placement });
    } catch (error) {
      if (error instanceof RepairTaskError && error.code === 'repair.not_needed') return { outcome: 'healthy', group: state.group };
      throw error; // unrecoverable now or no nodes: retried, later nodes may be back
    }
    const traffic = new Map<string, number>();
    for (const { node } of [...body.read, ...body.rebuild]) traffic.set(node, (traffic.get(node) ?? 0) + g.shard_bytes);
    const wait = this.#o.cap.take(traffic, now);
    if (wait > 0) throw new RepairDeferred(wait);
    const task = await this.#issue(chunk, groupId, body.read, body.rebuild, now);
    this.#o.logger.info({ chunk, group: groupId, task: task.id, method: body.method, rebuild: body.rebuild.map((r) => r.shard) }, 'repair task issued');
    return this.#run(task);
  }

  /**
   * Executes a repair task another node posted here (in the log already). Storage nodes
   * take tasks only from their coordinators, so this node adopts it: the same reads and
   * rebuilds in a task of its own, signed and published, which is what is executed.
   */
  async execute(taskId: string): Promise<RepairOutcome> {
    // A task posted here is published first; wait for it to be read back.
    if (!(await this.#o.projection.waitFor(taskId, 10_000))) throw new Error(`repair task ${taskId} is not in the log (yet)`);
    const posted = this.#o.projection.task(taskId) as TaskRecord;
    const self = this.#o.key.did;
    if (posted.document.coordinator === self) return this.#run(posted);
    const current = this.#o.projection.current(posted.document.chunk);
    if (!current || current.id !== posted.document.group) return { outcome: 'superseded', task: taskId, ...(current ? { group: current.id } : {}) };
    const adopted = await this.#issue(posted.document.chunk, posted.document.group, posted.document.read, posted.document.rebuild, Date.now());
    this.#o.logger.info({ chunk: posted.document.chunk, posted: taskId, task: adopted.id, by: posted.document.coordinator }, 'posted repair task adopted');
    return { ...(await this.#run(adopted)), adopted: taskId };
  }

  /** Signs and publishes a repair task of this node. */
  async #issue(chunk: string, groupId: string, read: RepairTask['read'], rebuild: RepairTask['rebuild'], now: number): Promise<TaskRecord> {
    const self = this.#o.key.did;
    const issued = new Date(now);
    const task = signRecord(
      {
        kind: 'repair_task',
        coordinator: self,
        group: groupId,
        chunk,
        read,
        rebuild,
        seq: this.#o.projection.highestTaskSeq(groupId, self) + 1,
        issued_at: issued.toISOString(),
        expires_at: new Date(now + (this.#o.taskValidityMs ?? 3_600_000)).toISOString(),
      },
      this.#o.key,
      { now: issued },
    );
    await publishRecord(this.#o.js, { operator: this.#o.operator, kind: task.kind, id: task.id, bytes: canonicalBytes(task.document) });
    return { id: task.id, document: task.document as RepairTask };
  }

  async #run(task: TaskRecord): Promise<RepairOutcome> {
    const t = task.document;
    const current = this.#o.projection.current(t.chunk);
    if (!current || current.id !== t.group) return { outcome: 'superseded', task: task.id, ...(current ? { group: current.id } : {}) };
    if (Date.parse(t.expires_at) <= Date.now()) return { outcome: 'superseded', task: task.id, group: current.id };
    const nodes = new Map(this.#o.nodes().map((c) => [c.node.nodeId, c]));
    const targets = [...new Set(t.rebuild.map((r) => r.node))];
    await Promise.all(
      targets.map(async (nodeId) => {
        const target = nodes.get(nodeId);
        if (!target) throw new Error(`rebuild target ${nodeId} is not an admitted storage node`);
        await this.#o.send(target, task.document as unknown as Record<string, unknown>);
      }),
    );
    const group = await this.#publishNext(current.document, t);
    this.#o.logger.info({ chunk: t.chunk, task: task.id, group }, 'repair done; next erasure group version published');
    return { outcome: 'repaired', task: task.id, group };
  }

  /** The next version of the group: the rebuilt shards at their new holders. */
  async #publishNext(previous: ErasureGroup, task: RepairTask): Promise<string> {
    const holders = [...previous.holders];
    for (const { shard, node } of task.rebuild) holders[shard] = node;
    const self = this.#o.key.did;
    const now = new Date();
    const { signature: _signature, ...rest } = previous;
    const record = signRecord(
      { ...rest, coordinator: self, holders, seq: Math.max(previous.seq, this.#o.projection.highestGroupSeq(previous.chunk, self)) + 1, issued_at: now.toISOString() },
      this.#o.key,
      { now },
    );
    await publishRecord(this.#o.js, { operator: this.#o.operator, kind: record.kind, id: record.id, bytes: canonicalBytes(record.document) });
    return record.id;
  }
}
