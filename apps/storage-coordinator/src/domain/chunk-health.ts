/**
 * Chunk health (spec 7.3) from what the log says: an erasure group's holders, the
 * shard reports of storage agents, and whether each holder is up. Pure.
 *
 * - A shard is **live** when its holder reported it stored (its newest report for that
 *   shard) and the holder is not out.
 * - A holder that is briefly unreachable is **down**, not out: its shards still count
 *   until it has been down for `downToOutMs` (a repair started at once for a node that
 *   comes back is wasted traffic, and a flapping network would cause repair storms).
 * - Live shards clumped in one subnet count as one (they tend to fail together), and so
 *   do those a region holds beyond its share: with the group's n shards over the R
 *   regions storage nodes are in, ⌈n / R⌉ per region (placement spreads that evenly;
 *   more in one region is one outage away from losing them all).
 * - The chunk needs repair when its effective live count is at or below the repair
 *   threshold; it is lost when fewer than `k` shards are live at all.
 */

import type { ShardState } from '@dmf/protocol';

/** What a shard_report record says, as health needs it. */
export interface ReportedShard {
  shard: number;
  node: string;
  state: ShardState;
  /** The report's seq: a holder's reports only grow in it, so the highest is the newest. */
  seq: number;
}

export interface HolderStatus {
  subnet: string;
  /** Its region (absent: not counted for region clumping). */
  region?: string;
  /** Down since this time (ms), or undefined when up. */
  downSince?: number;
}

export interface GroupLayout {
  /** Shards needed to rebuild (k of the code). */
  k: number;
  /** Holder of each shard index. */
  holders: readonly string[];
  /** Most shards of the group one region may hold before the others count as clumped. Default: no cap. */
  regionCap?: number;
  /** Repair when the effective live count is at or below this. Default: defaultRepairThreshold(k, n). */
  repairThreshold?: number;
}

export interface HealthPolicy {
  /** How long a holder may be down before its shards stop counting. Default 30 minutes. */
  downToOutMs: number;
}

export const DEFAULT_HEALTH_POLICY: Readonly<HealthPolicy> = Object.freeze({ downToOutMs: 30 * 60_000 });

export type ChunkCondition = 'healthy' | 'degraded' | 'lost';

export interface ChunkHealth {
  condition: ChunkCondition;
  /** Shards live (holder reported it stored, holder not out). */
  live: number[];
  /** Live shards counted once per subnet. */
  effective: number;
  /** Shards to rebuild: lost, missing, corrupt, or out, and the extra copies of a clumped subnet. */
  toRebuild: number[];
  /** Shards whose holder is down but not yet out (not rebuilt yet). */
  waiting: number[];
  repairThreshold: number;
}

/**
 * Repair once half the parity (rounded up) is gone: k + ⌈(n − k) / 2⌉ live shards or
 * fewer; RS(10,4) at 12, RS(17,3) at 19. Never n itself: a group with one parity shard
 * (RS(2,1)) would otherwise count as degraded with every shard live.
 */
export function defaultRepairThreshold(k: number, n: number): number {
  return Math.min(n - 1, k + Math.ceil((n - k) / 2));
}

export function chunkHealth(
  layout: GroupLayout,
  reports: readonly ReportedShard[],
  holders: ReadonlyMap<string, HolderStatus>,
  now: number,
  policy: HealthPolicy = DEFAULT_HEALTH_POLICY,
): ChunkHealth {
  const n = layout.holders.length;
  const threshold = layout.repairThreshold ?? defaultRepairThreshold(layout.k, n);
  // The newest report per shard from its current holder (reports about a former holder do not count).
  const newest = new Map<number, ReportedShard>();
  for (const r of reports) {
    if (layout.holders[r.shard] !== r.node) continue;
    const seen = newest.get(r.shard);
    if (!seen || r.seq > seen.seq || (r.seq === seen.seq && r.state !== 'stored')) newest.set(r.shard, r);
  }
  const live: number[] = [];
  const waiting: number[] = [];
  const toRebuild: number[] = [];
  for (let shard = 0; shard < n; shard++) {
    const holder = layout.holders[shard] as string;
    const status = holders.get(holder);
    const report = newest.get(shard);
    const stored = report?.state === 'stored';
    const out = status === undefined || (status.downSince !== undefined && now - status.downSince >= policy.downToOutMs);
    const down = status?.downSince !== undefined && !out;
    if (stored && !out) {
      live.push(shard);
      if (down) waiting.push(shard);
    } else {
      toRebuild.push(shard);
    }
  }
  // Clumped in one subnet (one counts) or beyond a region's share: the others do not
  // count, and the next repair moves them elsewhere. Lowest shard numbers count first.
  const subnets = new Set<string>();
  const inRegion = new Map<string, number>();
  const counted: number[] = [];
  const clumped: number[] = [];
  for (const shard of live) {
    const status = holders.get(layout.holders[shard] as string);
    const subnet = status?.subnet ?? `unknown:${shard}`;
    const regionFull = layout.regionCap !== undefined && status?.region !== undefined && (inRegion.get(status.region) ?? 0) >= layout.regionCap;
    if (subnets.has(subnet) || regionFull) {
      clumped.push(shard);
      continue;
    }
    subnets.add(subnet);
    if (status?.region !== undefined) inRegion.set(status.region, (inRegion.get(status.region) ?? 0) + 1);
    counted.push(shard);
  }
  const effective = counted.length;
  const condition: ChunkCondition = live.length < layout.k ? 'lost' : effective <= threshold ? 'degraded' : 'healthy';
  return {
    condition,
    live,
    effective,
    toRebuild: condition === 'healthy' ? [] : [...toRebuild, ...clumped].sort((a, b) => a - b),
    waiting,
    repairThreshold: threshold,
  };
}

/**
 * Expected time until a chunk is lost, in days, with `live` healthy shards of which
 * `k` are needed and each holder failing independently at `failuresPerDay` (the rate
 * the network observed). With exponential failures the next failure among h nodes
 * comes after 1 / (h · rate) on average; losing the chunk takes live − k + 1 failures.
 * The smaller, the sooner the repair (as Storj's repair checker orders its queue).
 */
export function expectedDaysToLoss(live: number, k: number, failuresPerDay: number): number {
  if (live < k) return 0;
  if (!(failuresPerDay > 0)) return Number.POSITIVE_INFINITY;
  let days = 0;
  for (let h = live; h >= k; h--) days += 1 / (h * failuresPerDay);
  return days;
}
