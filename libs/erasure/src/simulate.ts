/**
 * A seeded Monte Carlo of chunks under node churn. Pure: no I/O, no clock, no
 * Math.random; the same options give the same result object.
 *
 * Model, per period t = 0 .. periods − 1, in this order:
 * 1. Nodes whose transient outage ends at t come back up. Shards that were repaired
 *    away from such a node while it was down count as wasted repairs.
 * 2. Each node that has not departed draws once: with `permanentFailureRate` it
 *    departs for good (its shards are gone); otherwise, if up, with
 *    `transientFailureRate` it goes down for `transientDurationPeriods`.
 * 3. Each subnet, then each region, fails as a whole with `subnetOutageRate` /
 *    `regionOutageRate`: all its nodes go down for `outageDurationPeriods`, or, with
 *    `outagePermanentProbability`, depart.
 * 4. Every departed node is replaced by a fresh, empty node in the same subnet, and
 *    `joinsPerPeriod` new nodes join (subnets in turn).
 * 5. Every chunk is checked. It is lost when the shards on departed nodes form an
 *    undecodable pattern (ground truth). It is unavailable this period when the shards
 *    on offline nodes do. A shard whose node has been offline for more than
 *    `downToOutPeriods` periods is "out" (the system cannot tell a departure from a
 *    long outage); when the chunk has at most `repairThreshold` shards that are not
 *    out, the out shards are rebuilt at once onto nodes chosen by `placement`,
 *    reading the cheapest set of online shards (planRepair). A repair that cannot be
 *    planned (too few readable shards, or no nodes to place on) waits.
 *
 * Node events and placement draw from two PRNG streams of the seed, so runs with the
 * same seed and network see the same failures whatever their scheme, placement or
 * repair settings (common random numbers: differences between schemes are not noise
 * in the failure trace).
 *
 * Repairs are instantaneous and unlimited in bandwidth; nodes have no capacity
 * limit; every shard of every chunk is the same size (1/k of a chunk, a full chunk
 * for replication). Options, defaults and caps: simulate-options.ts.
 */
import { ModelError } from './model-errors.ts';
import type { PlacementView } from './placement.ts';
import { createPrng } from './prng.ts';
import { planRepairMasks } from './repair-plan.ts';
import { decodableMask, schemeName, storageOverhead } from './schemes.ts';
import { SIMULATION_LIMITS, type SimulationOptions, resolveSimulationOptions } from './simulate-options.ts';

/** Mixed into the seed for the placement stream. */
const PLACEMENT_STREAM = 0x5bd1e995;

export interface SimulationResult {
  readonly seed: number;
  readonly scheme: string;
  readonly shardsPerChunk: number;
  readonly storageOverhead: number;
  readonly periods: number;
  readonly chunks: number;
  /** Chunks whose departed shards made them undecodable. */
  readonly chunksLost: number;
  readonly lostChunkFraction: number;
  /** Period of the first loss, or null. */
  readonly firstLossPeriod: number | null;
  /** Sum over periods of the chunks not decodable from the shards online then. */
  readonly unavailableChunkPeriods: number;
  /** Repair operations performed (one per chunk per period at most). */
  readonly repairs: number;
  /** Repairs due but not possible that period (too few readable shards or no nodes). */
  readonly repairsBlocked: number;
  readonly shardsRead: number;
  readonly shardsWritten: number;
  /** (shardsRead + shardsWritten) / k: repair traffic in chunk-sized units. */
  readonly repairTrafficChunks: number;
  /** Shards rebuilt away from a node that later came back (the rebuild was not needed). */
  readonly wastedRepairs: number;
  readonly events: {
    readonly transientFailures: number;
    readonly permanentFailures: number;
    readonly subnetOutages: number;
    readonly regionOutages: number;
    readonly nodesJoined: number;
  };
  /** Shards per node that has not departed, over the chunks not lost, at the end. */
  readonly placement: {
    readonly nodes: number;
    readonly maxShardsPerNode: number;
    readonly meanShardsPerNode: number;
    /** max / mean (1 is perfectly even). */
    readonly skew: number;
  };
}

