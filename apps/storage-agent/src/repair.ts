/**
 * Executing a repair task (spec 7.3) on the agent that rebuilds: the task must be signed
 * by one of its coordinators, in force, and name this agent; the erasure group comes
 * from that coordinator, verified. The shards to read are fetched from their holders
 * (each checked against the CID the group names; one that fails counts as missing),
 * the missing shards are rebuilt by the group's code, each rebuilt shard this agent is
 * to store is checked against its CID, stored, and reported. Idempotent: a shard already
 * held intact is not rebuilt again.
 */
import type { Logger } from 'pino';
import type { DmfClient } from '@dmf/client';
import { rebuildShards } from '@dmf/erasure';
import { cidOfBytes, verifyBytes, type RepairTask } from '@dmf/protocol';
import { modelScheme } from '@dmf/storage-coordinator/domain';
import type { AgentState, HeldShard } from './agent-state.ts';
import type { CoordinatorLink } from './coordinator-link.ts';
import type { Reporter } from './reporter.ts';
import type { ShardStore } from './shard-store.ts';

/** Largest signed repair task accepted. */
export const MAX_TASK_BYTES = 64 * 1024;

export class RepairRefused extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    readonly path: string,
    readonly reason: string,
  ) {
    super(`${code}: ${path}: ${reason}`);
    this.name = 'RepairRefused';
  }
}

export interface RepairAnswer {
  task: string;
  stored: { shard: number; cid: string }[];
}

export interface AgentRepairOptions {
  self: string;
  client: DmfClient;
  link: CoordinatorLink;
  store: ShardStore;
  state: AgentState;
  reporter: Reporter;
  logger: Logger;
}

export class AgentRepair {
  readonly #o: AgentRepairOptions;

  constructor(options: AgentRepairOptions) {
    this.#o = options;
  }

  async execute(raw: Uint8Array): Promise<RepairAnswer> {
    const record = verifyBytes(raw, { maxBytes: MAX_TASK_BYTES });
    if (record.kind !== 'repair_task') throw new RepairRefused('repair.kind', 422, '$.kind', `is "${record.kind}"; this route takes repair_task records`);
    const task = record.document as RepairTask;
    if (!this.#o.link.trusts(task.coordinator)) throw new RepairRefused('repair.untrusted', 403, '$.coordinator', 'is not a coordinator of this storage node');
    const mine = task.rebuild.filter((r) => r.node === this.#o.self);
    if (mine.length === 0) throw new RepairRefused('repair.not_target', 422, '$.rebuild', 'names no shard for this node to rebuild');

    const group = await this.#o.link.group(task.group, task.coordinator);
    if (group.chunk !== task.chunk) throw new RepairRefused('repair.chunk_mismatch', 422, '$.chunk', `the group is about chunk ${group.chunk}`);
    const n = group.shards.length;
    for (const [i, r] of [...task.read, ...task.rebuild].entries()) {
      if (r.shard >= n) throw new RepairRefused('repair.shard_range', 422, i < task.read.length ? `$.read[${i}].shard` : `$.rebuild[${i - task.read.length}].shard`, `the group has ${n} shards`);
    }

    const stored: RepairAnswer['stored'] = [];
    const todo = [];
    for (const { shard } of mine) {
      const cid = group.shards[shard] as string;
      if ((await this.#o.store.read(cid)).state === 'stored') stored.push({ shard, cid });
      else todo.push(shard);
    }
    if (todo.length > 0) {
      const shards = await this.#fetch(task, group.shards, n);
      try {
        rebuildShards(modelScheme(group.scheme), shards);
      } catch (error) {
        throw new RepairRefused('repair.too_few_shards', 503, '$.read', `the shards fetched cannot rebuild the chunk: ${(error as Error).message}`);
      }
      for (const shard of todo) {
        const cid = group.shards[shard] as string;
        const bytes = shards[shard] as Uint8Array;
        // The code rebuilds exactly the bytes that were encoded, so this fails only on a bad read that hashed right: never, or a bug.
        if (cidOfBytes(bytes) !== cid) throw new RepairRefused('repair.rebuilt_mismatch', 500, `$.rebuild`, `shard ${shard} rebuilt to other bytes than ${cid}`);
        await this.#o.store.put(cid, bytes);
        stored.push({ shard, cid });
      }
    }
    for (const { shard, cid } of stored) {
      const before = this.#o.state.get(task.chunk, shard);
      const held: HeldShard = { chunk: task.chunk, shard, cid, group: task.group, ...(before?.cid === cid && before.reported ? { reported: before.reported } : {}) };
      await this.#o.state.set(held);
      if (held.reported !== 'stored') await this.#o.reporter.report(held, 'stored');
    }
    this.#o.logger.info({ task: record.id, chunk: task.chunk, rebuilt: todo, stored: stored.map((s) => s.shard) }, 'repair task executed');
    return { task: record.id, stored: stored.sort((a, b) => a.shard - b.shard) };
  }

  /** The shards the task reads, from their holders, each checked against its CID (null when it could not be had). */
  async #fetch(task: RepairTask, cids: readonly string[], n: number): Promise<(Uint8Array | null)[]> {
    const shards: (Uint8Array | null)[] = Array.from({ length: n }, () => null);
    const urls = await this.#o.link.storageNodeUrls(task.coordinator);
    await Promise.all(
      task.read.map(async ({ shard, node }) => {
        const cid = cids[shard] as string;
        const url = urls.get(node);
        if (!url) return this.#o.logger.warn({ shard, node }, 'repair: holder has no known storage URL');
        try {
          const answer = await this.#o.client.call({ node: url, serviceType: 'storage' }, { method: 'GET', path: `/shards/${cid}` });
          if (answer.node.manifest.node_id !== node) return this.#o.logger.warn({ shard, node, answered: answer.node.manifest.node_id }, 'repair: another node answered');
          if (answer.status !== 200) return this.#o.logger.warn({ shard, node, status: answer.status }, 'repair: shard not served');
          if (cidOfBytes(answer.body) !== cid) return this.#o.logger.warn({ shard, node }, 'repair: shard served with other bytes than its CID');
          shards[shard] = answer.body;
        } catch (error) {
          this.#o.logger.warn({ shard, node, err: (error as Error).message }, 'repair: shard not fetched');
        }
      }),
    );
    return shards;
  }
}
