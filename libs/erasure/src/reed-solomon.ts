/**
 * Systematic Reed–Solomon erasure coding over GF(2^8), with the encoding matrix of
 * Backblaze's JavaReedSolomon and klauspost/reedsolomon (their default): the
 * (k+m)×k Vandermonde matrix (entry (r, c) = r^c) times the inverse of its top k×k
 * square. The top k rows are then the identity (data shards are stored as they are)
 * and the bottom m rows compute the parity shards. Any k of the k+m rows form an
 * invertible matrix, so any k shards rebuild the rest.
 */
import { CHUNK_BYTES, checkNoOverlap, checkShardList, combineRange, type MaybeShardList } from './codec-shards.ts';
import { ErasureError } from './errors.ts';
import { type Matrix, invertMatrix, matrixRow, multiplyMatrices, selectRows, subMatrix, vandermondeMatrix } from './matrix.ts';

/**
 * Most shards (data + parity) one stripe can have. The construction allows 256 (one
 * Vandermonde row per field element, and klauspost and Backblaze accept 256); DMF's
 * contract is 255, the usual bound for GF(2^8) codes.
 */
export const MAX_TOTAL_SHARDS = 255;

export interface ReedSolomonOptions {
  /**
   * How many decode matrices (one per set of shards reconstruct decodes from) are
   * kept, least recently used dropped first. An integer ≥ 0; 0 keeps none.
   * Default 64.
   */
  readonly decodeCacheSize?: number;
  /**
   * Use the WebAssembly SIMD kernel where the runtime has it (simd.ts): the same bytes,
   * many times faster. `false` keeps to the TypeScript loop (tests compare the two).
   * Default true.
   */
  readonly simd?: boolean;
}

/** A shard list as reconstruct takes it: null (or undefined) marks a missing shard. */
export type MaybeShards = MaybeShardList;

export interface ReedSolomon {
  /** k: shards that hold the data as it is. */
  readonly dataShards: number;
  /** m: shards computed from the data; any m shards may be lost. */
  readonly parityShards: number;
  /** k + m. */
  readonly totalShards: number;
  /** A copy of the (k+m)×k encoding matrix: the identity on top, the m parity rows below. */
  encodingMatrix(): Matrix;
  /**
   * Computes the parity shards from the data shards, writing them in place:
   * `shards` holds k data shards then m parity shards, all Uint8Arrays of one
   * length (a parity shard's old content is ignored). A parity shard must not share
   * bytes with a data shard.
   */
  encode(shards: readonly Uint8Array[]): void;
  /** Whether the parity shards are those the data shards give. All k+m shards must be present. */
  verify(shards: readonly Uint8Array[]): boolean;
  /**
   * Rebuilds every missing shard (null or undefined entry) from any k present ones
   * and puts a new Uint8Array at its index; present shards are not modified. Throws
   * `shards.too_few` when fewer than k are present.
   */
  reconstruct(shards: MaybeShards): void;
  /** The same for the missing data shards only; missing parity shards stay missing. */
  reconstructData(shards: MaybeShards): void;
}

/**
 * The (totalShards × dataShards) encoding matrix: vandermonde(total, k) times the
 * inverse of its top k×k square (klauspost's buildMatrix, Backblaze's buildMatrix).
 */
export function buildEncodingMatrix(dataShards: number, totalShards: number): Matrix {
  const vm = vandermondeMatrix(totalShards, dataShards);
  const top = subMatrix(vm, 0, 0, dataShards, dataShards);
  return multiplyMatrices(vm, invertMatrix(top));
}

function checkCount(value: number, path: string, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ErasureError('config.out_of_range', path, `${String(value)} is not an integer from ${min} to ${max}`);
  }
}

/** Checks k and m, as createReedSolomon and splitShards take them. */
export function checkShardCounts(dataShards: number, parityShards: number): void {
  checkCount(dataShards, 'dataShards', 1, MAX_TOTAL_SHARDS);
  checkCount(parityShards, 'parityShards', 0, MAX_TOTAL_SHARDS - 1);
  if (dataShards + parityShards > MAX_TOTAL_SHARDS) {
    throw new ErasureError(
      'config.out_of_range',
      'parityShards',
      `${dataShards} data + ${parityShards} parity = ${dataShards + parityShards} shards; at most ${MAX_TOTAL_SHARDS} in all`,
    );
  }
}

/**
 * Writes rows × inputs into outputs, byte range [start, end) of each: output o is the
 * sum over i of rows(o, i) · inputs[i] (the loop the XOR and LRC codecs share).
 */
function codeRange(rows: Matrix, inputs: readonly Uint8Array[], outputs: readonly Uint8Array[], start: number, end: number, simd: boolean): void {
  const coefficients = Array.from({ length: rows.rows }, (_, o) => matrixRow(rows, o));
  combineRange(coefficients, inputs, outputs, start, end, simd);
}

