/**
 * What the storage routes accept, checked against the log before it goes into it:
 * assignments (signed here), shard reports from storage nodes, and repair tasks from
 * admitted nodes. Each refusal names the member at fault; nothing is published then.
 * Records are published in their canonical form (JCS), and the same record twice is
 * answered the same without a second publish.
 */
import type { JetStreamClient } from '@nats-io/jetstream';
import type { Logger } from 'pino';
import { isRecoverable } from '@dmf/erasure';
import { canonicalBytes, signRecord, verifyBytes, type ErasureGroup, type PopularityTier, type RepairTask, type ShardReport, type SigningKey } from '@dmf/protocol';
import { KeyedLock, PublishError, publishRecord } from '@dmf/bus';
import { assignGroup, AssignmentError, sameAssignment, type AssignRequest } from './domain/assignment.ts';
import type { HealthPolicy } from './domain/chunk-health.ts';
import type { PlacementPolicy } from './domain/placement.ts';
import { holderStatuses, placeableNodes, type StorageCandidate } from './domain/storage-nodes.ts';
import type { GroupRecord } from './domain/storage-state.ts';
import { modelScheme, type Scheme } from './domain/tier-scheme.ts';
import type { RepairQueue } from './repair-queue.ts';
import type { StorageProjection } from './storage-projection.ts';

/** Largest signed record accepted (a repair task of 255 shards is about 30 KiB). */
export const MAX_STORAGE_RECORD_BYTES = 64 * 1024;

export class IntakeError extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    readonly title: string,
    readonly path: string,
    readonly reason: string,
  ) {
    super(`${code}: ${path}: ${reason}`);
    this.name = 'IntakeError';
  }
}

const refused = (code: string, path: string, reason: string) => new IntakeError(code, 422, 'Record refused', path, reason);
const conflict = (code: string, path: string, reason: string) => new IntakeError(code, 409, 'Conflict', path, reason);

export interface StorageIntakeOptions {
  js: JetStreamClient;
  operator: string;
  key: SigningKey;
  projection: StorageProjection;
  nodes: () => StorageCandidate[];
  /** Whether a node is admitted (the federation registry's word). */
  isAdmitted: (nodeId: string) => boolean;
  queue: RepairQueue;
  health?: HealthPolicy;
  placement?: PlacementPolicy;
  logger: Logger;
}

export class StorageIntake {
  readonly #o: StorageIntakeOptions;
  readonly #lock = new KeyedLock();

  constructor(options: StorageIntakeOptions) {
    this.#o = options;
  }

