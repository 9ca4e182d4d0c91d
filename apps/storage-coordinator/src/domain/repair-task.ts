/**
 * From a degraded chunk to the body of a signed `repair_task` (spec 7.3): which shards
 * to read from where, which to rebuild, and which node stores each rebuilt shard. Pure:
 * the coordinator signs and publishes what this returns, and any node can recompute it.
 *
 * - What to read: the code's cheapest plan (@dmf/erasure planRepair: an LRC local group
 *   when it can, else k shards), never from a holder that is down.
 * - Where to store: the placement of the group (placement.ts) over the candidates that
 *   hold none of the group's live shards (clumped ones included: a clumped shard must
 *   move away from its region or subnet), counting the regions and subnets of the shards
 *   kept, so the repaired group keeps its spread and is not clumped again.
 */
import { planRepair, type RepairPlan } from '@dmf/erasure';
import type { ErasureScheme } from '@dmf/protocol';
import type { ChunkHealth } from './chunk-health.ts';
import { placeShards, type PlacementPolicy, type StorageNode } from './placement.ts';
import { modelScheme } from './tier-scheme.ts';

export interface RepairTaskBody {
  read: { shard: number; node: string }[];
  rebuild: { shard: number; node: string }[];
  /** How the code rebuilds (for logs and metrics). */
  method: RepairPlan['method'];
}

export interface RepairInput {
  chunk: string;
  scheme: ErasureScheme;
  shardBytes: number;
  /** Holder of each shard index (the erasure group's). */
  holders: readonly string[];
  health: ChunkHealth;
  /** Nodes that may take a rebuilt shard (the registry's admitted storage nodes). */
  candidates: readonly StorageNode[];
  policy?: PlacementPolicy;
}

export class RepairTaskError extends Error {
  constructor(
    readonly code: 'repair.not_needed' | 'repair.unrecoverable' | 'repair.no_nodes',
    message: string,
  ) {
    super(`${code}: ${message}`);
    this.name = 'RepairTaskError';
  }
}

export function repairTaskFor(input: RepairInput): RepairTaskBody {
  const { health } = input;
  if (health.toRebuild.length === 0) throw new RepairTaskError('repair.not_needed', `chunk ${input.chunk} is ${health.condition}; nothing to rebuild`);
  // Shards not live are lost or out; those merely waiting (holder down, not out) are unreadable now.
  const lost = health.toRebuild;
  const live = new Set(health.live);
  const unavailable = health.waiting.filter((s) => !lost.includes(s));
  let plan: RepairPlan;
  try {
    plan = planRepair(modelScheme(input.scheme), lost, { unavailable });
  } catch (error) {
    throw new RepairTaskError('repair.unrecoverable', `chunk ${input.chunk}: ${(error as Error).message}`);
  }
  const holding = new Set([...live].map((s) => input.holders[s] as string));
  const eligible = input.candidates.filter((n) => !holding.has(n.nodeId));
  const byId = new Map(input.candidates.map((n) => [n.nodeId, n]));
  const taken = [...live]
    .filter((s) => !lost.includes(s))
    .map((s) => byId.get(input.holders[s] as string))
    .filter((n): n is StorageNode => n !== undefined)
    .map((n) => ({ region: n.region, subnet: n.subnet }));
  let targets: StorageNode[];
  try {
    // Named for the chunk and the shards rebuilt: another repair of the same chunk draws afresh.
    targets = placeShards({ chunk: `${input.chunk}#repair:${plan.rebuild.join(',')}`, shards: plan.rebuild.length, shardBytes: input.shardBytes, taken }, eligible, input.policy);
  } catch (error) {
    throw new RepairTaskError('repair.no_nodes', `chunk ${input.chunk}: ${(error as Error).message}`);
  }
  return {
    method: plan.method,
    read: plan.read.map((shard) => ({ shard, node: input.holders[shard] as string })),
    rebuild: plan.rebuild.map((shard, i) => ({ shard, node: (targets[i] as StorageNode).nodeId })),
  };
}
