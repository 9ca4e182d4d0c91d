/**
 * Azure-style locally repairable code LRC(k, l, r) over GF(2^8), with the shard layout
 * of schemes.ts: data 0..k−1 in l contiguous local groups (larger groups first),
 * group j's local parity at k + j (the XOR of its data shards), global parities at
 * k + l..k + l + r − 1 (g = Σ_i A[g][i] · d_i, with A from lrc-coefficients.ts, chosen
 * so the code is maximally recoverable: every pattern `isRecoverable` accepts
 * decodes).
 *
 * Reconstruct follows `planRepair` exactly and reads only the shards in its plan:
 * - `local`: every lost shard is the only one missing from its group, so it is the
 *   XOR of the rest of the group (data and local parity);
 * - `decode`: the e missing data shards are the unknowns of the e equations given by
 *   the plan's parity shards (each group's surviving local parity if the group misses
 *   data, then the first surviving global parities); the known data are moved to the
 *   right-hand side and the e × e system is solved by inverting it (matrix.ts, cached
 *   per pattern). Missing parities are then recomputed from the data.
 */
import { type MaybeShardList, checkNoOverlap, checkShardList, combineRange, sameBytes, xorOf } from './codec-shards.ts';
import { ErasureError } from './errors.ts';
import { mulAddRange } from './gf256.ts';
import { lrcGlobalCoefficients } from './lrc-coefficients.ts';
import { type Matrix, invertMatrix, matrixFromRows, matrixRow } from './matrix.ts';
import { MAX_TOTAL_SHARDS } from './reed-solomon.ts';
import { type RepairPlan, type RepairPlanOptions, planRepair, planRepairMasks } from './repair-plan.ts';
import { type LrcGroup, type LrcScheme, decodableMask, lrcGroups, lrcScheme } from './schemes.ts';

export interface LrcCodecOptions {
  /** Decode matrices kept (one per missing-shard pattern that needs global parities), LRU; an integer ≥ 0, default 64. */
  readonly decodeCacheSize?: number;
}

export interface LrcCodec {
  /** `lrcScheme(k, l, r)`. */
  readonly scheme: LrcScheme;
  /** k. */
  readonly dataShards: number;
  /** l: one XOR parity per local group. */
  readonly localParityShards: number;
  /** r. */
  readonly globalParityShards: number;
  /** k + l + r. */
  readonly totalShards: number;
  /** The local groups: data shard indices and the local parity's index. */
  readonly groups: readonly LrcGroup[];
  /** A copy of the r × k global coefficient matrix A: global parity k + l + g = Σ_i A[g][i] · d_i. */
  globalCoefficients(): Matrix;
  /** A copy of the (k + l + r) × k generator matrix: identity, the groups' 0/1 rows, then A. */
  generatorMatrix(): Matrix;
  /** Writes the l + r parity shards in place from the k data shards; all present, one length, parity not sharing bytes with data. */
  encode(shards: readonly Uint8Array[]): void;
  /** Whether every parity shard is the data's. All k + l + r shards must be present. */
  verify(shards: readonly Uint8Array[]): boolean;
  /**
   * Rebuilds every missing shard (null or undefined entry), putting a new Uint8Array
   * at its index; present shards are not modified. Returns the plan it followed
   * (`planRepair(scheme, missing)`): the shards in `read` are the only ones whose bytes
   * it used. Throws `shards.too_few` when fewer than k shards are present and
   * `shards.unrecoverable` when k or more are but the pattern is not recoverable (both
   * name the missing shards); the list is then left as it was.
   */
  reconstruct(shards: MaybeShardList): RepairPlan;
  /** `isRecoverable(scheme, missing)`: whether reconstruct succeeds with these shards missing. */
  isRecoverable(missing: Iterable<number>): boolean;
  /** `planRepair(scheme, lost, options)` (throws ModelError `repair.unrecoverable` or `shard.out_of_range`). */
  repairPlan(lost: Iterable<number>, options?: RepairPlanOptions): RepairPlan;
  /** `repairPlan(lost, options).read`: the shards a repair of `lost` reads. */
  repairReads(lost: Iterable<number>, options?: RepairPlanOptions): readonly number[];
}