/**
 * A Reed–Solomon codec for k = dataShards and m = parityShards (k ≥ 1, m ≥ 0,
 * k + m ≤ 255) whose shards are byte for byte those of klauspost/reedsolomon's and
 * Backblaze JavaReedSolomon's default codec with the same k and m.
 */
export function createReedSolomon(dataShards: number, parityShards: number, options: ReedSolomonOptions = {}): ReedSolomon {
  checkShardCounts(dataShards, parityShards);
  const decodeCacheSize = options.decodeCacheSize ?? 64;
  const simd = options.simd ?? true;
  checkCount(decodeCacheSize, 'options.decodeCacheSize', 0, Number.MAX_SAFE_INTEGER);

  const k = dataShards;
  const total = dataShards + parityShards;
  const matrix = buildEncodingMatrix(k, total);
  const parityRows = subMatrix(matrix, k, 0, total, k);
  /** Inverse of the rows of the shards decoded from, keyed by their indexes; Map order is recency. */
  const decodeCache = new Map<string, Matrix>();

  const describe = `${k} data + ${parityShards} parity`;

  /** Validates the list; returns the common shard length (0 when every entry is missing) and how many are present. */
  function checkShards(shards: readonly (Uint8Array | null | undefined)[], allowMissing: boolean): { size: number; present: number } {
    const { size, missing } = checkShardList(shards, total, describe, allowMissing);
    return { size, present: total - missing.length };
  }

  function decodeMatrix(from: readonly number[]): Matrix {
    const key = from.join(',');
    const cached = decodeCache.get(key);
    if (cached) {
      decodeCache.delete(key);
      decodeCache.set(key, cached);
      return cached;
    }
    // Any k rows of the encoding matrix are invertible (that is what the construction buys).
    const inverse = invertMatrix(selectRows(matrix, from));
    if (decodeCacheSize > 0) {
      decodeCache.set(key, inverse);
      if (decodeCache.size > decodeCacheSize) decodeCache.delete(decodeCache.keys().next().value!);
    }
    return inverse;
  }

  function rebuild(shards: MaybeShards, dataOnly: boolean): void {
    const { size, present } = checkShards(shards, true);
    if (present === total) return;
    if (present < k) {
      throw new ErasureError('shards.too_few', 'shards', `${present} of ${total} data+parity shards present; ${k} needed`);
    }
    const missingData: number[] = [];
    for (let i = 0; i < k; i++) if (shards[i] == null) missingData.push(i);
    if (missingData.length > 0) {
      const from: number[] = [];
      for (let i = 0; i < total && from.length < k; i++) if (shards[i] != null) from.push(i);
      const inputs = from.map((i) => shards[i]!);
      const outputs = missingData.map(() => new Uint8Array(size));
      codeRange(selectRows(decodeMatrix(from), missingData), inputs, outputs, 0, size, simd);
      missingData.forEach((index, o) => {
        shards[index] = outputs[o]!;
      });
    }
    if (dataOnly) return;
    const missingParity: number[] = [];
    for (let i = k; i < total; i++) if (shards[i] == null) missingParity.push(i - k);
    if (missingParity.length === 0) return;
    const outputs = missingParity.map(() => new Uint8Array(size));
    codeRange(selectRows(parityRows, missingParity), shards.slice(0, k) as Uint8Array[], outputs, 0, size, simd);
    missingParity.forEach((p, o) => {
      shards[k + p] = outputs[o]!;
    });
  }

  return {
    dataShards: k,
    parityShards,
    totalShards: total,

    encodingMatrix: () => ({ rows: matrix.rows, cols: matrix.cols, data: matrix.data.slice() }),

    encode(shards) {
      const { size } = checkShards(shards, false);
      if (parityShards === 0) return;
      checkNoOverlap(shards, k);
      codeRange(parityRows, shards.slice(0, k), shards.slice(k), 0, size, simd);
    },

    verify(shards) {
      const { size } = checkShards(shards, false);
      if (parityShards === 0) return true;
      const scratch = Array.from({ length: parityShards }, () => new Uint8Array(Math.min(size, CHUNK_BYTES)));
      for (let start = 0; start < size; start += CHUNK_BYTES) {
        const end = Math.min(size, start + CHUNK_BYTES);
        const inputs = shards.slice(0, k).map((s) => s.subarray(start, end));
        const outputs = scratch.map((s) => s.subarray(0, end - start));
        codeRange(parityRows, inputs, outputs, 0, end - start, simd);
        for (let j = 0; j < parityShards; j++) {
          const stored = shards[k + j]!;
          const computed = outputs[j]!;
          for (let b = 0; b < computed.length; b++) if (computed[b] !== stored[start + b]) return false;
        }
      }
      return true;
    },

    reconstruct: (shards) => rebuild(shards, false),
    reconstructData: (shards) => rebuild(shards, true),
  };
}
