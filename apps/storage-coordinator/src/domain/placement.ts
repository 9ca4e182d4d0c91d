/**
 * Shard placement (spec 7.2): which nodes hold the shards of one erasure group.
 * Deterministic for the same inputs (rendezvous hashing, weighted), so any node can
 * recompute an assignment it is shown and check it. Pure.
 *
 * - Each candidate gets a score per chunk: weighted rendezvous ("highest random
 *   weight", Thaler and Ravishankar 1996; the weighted form -w / ln(u) of Schindelhauer
 *   and Schomaker), where u is uniform in (0, 1) from SHA-256(chunk ‖ node) and the
 *   weight w grows with free capacity and uptime. Adding or removing one node moves
 *   only the shards that node would take or held.
 * - Diversity: each shard goes to a region holding the fewest shards of the group so
 *   far (so no two share a region while a region without one remains), and within
 *   those, to a subnet holding none when there is one; then by score.
 * - Nodes below the uptime floor, or without room for a shard, are not candidates.
 */
import { createHash } from 'node:crypto';

export interface StorageNode {
  nodeId: string;
  region: string;
  /** A network group (e.g. the /24 or /48 the node serves from, hashed): shards clumped in one count as one. */
  subnet: string;
  /** Bytes it can still take. */
  freeBytes: number;
  /** Observed uptime, parts per million (from attestations; reputation). */
  uptimePpm: number;
}

export interface PlacementRequest {
  /** The chunk's CID (names the group in the hash). */
  chunk: string;
  /** Shards to place (k + m, or the replica count). */
  shards: number;
  /** Bytes of one shard. */
  shardBytes: number;
  /**
   * Where the group's other shards already are (a repair places only the lost ones):
   * they count when regions and subnets are spread. Default none.
   */
  taken?: readonly { region: string; subnet: string }[];
}

export interface PlacementPolicy {
  /** Nodes below this uptime are not candidates. Default 900,000 ppm. */
  minUptimePpm: number;
}

export const DEFAULT_PLACEMENT_POLICY: Readonly<PlacementPolicy> = Object.freeze({ minUptimePpm: 900_000 });

export class PlacementError extends Error {
  constructor(
    readonly code: 'placement.too_few_nodes' | 'placement.invalid',
    message: string,
  ) {
    super(`${code}: ${message}`);
    this.name = 'PlacementError';
  }
}

/** u in (0, 1) from the first 53 bits of SHA-256(chunk ‖ 0x00 ‖ node). */
export function rendezvousUniform(chunk: string, nodeId: string): number {
  const digest = createHash('sha256').update(chunk).update('\0').update(nodeId).digest();
  const high = digest.readUInt32BE(0) >>> 11; // 21 bits
  const low = digest.readUInt32BE(4); // 32 bits
  // (x + 0.5) / 2^53: never exactly 0 or 1.
  return (high * 2 ** 32 + low + 0.5) / 2 ** 53;
}

/** A node's weight: free capacity (in GiB, so weights stay in a sane range) times uptime share. */
export function nodeWeight(node: StorageNode): number {
  return (node.freeBytes / 2 ** 30) * (node.uptimePpm / 1_000_000);
}

/** The weighted rendezvous score; the higher, the earlier the node is chosen. */
export function rendezvousScore(chunk: string, node: StorageNode): number {
  return -nodeWeight(node) / Math.log(rendezvousUniform(chunk, node.nodeId));
}

/**
 * The holders of a group's shards, shard 0 first. Throws PlacementError when fewer
 * candidates than shards exist (each shard needs its own node).
 */
export function placeShards(request: PlacementRequest, nodes: readonly StorageNode[], policy: PlacementPolicy = DEFAULT_PLACEMENT_POLICY): StorageNode[] {
  if (!Number.isSafeInteger(request.shards) || request.shards < 1) throw new PlacementError('placement.invalid', `shards: ${request.shards} must be a positive integer`);
  if (!Number.isSafeInteger(request.shardBytes) || request.shardBytes < 0) throw new PlacementError('placement.invalid', `shardBytes: ${request.shardBytes} must be a non-negative integer`);
  const seen = new Set<string>();
  const candidates = nodes
    .filter((n) => {
      if (seen.has(n.nodeId)) return false;
      seen.add(n.nodeId);
      return n.uptimePpm >= policy.minUptimePpm && n.freeBytes >= request.shardBytes && n.freeBytes > 0;
    })
    .map((node) => ({ node, score: rendezvousScore(request.chunk, node) }))
    // Ties (equal weight and hash: practically never) broken by node id, so every node agrees.
    .sort((a, b) => b.score - a.score || (a.node.nodeId < b.node.nodeId ? -1 : 1));
  if (candidates.length < request.shards) {
    throw new PlacementError('placement.too_few_nodes', `${request.shards} shards need ${request.shards} eligible nodes; ${candidates.length} are eligible (uptime >= ${policy.minUptimePpm} ppm, ${request.shardBytes} bytes free)`);
  }
  const regions = new Set(candidates.map((c) => c.node.region));
  const chosen: StorageNode[] = [];
  const regionUse = new Map<string, number>();
  const subnetUse = new Map<string, number>();
  for (const { region, subnet } of request.taken ?? []) {
    regionUse.set(region, (regionUse.get(region) ?? 0) + 1);
    subnetUse.set(subnet, (subnetUse.get(subnet) ?? 0) + 1);
  }
  const remaining = [...candidates];
  while (chosen.length < request.shards) {
    // Fewest shards in its region first, then in its subnet, then the best score.
    const regionFloor = Math.min(...[...regions].map((r) => regionUse.get(r) ?? 0));
    let pick = remaining.findIndex((c) => (regionUse.get(c.node.region) ?? 0) === regionFloor && (subnetUse.get(c.node.subnet) ?? 0) === 0);
    if (pick < 0) pick = remaining.findIndex((c) => (regionUse.get(c.node.region) ?? 0) === regionFloor);
    if (pick < 0) pick = 0;
    const taken = remaining.splice(pick, 1)[0] as { node: StorageNode };
    chosen.push(taken.node);
    regionUse.set(taken.node.region, (regionUse.get(taken.node.region) ?? 0) + 1);
    subnetUse.set(taken.node.subnet, (subnetUse.get(taken.node.subnet) ?? 0) + 1);
    // A region with no candidates left cannot take more: drop it from the floor.
    if (!remaining.some((c) => c.node.region === taken.node.region)) regions.delete(taken.node.region);
  }
  return chosen;
}
