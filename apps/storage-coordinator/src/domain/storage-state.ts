/**
 * Every chunk's current erasure group and health, from the log's `erasure_group` and
 * `shard_report` records (the storage projection's state, computed the same way by any
 * node with the same log). Pure, and independent of the order the records came in.
 *
 * - A chunk's groups come from the coordinator that assigned it first (the one with the
 *   lowest `seq` for it; ties broken by record id): another coordinator's assignment of
 *   the same chunk is ignored, as a second creator's claim on a manifest id is. Its
 *   newest `seq` is the current group (a repair publishes the next one).
 * - A shard's state is its holder's newest report about that shard of the current
 *   group (reports about an older group do not count: the shard may have moved).
 */
import type { ErasureGroup, ShardReport } from '@dmf/protocol';
import { chunkHealth, type ChunkHealth, type HealthPolicy, type HolderStatus, type ReportedShard } from './chunk-health.ts';

export interface GroupRecord {
  id: string;
  document: ErasureGroup;
}

export interface ReportRecord {
  id: string;
  document: ShardReport;
}

export interface ChunkState {
  chunk: string;
  /** Record id of the current erasure group. */
  group: string;
  document: ErasureGroup;
  health: ChunkHealth;
}

function pushTo<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/** The current group of each chunk (see the top of this file). */
export function currentGroups(groups: readonly GroupRecord[]): Map<string, GroupRecord> {
  const byChunk = new Map<string, GroupRecord[]>();
  for (const g of groups) pushTo(byChunk, g.document.chunk, g);
  const current = new Map<string, GroupRecord>();
  for (const [chunk, list] of byChunk) {
    const first = list.reduce((a, b) => (b.document.seq < a.document.seq || (b.document.seq === a.document.seq && b.id < a.id) ? b : a));
    const own = list.filter((g) => g.document.coordinator === first.document.coordinator);
    const newest = own.reduce((a, b) => (b.document.seq > a.document.seq || (b.document.seq === a.document.seq && b.id < a.id) ? b : a));
    current.set(chunk, newest);
  }
  return current;
}

/** Every chunk's state as of `now`, holders judged by `holders` (up, or down since). */
export function storageState(
  groups: readonly GroupRecord[],
  reports: readonly ReportRecord[],
  holders: ReadonlyMap<string, HolderStatus>,
  now: number,
  policy?: HealthPolicy,
): Map<string, ChunkState> {
  const current = currentGroups(groups);
  const byGroup = new Map<string, ReportRecord[]>();
  for (const r of reports) pushTo(byGroup, r.document.group, r);
  const states = new Map<string, ChunkState>();
  for (const [chunk, group] of current) {
    // The newest report per (holder, shard): the highest seq, then the latest issued.
    const newest = new Map<string, ReportRecord>();
    for (const r of byGroup.get(group.id) ?? []) {
      const key = `${r.document.node} ${r.document.shard}`;
      const seen = newest.get(key);
      if (!seen || r.document.seq > seen.document.seq) newest.set(key, r);
    }
    const shards: ReportedShard[] = [...newest.values()].map((r) => ({
      shard: r.document.shard,
      node: r.document.node,
      state: r.document.state,
      at: Date.parse(r.document.issued_at),
    }));
    const health = chunkHealth({ k: kOf(group.document), holders: group.document.holders }, shards, holders, now, policy);
    states.set(chunk, { chunk, group: group.id, document: group.document, health });
  }
  return states;
}

/** Shards needed to rebuild the chunk. */
function kOf(group: ErasureGroup): number {
  return group.scheme.type === 'replication' ? 1 : group.scheme.k;
}
