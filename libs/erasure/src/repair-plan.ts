/**
 * Repair planning: for a scheme and a set of lost shards (and, optionally, shards
 * that exist but cannot be read right now), the cheapest set of shards to read to
 * rebuild the lost ones, counted in shards read.
 *
 * - replication: one surviving copy (the lowest index).
 * - RS and XOR: any k readable shards; we take the k lowest indices, which prefers
 *   data shards (a systematic code then copies instead of decoding) and makes the
 *   plan deterministic. k reads is the minimum for an MDS code.
 * - LRC: when every lost shard is a data shard or local parity whose local group is
 *   missing exactly that one member, read the rest of each such group (k/l shards per
 *   group instead of k). Otherwise decode through the global parities: read every
 *   readable data shard, the local parity of each group with a missing data shard
 *   (one equation each), and as many global parities as equations are still short
 *   (Σ_j max(0, e_j − a_j), see schemes.ts). That is exactly k reads, the least any
 *   plan using a global parity can read: a global parity involves every data shard.
 *
 * A plan rebuilds all lost shards or none: when the readable shards cannot rebuild
 * every lost shard, planRepair throws `repair.unrecoverable` (tryPlanRepair returns
 * undefined), even if some of them could be rebuilt locally.
 */
import { ModelError } from './model-errors.ts';
import { type LrcScheme, type Scheme, decodableMask, lrcGroups, shardCount, shardMask } from './schemes.ts';

export interface RepairPlanOptions {
  /**
   * Shards that still exist but cannot be read now (e.g. on a node that is down);
   * they are neither read nor rebuilt. Default: none.
   */
  readonly unavailable?: Iterable<number>;
}

export interface RepairPlan {
  /**
   * How the lost shards are rebuilt: `none` (nothing lost), `copy` (replication),
   * `local` (LRC local groups only) or `decode` (k shards, through the code).
   */
  readonly method: 'none' | 'copy' | 'local' | 'decode';
  /** The lost shards to rebuild, ascending. */
  readonly rebuild: readonly number[];
  /** The shards to read, ascending; never a lost or unavailable one. Its length is the plan's cost. */
  readonly read: readonly number[];
}

function indicesOf(mask: Uint8Array, value: 0 | 1): number[] {
  const out: number[] = [];
  for (let i = 0; i < mask.length; i += 1) if (mask[i] === value) out.push(i);
  return out;
}

function freeze(method: RepairPlan['method'], rebuild: number[], read: number[]): RepairPlan {
  return Object.freeze({ method, rebuild: Object.freeze(rebuild), read: Object.freeze(read) });
}

/** The plan on masks (1 = lost / missing), unchecked; undefined when not recoverable. */
export function planRepairMasks(scheme: Scheme, lost: Uint8Array, missing: Uint8Array): RepairPlan | undefined {
  const rebuild = indicesOf(lost, 1);
  if (rebuild.length === 0) return freeze('none', [], []);
  const readable = indicesOf(missing, 0);
  switch (scheme.kind) {
    case 'replication':
      return readable.length === 0 ? undefined : freeze('copy', rebuild, [readable[0]!]);
    case 'rs':
    case 'xor':
      return readable.length < scheme.k ? undefined : freeze('decode', rebuild, readable.slice(0, scheme.k));
    case 'lrc':
      return planLrc(scheme, rebuild, missing);
  }
}

function planLrc(scheme: LrcScheme, rebuild: number[], missing: Uint8Array): RepairPlan | undefined {
  const { k, l, r } = scheme;
  const groups = lrcGroups(scheme);
  const missingInGroup = groups.map((g) => g.data.reduce((sum, i) => sum + missing[i]!, 0) + missing[g.localParity]!);
  const groupOfLost = (index: number): number | undefined => {
    if (index >= k + l) return undefined;
    if (index >= k) return index - k;
    return groups.findIndex((g) => g.data.includes(index));
  };
  const local = rebuild.every((index) => {
    const j = groupOfLost(index);
    return j !== undefined && missingInGroup[j] === 1;
  });
  if (local) {
    const read: number[] = [];
    const used = new Set(rebuild.map((index) => groupOfLost(index)!));
    for (const j of [...used].sort((a, b) => a - b)) {
      const g = groups[j]!;
      for (const i of [...g.data, g.localParity]) if (missing[i] === 0) read.push(i);
    }
    return freeze('local', rebuild, read.sort((a, b) => a - b));
  }
  if (!decodableMask(scheme, missing)) return undefined;
  const read: number[] = [];
  let needGlobals = 0;
  for (const g of groups) {
    let erased = 0;
    for (const i of g.data) {
      if (missing[i] === 0) read.push(i);
      else erased += 1;
    }
    const localSurvives = missing[g.localParity] === 0;
    if (erased > 0 && localSurvives) read.push(g.localParity);
    needGlobals += Math.max(0, erased - (localSurvives ? 1 : 0));
  }
  for (let i = k + l; i < k + l + r && needGlobals > 0; i += 1) {
    if (missing[i] === 0) {
      read.push(i);
      needGlobals -= 1;
    }
  }
  return freeze('decode', rebuild, read.sort((a, b) => a - b));
}

function masks(scheme: Scheme, lost: Iterable<number>, options: RepairPlanOptions): { lost: Uint8Array; missing: Uint8Array } {
  const lostMask = shardMask(scheme, lost, 'lost');
  const missing = shardMask(scheme, options.unavailable ?? [], 'unavailable');
  for (let i = 0; i < missing.length; i += 1) missing[i]! |= lostMask[i]!;
  return { lost: lostMask, missing };
}

/**
 * The cheapest read set that rebuilds every shard in `lost`, or undefined when the
 * readable shards cannot. Indices are checked (`shard.out_of_range`); a shard both
 * lost and unavailable counts as lost.
 */
export function tryPlanRepair(scheme: Scheme, lost: Iterable<number>, options: RepairPlanOptions = {}): RepairPlan | undefined {
  const m = masks(scheme, lost, options);
  return planRepairMasks(scheme, m.lost, m.missing);
}

/** As tryPlanRepair, but throws `repair.unrecoverable` instead of returning undefined. */
export function planRepair(scheme: Scheme, lost: Iterable<number>, options: RepairPlanOptions = {}): RepairPlan {
  const m = masks(scheme, lost, options);
  const plan = planRepairMasks(scheme, m.lost, m.missing);
  if (plan === undefined) {
    const n = shardCount(scheme);
    const missing = indicesOf(m.missing, 1);
    throw new ModelError(
      'repair.unrecoverable',
      'lost',
      `the ${n - missing.length} readable shards cannot rebuild [${indicesOf(m.lost, 1).join(', ')}] (missing: [${missing.join(', ')}])`,
    );
  }
  return plan;
}