/** Runs the simulation described in this file's header. */
export function simulate(options: SimulationOptions): SimulationResult {
  const {
    scheme,
    n,
    k,
    nodes: nodeCount,
    regions,
    subnetsPerRegion,
    chunks,
    periods,
    transientFailureRate: transientRate,
    transientDurationPeriods: transientDuration,
    permanentFailureRate: permanentRate,
    subnetOutageRate: subnetRate,
    regionOutageRate: regionRate,
    outageDurationPeriods: outageDuration,
    outagePermanentProbability: outagePermanent,
    joinsPerPeriod,
    repairThreshold: threshold,
    downToOutPeriods: downToOut,
    placement,
  } = resolveSimulationOptions(options);
  const L = SIMULATION_LIMITS;
  // Two streams: node events draw from one, placement from the other, so runs with the
  // same seed see the same failures whatever their scheme, placement or thresholds.
  const events = createPrng(options.seed);
  const rng = createPrng((options.seed ^ PLACEMENT_STREAM) >>> 0);
  const subnetCount = regions * subnetsPerRegion;

  // Nodes: parallel arrays indexed by node id; a departed node keeps its id (shards
  // still name it) and is replaced by a new id.
  const nodeSubnet: number[] = [];
  const nodeDead: number[] = [];
  const offlineSince: number[] = []; // −1 when up
  const backAt: number[] = []; // period a transient outage ends, −1 when none
  const orphans: number[] = []; // shards repaired away while this node was down
  const regionMembers: number[][] = Array.from({ length: regions }, () => []);
  const subnetMembers: number[][] = Array.from({ length: subnetCount }, () => []);
  const posInRegion: number[] = [];
  const posInSubnet: number[] = [];
  const returns = new Map<number, number[]>();
  const regionOfSubnet = (subnet: number): number => Math.floor(subnet / subnetsPerRegion);

  const addNode = (subnet: number): number => {
    const id = nodeSubnet.length;
    if (id >= L.maxNodeRecords) {
      throw new ModelError('simulation.invalid_option', 'options.permanentFailureRate', `more than ${L.maxNodeRecords} nodes created (departures are replaced)`);
    }
    nodeSubnet.push(subnet);
    nodeDead.push(0);
    offlineSince.push(-1);
    backAt.push(-1);
    orphans.push(0);
    const region = regionMembers[regionOfSubnet(subnet)]!;
    posInRegion.push(region.length);
    region.push(id);
    const sub = subnetMembers[subnet]!;
    posInSubnet.push(sub.length);
    sub.push(id);
    return id;
  };
  const removeFrom = (list: number[], pos: number[], id: number): void => {
    const at = pos[id]!;
    const last = list.pop()!;
    if (last !== id) {
      list[at] = last;
      pos[last] = at;
    }
  };

  let transientFailures = 0;
  let permanentFailures = 0;
  let subnetOutages = 0;
  let regionOutages = 0;
  let nodesJoined = 0;
  const departed: number[] = [];

  const depart = (id: number, t: number): void => {
    if (nodeDead[id] === 1) return;
    nodeDead[id] = 1;
    if (offlineSince[id] === -1) offlineSince[id] = t;
    removeFrom(regionMembers[regionOfSubnet(nodeSubnet[id]!)]!, posInRegion, id);
    removeFrom(subnetMembers[nodeSubnet[id]!]!, posInSubnet, id);
    departed.push(id);
  };
  const goDown = (id: number, t: number, duration: number): void => {
    if (nodeDead[id] === 1) return;
    if (offlineSince[id] === -1) offlineSince[id] = t;
    const until = t + duration;
    if (until > backAt[id]!) {
      backAt[id] = until;
      const list = returns.get(until);
      if (list) list.push(id);
      else returns.set(until, [id]);
    }
  };

  for (let i = 0; i < nodeCount; i += 1) addNode(i % subnetCount);

  const view: PlacementView = {
    regionCount: regions,
    regionNodes: (region) => regionMembers[region]!,
    isUp: (node) => offlineSince[node] === -1,
    regionOf: (node) => regionOfSubnet(nodeSubnet[node]!),
    subnetOf: (node) => nodeSubnet[node]!,
  };

  // Chunks: shard slot s of chunk c lives on node slots[c * n + s].
  const slots = new Int32Array(chunks * n);
  const chunkLost = new Uint8Array(chunks);
  for (let c = 0; c < chunks; c += 1) {
    const chosen = placement(view, { count: n, current: [] }, rng);
    if (chosen.length < n) {
      throw new ModelError('simulation.invalid_option', 'options.nodes', `placement found ${chosen.length} nodes for a chunk of ${n} shards`);
    }
    for (let s = 0; s < n; s += 1) slots[c * n + s] = chosen[s]!;
  }

  let chunksLost = 0;
  let firstLossPeriod: number | null = null;
  let unavailableChunkPeriods = 0;
  let repairs = 0;
  let repairsBlocked = 0;
  let shardsRead = 0;
  let shardsWritten = 0;
  let wastedRepairs = 0;
  let joinCursor = 0;
  const deadMask = new Uint8Array(n);
  const offlineMask = new Uint8Array(n);
  const outMask = new Uint8Array(n);

  for (let t = 0; t < periods; t += 1) {
    // 1. Returns.
    for (const id of returns.get(t) ?? []) {
      if (nodeDead[id] === 1 || backAt[id] !== t) continue;
      offlineSince[id] = -1;
      backAt[id] = -1;
      wastedRepairs += orphans[id]!;
      orphans[id] = 0;
    }
    returns.delete(t);

    // 2. Independent failures, one draw per node not departed, in id order.
    const existing = nodeSubnet.length;
    for (let id = 0; id < existing; id += 1) {
      if (nodeDead[id] === 1) continue;
      const u = events.next();
      if (u < permanentRate) {
        permanentFailures += 1;
        depart(id, t);
      } else if (u < permanentRate + transientRate && offlineSince[id] === -1) {
        transientFailures += 1;
        goDown(id, t, transientDuration);
      }
    }

    // 3. Correlated failures: subnets, then regions.
    const outage = (members: readonly number[]): void => {
      const permanent = events.next() < outagePermanent;
      for (const id of [...members]) {
        if (permanent) depart(id, t);
        else goDown(id, t, outageDuration);
      }
    };
    for (let subnet = 0; subnet < subnetCount; subnet += 1) {
      if (events.next() < subnetRate) {
        subnetOutages += 1;
        outage(subnetMembers[subnet]!);
      }
    }
    for (let region = 0; region < regions; region += 1) {
      if (events.next() < regionRate) {
        regionOutages += 1;
        outage(regionMembers[region]!);
      }
    }

    // 4. Replacements and joins.
    for (const id of departed) {
      addNode(nodeSubnet[id]!);
      nodesJoined += 1;
    }
    departed.length = 0;
    for (let j = 0; j < joinsPerPeriod; j += 1) {
      addNode(joinCursor % subnetCount);
      joinCursor += 1;
      nodesJoined += 1;
    }

    // 5. Chunks.
    for (let c = 0; c < chunks; c += 1) {
      if (chunkLost[c] === 1) continue;
      const base = c * n;
      let offline = 0;
      for (let s = 0; s < n; s += 1) if (offlineSince[slots[base + s]!] !== -1) offline += 1;
      if (offline === 0) continue;
      let dead = 0;
      let out = 0;
      for (let s = 0; s < n; s += 1) {
        const node = slots[base + s]!;
        const since = offlineSince[node]!;
        const isOffline = since !== -1 ? 1 : 0;
        const isDead = nodeDead[node]!;
        const isOut = isOffline === 1 && t - since + 1 > downToOut ? 1 : 0;
        offlineMask[s] = isOffline;
        deadMask[s] = isDead;
        outMask[s] = isOut;
        dead += isDead;
        out += isOut;
      }
      if (dead > 0 && !decodableMask(scheme, deadMask)) {
        chunkLost[c] = 1;
        chunksLost += 1;
        firstLossPeriod ??= t;
        continue;
      }
      if (!decodableMask(scheme, offlineMask)) unavailableChunkPeriods += 1;
      if (out === 0 || n - out > threshold) continue;
      const plan = planRepairMasks(scheme, outMask, offlineMask);
      if (plan === undefined) {
        repairsBlocked += 1;
        continue;
      }
      const current: number[] = [];
      const avoid: number[] = [];
      for (let s = 0; s < n; s += 1) (outMask[s] === 1 ? avoid : current).push(slots[base + s]!);
      const targets = placement(view, { count: plan.rebuild.length, current, avoid }, rng);
      if (targets.length < plan.rebuild.length) {
        repairsBlocked += 1;
        continue;
      }
      repairs += 1;
      shardsRead += plan.read.length;
      shardsWritten += plan.rebuild.length;
      plan.rebuild.forEach((s, i) => {
        const old = slots[base + s]!;
        if (nodeDead[old] === 0) orphans[old]! += 1;
        slots[base + s] = targets[i]!;
      });
    }
  }

  // Placement skew over nodes that have not departed.
  const perNode = new Map<number, number>();
  for (let c = 0; c < chunks; c += 1) {
    if (chunkLost[c] === 1) continue;
    for (let s = 0; s < n; s += 1) {
      const node = slots[c * n + s]!;
      if (nodeDead[node] === 0) perNode.set(node, (perNode.get(node) ?? 0) + 1);
    }
  }
  let liveNodes = 0;
  for (let id = 0; id < nodeSubnet.length; id += 1) if (nodeDead[id] === 0) liveNodes += 1;
  let totalShards = 0;
  let maxShards = 0;
  for (const count of perNode.values()) {
    totalShards += count;
    if (count > maxShards) maxShards = count;
  }
  const mean = liveNodes === 0 ? 0 : totalShards / liveNodes;

  return {
    seed: options.seed,
    scheme: schemeName(scheme),
    shardsPerChunk: n,
    storageOverhead: storageOverhead(scheme),
    periods,
    chunks,
    chunksLost,
    lostChunkFraction: chunks === 0 ? 0 : chunksLost / chunks,
    firstLossPeriod,
    unavailableChunkPeriods,
    repairs,
    repairsBlocked,
    shardsRead,
    shardsWritten,
    repairTrafficChunks: (shardsRead + shardsWritten) / k,
    wastedRepairs,
    events: { transientFailures, permanentFailures, subnetOutages, regionOutages, nodesJoined },
    placement: { nodes: liveNodes, maxShardsPerNode: maxShards, meanShardsPerNode: mean, skew: mean === 0 ? 0 : maxShards / mean },
  };
}
