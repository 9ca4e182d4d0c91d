/**
 * XOR parity: k data shards and one parity shard, their byte-wise XOR (RAID-5 style;
 * `xorScheme(k)` in schemes.ts describes its layout and decodability). Any one
 * missing shard is the XOR of the other k; two or more missing cannot be rebuilt.
 */
import { ErasureError } from './errors.ts';
import { type MaybeShardList, checkNoOverlap, checkShardList, sameBytes, xorOf, combineRange } from './codec-shards.ts';
import { MAX_TOTAL_SHARDS } from './reed-solomon.ts';
import { type RepairPlan, type RepairPlanOptions, planRepair } from './repair-plan.ts';
import { type XorScheme, xorScheme } from './schemes.ts';

export interface XorCodec {
  /** The scheme this codec implements: `xorScheme(k)`. */
  readonly scheme: XorScheme;
  /** k. */
  readonly dataShards: number;
  /** k + 1. */
  readonly totalShards: number;
  /** Writes shards[k] = shards[0] ⊕ … ⊕ shards[k−1] in place; all k + 1 present, one length, the parity not sharing bytes with data. */
  encode(shards: readonly Uint8Array[]): void;
  /** Whether shards[k] is the XOR of the data shards. All k + 1 present. */
  verify(shards: readonly Uint8Array[]): boolean;
  /**
   * Rebuilds the missing shard (null or undefined entry), if any, as the XOR of the
   * other k, and puts a new Uint8Array at its index; present shards are untouched.
   * Returns what was done (the repair plan: method `none` or `decode`, the shard
   * rebuilt and the k shards read). Two or more missing: `shards.too_few`, naming
   * them, with the list left as it was.
   */
  reconstruct(shards: MaybeShardList): RepairPlan;
  /** planRepair(xorScheme(k), lost, options): the shards to read to rebuild `lost` (throws ModelError `repair.unrecoverable` when they cannot). */
  repairPlan(lost: Iterable<number>, options?: RepairPlanOptions): RepairPlan;
  /** repairPlan(lost, options).read. */
  repairReads(lost: Iterable<number>, options?: RepairPlanOptions): readonly number[];
}

/** An XOR parity codec for k data shards (an integer, 1 ≤ k ≤ 254). */
export function createXorCodec(dataShards: number): XorCodec {
  if (!Number.isInteger(dataShards) || dataShards < 1 || dataShards > MAX_TOTAL_SHARDS - 1) {
    throw new ErasureError('config.out_of_range', 'dataShards', `${String(dataShards)} is not an integer from 1 to ${MAX_TOTAL_SHARDS - 1}`);
  }
  const k = dataShards;
  const total = k + 1;
  const scheme = xorScheme(k);
  const describe = `XOR(${k}): ${k} data + 1 parity`;
  const ones = [Array.from({ length: k }, () => 1)];

  return {
    scheme,
    dataShards: k,
    totalShards: total,

    encode(shards) {
      const { size } = checkShardList(shards, total, describe, false);
      checkNoOverlap(shards, k);
      combineRange(ones, shards.slice(0, k), [shards[k]!], 0, size);
    },

    verify(shards) {
      const { size } = checkShardList(shards, total, describe, false);
      return sameBytes(xorOf(shards.slice(0, k), size), shards[k]!);
    },

    reconstruct(shards) {
      const { size, missing } = checkShardList(shards, total, describe, true);
      if (missing.length === 0) return planRepair(scheme, []);
      if (missing.length > 1) {
        throw new ErasureError(
          'shards.too_few',
          'shards',
          `shards [${missing.join(', ')}] are missing: ${total - missing.length} of ${total} shards present; XOR(${k}) needs ${k} (it rebuilds one missing shard)`,
        );
      }
      const plan = planRepair(scheme, missing);
      shards[missing[0]!] = xorOf(plan.read.map((i) => shards[i]!), size);
      return plan;
    },

    repairPlan: (lost, options) => planRepair(scheme, lost, options),
    repairReads: (lost, options) => planRepair(scheme, lost, options).read,
  };
}
