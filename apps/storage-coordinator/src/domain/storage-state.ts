/**
 * Every chunk's current erasure group and health, from the log's `erasure_group` and
 * `shard_report` records (the storage projection's state, computed the same way by any
 * node with the same log). Pure, and independent of the order the records came in.
 *
 * - A chunk's groups come from the coordinator that assigned it first (the one with the
 *   lowest `seq` for it; ties broken by record id): another coordinator's assignment of
 *   the same chunk is ignored, as a second creator's claim on a manifest id is. Its
 *   newest `seq` is the current group (a repair publishes the next one).
 * - A shard's state is its holder's newest report about that shard of the chunk, when
 *   the report names the holder and the shard's CID the current group names: a holder
 *   that kept its shard through a repair (which publishes the next group version) need
 *   not report again, and a report from a former holder, or about other bytes, does
 *   not count.
 */
import type { ErasureGroup, ShardReport } from '@dmf/protocol';
import { chunkHealth, type ChunkHealth, type HealthPolicy, type HolderStatus, type ReportedShard } from './chunk-health.ts';
import { regionCapFor } from './storage-nodes.ts';

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
  const byChunk = new Map<string, ReportRecord[]>();
  for (const r of reports) pushTo(byChunk, r.document.chunk, r);
  const states = new Map<string, ChunkState>();
  for (const [chunk, group] of current) states.set(chunk, chunkState(group, byChunk.get(chunk) ?? [], holders, now, policy));
  return states;
}

/**
 * Whether report `a` supersedes `b` (of one node about one shard): the higher seq (a
 * holder's seq only grows); at equal seq (a holder contradicting itself) the one that
 * is not `stored`, then the lower record id. A total order, so the newest does not
 * depend on the order reports arrive in.
 */
export function isNewerReport(a: ReportRecord, b: ReportRecord): boolean {
  if (a.document.seq !== b.document.seq) return a.document.seq > b.document.seq;
  const aBad = a.document.state !== 'stored';
  const bBad = b.document.state !== 'stored';
  if (aBad !== bBad) return aBad;
  return a.id < b.id;
}

/** One chunk's state from its current group and the shard reports about the chunk. */
export function chunkState(
  group: GroupRecord,
  reports: Iterable<ReportRecord>,
  holders: ReadonlyMap<string, HolderStatus>,
  now: number,
  policy?: HealthPolicy,
): ChunkState {
  const { document } = group;
  // The newest report per shard from its current holder about the bytes the group names.
  const newest = new Map<number, ReportRecord>();
  for (const r of reports) {
    const { shard, node, cid } = r.document;
    if (document.holders[shard] !== node || document.shards[shard] !== cid) continue;
    const seen = newest.get(shard);
    if (!seen || isNewerReport(r, seen)) newest.set(shard, r);
  }
  const shards: ReportedShard[] = [...newest.values()].map((r) => ({
    shard: r.document.shard,
    node: r.document.node,
    state: r.document.state,
    seq: r.document.seq,
  }));
  const regionCap = regionCapFor(document.holders.length, holders);
  const health = chunkHealth({ k: kOf(document), holders: document.holders, ...(regionCap === undefined ? {} : { regionCap }) }, shards, holders, now, policy);
  return { chunk: document.chunk, group: group.id, document, health };
}

/** Shards needed to rebuild the chunk. */
export function kOf(group: Pick<ErasureGroup, 'scheme'>): number {
  return group.scheme.type === 'replication' ? 1 : group.scheme.k;
}