  /** Assigns a chunk (or answers with its group when the same request was made before). */
  async assign(request: AssignRequest & { tier: PopularityTier; scheme?: Scheme }): Promise<{ record: GroupRecord; created: boolean }> {
    // One assignment per chunk at a time: two at once would sign two groups.
    return this.#lock.run(request.chunk, async () => {
      const existing = this.#o.projection.current(request.chunk);
      try {
        if (existing) {
          sameAssignment(existing.document, request);
          return { record: existing, created: false };
        }
        const self = this.#o.key.did;
        const body = assignGroup(request, self, placeableNodes(this.#o.nodes()), this.#o.placement);
        const now = new Date();
        const signed = signRecord({ ...body, seq: this.#o.projection.highestGroupSeq(request.chunk, self) + 1, issued_at: now.toISOString() }, this.#o.key, { now });
        await this.#publish(signed.kind, signed.id, signed.document);
        // Read back, so the next request for this chunk finds it and its status follows.
        await this.#o.projection.waitFor(signed.id, 5_000);
        this.#o.logger.info({ chunk: request.chunk, group: signed.id, tier: request.tier }, 'erasure group assigned');
        return { record: { id: signed.id, document: signed.document as ErasureGroup }, created: true };
      } catch (error) {
        if (error instanceof AssignmentError) {
          if (error.code === 'assign.conflict') throw conflict(error.code, error.field, error.reason);
          if (error.code === 'assign.no_nodes') throw new IntakeError(error.code, 503, 'Not enough storage nodes', error.field, error.reason);
          throw refused(error.code, error.field, error.reason);
        }
        throw error;
      }
    });
  }

  /** A storage node's shard report, into the log. */
  async shardReport(raw: Uint8Array): Promise<{ id: string }> {
    const record = verifyBytes(raw, { maxBytes: MAX_STORAGE_RECORD_BYTES });
    if (record.kind !== 'shard_report') throw refused('intake.kind', '$.kind', `is "${record.kind}"; this route takes shard_report records`);
    const report = record.document as ShardReport;
    if (!this.#o.nodes().some((c) => c.node.nodeId === report.node)) throw refused('report.unknown_node', '$.node', 'is not an admitted storage node here');
    const group = this.#o.projection.group(report.group);
    if (!group) throw refused('report.unknown_group', '$.group', 'no erasure group with this record id is known here');
    const g = group.document;
    if (g.chunk !== report.chunk) throw refused('report.chunk_mismatch', '$.chunk', `the group is about chunk ${g.chunk}`);
    if (report.shard >= g.shards.length) throw refused('report.shard_range', '$.shard', `the group has ${g.shards.length} shards`);
    if (g.shards[report.shard] !== report.cid) throw refused('report.cid_mismatch', '$.cid', `shard ${report.shard} of the group is ${g.shards[report.shard]}`);
    if (!this.#holdsOrRebuilds(report, group)) throw refused('report.not_holder', '$.node', `is not the holder of shard ${report.shard} in this group, in the chunk's current group, nor a repair's target for it`);
    if (!this.#o.projection.has(record.id)) await this.#publish(record.kind, record.id, report);
    return { id: record.id };
  }

  /** A repair task from an admitted node, for a group this node coordinates: into the log and the queue. */
  async repairTask(raw: Uint8Array): Promise<{ id: string; job: string }> {
    const record = verifyBytes(raw, { maxBytes: MAX_STORAGE_RECORD_BYTES });
    if (record.kind !== 'repair_task') throw refused('intake.kind', '$.kind', `is "${record.kind}"; this route takes repair_task records`);
    const task = record.document as RepairTask;
    const self = this.#o.key.did;
    if (task.coordinator !== self && !this.#o.isAdmitted(task.coordinator)) throw refused('repair.not_admitted', '$.coordinator', 'is not an admitted node here');
    if (this.#o.projection.has(record.id)) return { id: record.id, job: await this.#o.queue.execute(record.id) };
    const group = this.#o.projection.group(task.group);
    if (!group || group.document.chunk !== task.chunk) throw refused('repair.unknown_group', '$.group', `no erasure group of chunk ${task.chunk} with this record id is known here`);
    const current = this.#o.projection.current(task.chunk) as GroupRecord;
    if (current.id !== task.group) throw conflict('repair.superseded', '$.group', `the chunk's current group is ${current.id}`);
    if (current.document.coordinator !== self) throw conflict('repair.not_coordinator', '$.group', `is coordinated by ${current.document.coordinator}; post the task there`);
    this.#checkPlan(task, current.document);
    await this.#publish(record.kind, record.id, task);
    return { id: record.id, job: await this.#o.queue.execute(record.id) };
  }

  /** The task's reads are live shards enough to rebuild, its rebuilds are not live, its targets admitted storage nodes. */
  #checkPlan(task: RepairTask, g: ErasureGroup): void {
    const nodes = this.#o.nodes();
    const state = this.#o.projection.state(task.chunk, holderStatuses(nodes), Date.now(), this.#o.health);
    const live = new Set(state?.health.live ?? []);
    const toRebuild = new Set(state?.health.toRebuild ?? []);
    const n = g.shards.length;
    task.read.forEach(({ shard, node }, i) => {
      if (shard >= n) throw refused('repair.shard_range', `$.read[${i}].shard`, `the group has ${n} shards`);
      if (g.holders[shard] !== node) throw refused('repair.wrong_holder', `$.read[${i}].node`, `shard ${shard} is held by ${g.holders[shard]}`);
      if (!live.has(shard)) throw refused('repair.read_not_live', `$.read[${i}].shard`, `shard ${shard} is not live`);
    });
    const placeable = new Set(placeableNodes(nodes).map((s) => s.nodeId));
    const keep = new Set(g.holders.filter((_, shard) => live.has(shard) && !toRebuild.has(shard)));
    task.rebuild.forEach(({ shard, node }, i) => {
      if (shard >= n) throw refused('repair.shard_range', `$.rebuild[${i}].shard`, `the group has ${n} shards`);
      if (!toRebuild.has(shard)) throw refused('repair.rebuild_live', `$.rebuild[${i}].shard`, `shard ${shard} is live and not clumped; it needs no rebuild`);
      if (!placeable.has(node)) throw refused('repair.target', `$.rebuild[${i}].node`, 'is not an admitted storage node that is up');
      if (keep.has(node)) throw refused('repair.target', `$.rebuild[${i}].node`, 'already holds a live shard of this group');
    });
    const read = new Set(task.read.map((r) => r.shard));
    const missing = g.shards.map((_, shard) => shard).filter((shard) => !read.has(shard));
    if (!isRecoverable(modelScheme(g.scheme), missing)) throw refused('repair.too_few_reads', '$.read', `shards ${[...read].join(', ')} cannot rebuild the chunk under its scheme`);
  }

  #holdsOrRebuilds(report: ShardReport, group: GroupRecord): boolean {
    const { node, shard } = report;
    if (group.document.holders[shard] === node) return true;
    if (this.#o.projection.current(report.chunk)?.document.holders[shard] === node) return true;
    return this.#o.projection.tasksOf(group.id).some((t) => t.document.rebuild.some((r) => r.shard === shard && r.node === node));
  }

  async #publish(kind: string, id: string, document: object): Promise<void> {
    try {
      await publishRecord(this.#o.js, { operator: this.#o.operator, kind, id, bytes: canonicalBytes(document) });
    } catch (error) {
      if (error instanceof PublishError) throw new IntakeError('bus.unavailable', 503, 'Not stored', '$', `not stored: ${error.message}`);
      throw error;
    }
  }
}