function checkInteger(value: number, path: string, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ErasureError('config.out_of_range', path, `${String(value)} is not an integer from ${min} to ${max}`);
  }
}

/**
 * An LRC codec: k ≥ 1 data shards in 1 ≤ l ≤ k local groups with one XOR parity each,
 * r ≥ 0 global parities, k + l + r ≤ 255. Throws `config.out_of_range`, or
 * `config.not_maximally_recoverable` when no MR global coefficients are found for the
 * shape (lrc-coefficients.ts).
 */
export function createLrcCodec(dataShards: number, localGroups: number, globalParities: number, options: LrcCodecOptions = {}): LrcCodec {
  checkInteger(dataShards, 'dataShards', 1, MAX_TOTAL_SHARDS - 1);
  checkInteger(localGroups, 'localGroups', 1, dataShards);
  checkInteger(globalParities, 'globalParities', 0, MAX_TOTAL_SHARDS);
  if (dataShards + localGroups + globalParities > MAX_TOTAL_SHARDS) {
    throw new ErasureError(
      'config.out_of_range',
      'globalParities',
      `${dataShards} data + ${localGroups} local + ${globalParities} global = ${dataShards + localGroups + globalParities} shards; at most ${MAX_TOTAL_SHARDS} in all`,
    );
  }
  const decodeCacheSize = options.decodeCacheSize ?? 64;
  checkInteger(decodeCacheSize, 'options.decodeCacheSize', 0, Number.MAX_SAFE_INTEGER);

  const k = dataShards;
  const l = localGroups;
  const r = globalParities;
  const total = k + l + r;
  const scheme = lrcScheme(k, l, r);
  const groups = lrcGroups(scheme);
  const name = `LRC(${k},${l},${r})`;
  const describe = `${name}: ${k} data + ${l} local + ${r} global parity`;
  const a = lrcGlobalCoefficients(
    k,
    groups.map((g) => g.data),
    r,
  );
  const groupOf = new Int32Array(k);
  groups.forEach((g, j) => g.data.forEach((i) => (groupOf[i] = j)));

  /** Generator row of shard s (k bytes). */
  const generator: Uint8Array[] = [];
  for (let s = 0; s < total; s++) {
    const row = new Uint8Array(k);
    if (s < k) row[s] = 1;
    else if (s < k + l) for (const i of groups[s - k]!.data) row[i] = 1;
    else row.set(a.subarray((s - k - l) * k, (s - k - l + 1) * k));
    generator.push(row);
  }
  const parityRows = generator.slice(k);

  const decodeCache = new Map<string, Matrix>();
  function decodeMatrix(key: string, build: () => Matrix): Matrix {
    const cached = decodeCache.get(key);
    if (cached) {
      decodeCache.delete(key);
      decodeCache.set(key, cached);
      return cached;
    }
    const inverse = invertMatrix(build());
    if (decodeCacheSize > 0) {
      decodeCache.set(key, inverse);
      if (decodeCache.size > decodeCacheSize) decodeCache.delete(decodeCache.keys().next().value!);
    }
    return inverse;
  }

  function refuse(missing: readonly number[], mask: Uint8Array): never {
    const present = total - missing.length;
    const shortBy: string[] = [];
    let surviving = 0;
    for (let g = k + l; g < total; g++) if (mask[g] === 0) surviving++;
    let need = 0;
    groups.forEach((g, j) => {
      const erased = g.data.filter((i) => mask[i] === 1).length;
      const localSurvives = mask[g.localParity] === 0 ? 1 : 0;
      if (erased > localSurvives) {
        need += erased - localSurvives;
        shortBy.push(`group ${j} misses ${erased} data shard${erased === 1 ? '' : 's'} with its local parity ${localSurvives ? 'present' : 'missing'}`);
      }
    });
    const why = `${shortBy.join(', ')}: ${need} global parit${need === 1 ? 'y' : 'ies'} needed, ${surviving} present`;
    if (present < k) {
      throw new ErasureError('shards.too_few', 'shards', `shards [${missing.join(', ')}] are missing: ${present} of ${total} shards present; ${name} needs at least ${k} (${why})`);
    }
    throw new ErasureError('shards.unrecoverable', 'shards', `shards [${missing.join(', ')}] are missing and ${name} cannot rebuild them: ${why}`);
  }

  return {
    scheme,
    dataShards: k,
    localParityShards: l,
    globalParityShards: r,
    totalShards: total,
    groups,

    globalCoefficients: () => ({ rows: r, cols: k, data: a.slice() }),
    generatorMatrix: () => matrixFromRows(generator),

    encode(shards) {
      const { size } = checkShardList(shards, total, describe, false);
      checkNoOverlap(shards, k);
      combineRange(parityRows, shards.slice(0, k), shards.slice(k), 0, size);
    },

    verify(shards) {
      const { size } = checkShardList(shards, total, describe, false);
      const computed = parityRows.map(() => new Uint8Array(size));
      combineRange(parityRows, shards.slice(0, k), computed, 0, size);
      return computed.every((c, j) => sameBytes(c, shards[k + j]!));
    },

    reconstruct(shards) {
      const { size, missing } = checkShardList(shards, total, describe, true);
      const mask = new Uint8Array(total);
      for (const i of missing) mask[i] = 1;
      if (missing.length > 0 && !decodableMask(scheme, mask)) refuse(missing, mask);
      const plan = planRepairMasks(scheme, mask, mask)!;
      if (plan.method === 'none') return plan;
      const rebuilt = new Map<number, Uint8Array>();
      const shard = (i: number): Uint8Array => rebuilt.get(i) ?? shards[i]!;

      if (plan.method === 'local') {
        for (const lost of plan.rebuild) {
          const g = groups[lost < k ? groupOf[lost]! : lost - k]!;
          const inputs = [...g.data, g.localParity].filter((i) => i !== lost).map((i) => shards[i]!);
          rebuilt.set(lost, xorOf(inputs, size));
        }
      } else {
        const missingData = plan.rebuild.filter((i) => i < k);
        if (missingData.length > 0) {
          const equations = plan.read.filter((i) => i >= k);
          // Right-hand sides: each equation's parity minus its known data terms.
          const rhs = equations.map((s) => {
            const out = shard(s).slice();
            const row = generator[s]!;
            for (let i = 0; i < k; i++) if (mask[i] === 0 && row[i] !== 0) mulAddRange(row[i]!, shards[i]!, out, 0, size);
            return out;
          });
          const inverse = decodeMatrix(missing.join(','), () => matrixFromRows(equations.map((s) => missingData.map((i) => generator[s]![i]!))));
          const outputs = missingData.map(() => new Uint8Array(size));
          combineRange(
            missingData.map((_, o) => matrixRow(inverse, o)),
            rhs,
            outputs,
            0,
            size,
          );
          missingData.forEach((i, o) => rebuilt.set(i, outputs[o]!));
        }
        const data = Array.from({ length: k }, (_, i) => shard(i));
        for (const s of plan.rebuild) {
          if (s < k) continue;
          const out = new Uint8Array(size);
          combineRange([generator[s]!], data, [out], 0, size);
          rebuilt.set(s, out);
        }
      }
      for (const [i, bytes] of rebuilt) shards[i] = bytes;
      return plan;
    },

    isRecoverable(missing) {
      const mask = new Uint8Array(total);
      for (const i of missing) {
        checkInteger(i, 'missing', 0, total - 1);
        mask[i] = 1;
      }
      return decodableMask(scheme, mask);
    },
    repairPlan: (lost, opts) => planRepair(scheme, lost, opts),
    repairReads: (lost, opts) => planRepair(scheme, lost, opts).read,
  };
}
