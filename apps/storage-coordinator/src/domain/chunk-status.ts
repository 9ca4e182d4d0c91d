/**
 * A chunk's status as `GET /chunk_status/<cid>` answers it and the storage bucket keeps
 * it: the current erasure group, its health, and each shard's holder and standing. Pure.
 */
import type { ErasureScheme, PopularityTier } from '@dmf/protocol';
import type { ChunkCondition } from './chunk-health.ts';
import type { ChunkState } from './storage-state.ts';

/** How one shard stands: live, live but its holder is down (not yet out), or to rebuild. */
export type ShardStanding = 'live' | 'waiting' | 'rebuild';

export interface ChunkStatus {
  chunk: string;
  /** Record id of the current erasure group. */
  group: string;
  coordinator: string;
  /** The group's version (a repair publishes the next). */
  seq: number;
  size: number;
  tier: PopularityTier;
  scheme: ErasureScheme;
  shard_bytes: number;
  condition: ChunkCondition;
  /** Live shards counted once per subnet. */
  effective: number;
  repair_threshold: number;
  shards: { shard: number; cid: string; node: string; standing: ShardStanding }[];
}

export function chunkStatus(state: ChunkState): ChunkStatus {
  const { document: g, health } = state;
  const waiting = new Set(health.waiting);
  const live = new Set(health.live);
  const rebuild = new Set(health.toRebuild);
  return {
    chunk: state.chunk,
    group: state.group,
    coordinator: g.coordinator,
    seq: g.seq,
    size: g.size,
    tier: g.tier,
    scheme: g.scheme,
    shard_bytes: g.shard_bytes,
    condition: health.condition,
    effective: health.effective,
    repair_threshold: health.repairThreshold,
    shards: g.shards.map((cid, shard) => ({
      shard,
      cid,
      node: g.holders[shard] as string,
      // A clumped shard is live yet moved by the next repair: it is shown as to rebuild.
      standing: rebuild.has(shard) ? 'rebuild' : waiting.has(shard) ? 'waiting' : live.has(shard) ? 'live' : 'rebuild',
    })),
  };
}
