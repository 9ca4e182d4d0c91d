/** Shard-list checks and the chunked byte loop every codec shares (Reed–Solomon, XOR, LRC). */
import { ErasureError } from './errors.ts';
import { mulAddRange, mulRange } from './gf256.ts';
import { simdCombineRange } from './simd.ts';

/** Bytes of each shard coded per pass, so a pass's inputs and outputs stay in cache. */
export const CHUNK_BYTES = 16 * 1024;

/** A shard list as reconstruct takes it: null (or undefined) marks a missing shard. */
export type MaybeShardList = (Uint8Array | null | undefined)[];

/**
 * Validates a shard list of `total` entries; returns the common length (0 when every
 * entry is missing) and the indices of the missing entries. `describe` names the code
 * in messages, e.g. `LRC(12,2,2)`.
 */
export function checkShardList(
  shards: readonly (Uint8Array | null | undefined)[],
  total: number,
  describe: string,
  allowMissing: boolean,
): { size: number; missing: number[] } {
  if (!Array.isArray(shards) || shards.length !== total) {
    const got = Array.isArray(shards) ? `${shards.length} shards` : 'not an array';
    throw new ErasureError('shards.wrong_count', 'shards', `got ${got}; ${total} expected (${describe})`);
  }
  let size = -1;
  let sizeFrom = -1;
  const missing: number[] = [];
  for (let i = 0; i < total; i++) {
    const shard = shards[i];
    if (shard === null || shard === undefined) {
      if (!allowMissing) throw new ErasureError('shards.missing', `shards[${i}]`, `shard ${i} is ${String(shard)}; every shard must be present here`);
      missing.push(i);
      continue;
    }
    if (!(shard instanceof Uint8Array)) {
      throw new ErasureError('shards.not_bytes', `shards[${i}]`, `shard ${i} is not a Uint8Array${allowMissing ? ', null or undefined' : ''}`);
    }
    if (size < 0) {
      size = shard.length;
      sizeFrom = i;
    } else if (shard.length !== size) {
      throw new ErasureError(
        'shards.size_mismatch',
        `shards[${i}]`,
        `shard ${i} has ${shard.length} bytes, shard ${sizeFrom} has ${size}; all shards of a stripe have one length`,
      );
    }
  }
  return { size: Math.max(size, 0), missing };
}

function overlaps(a: Uint8Array, b: Uint8Array): boolean {
  if (a.buffer !== b.buffer || a.length === 0 || b.length === 0) return false;
  return a.byteOffset < b.byteOffset + b.length && b.byteOffset < a.byteOffset + a.length;
}

/** Throws `shards.overlap` when a parity shard (index ≥ k) shares bytes with a data shard. */
export function checkNoOverlap(shards: readonly Uint8Array[], k: number): void {
  for (let j = k; j < shards.length; j++) {
    for (let i = 0; i < k; i++) {
      if (overlaps(shards[j]!, shards[i]!)) {
        throw new ErasureError('shards.overlap', `shards[${j}]`, `parity shard ${j} shares bytes with data shard ${i}; parity is written in place`);
      }
    }
  }
}

/**
 * One linear combination per output over byte range [start, end):
 * outputs[o] = Σ_i coefficients[o][i] · inputs[i]. Outputs must not share bytes with
 * inputs; an output with no inputs is zeroed.
 */
export function combineRange(
  coefficients: readonly (readonly number[] | Uint8Array)[],
  inputs: readonly Uint8Array[],
  outputs: readonly Uint8Array[],
  start: number,
  end: number,
  simd = true,
): void {
  // WebAssembly SIMD for all but a tail under 16 bytes, where it runs (simd.ts).
  if (simd && inputs.length > 0) start = simdCombineRange(coefficients, inputs, outputs, start, end);
  for (let chunk = start; chunk < end; chunk += CHUNK_BYTES) {
    const chunkEnd = Math.min(end, chunk + CHUNK_BYTES);
    for (let o = 0; o < outputs.length; o++) {
      const out = outputs[o]!;
      const row = coefficients[o]!;
      if (inputs.length === 0) {
        out.fill(0, chunk, chunkEnd);
        continue;
      }
      mulRange(row[0]!, inputs[0]!, out, chunk, chunkEnd);
      for (let i = 1; i < inputs.length; i++) mulAddRange(row[i]!, inputs[i]!, out, chunk, chunkEnd);
    }
  }
}

/** XOR of `inputs` into a new array of `size` bytes (zeros when there are none). */
export function xorOf(inputs: readonly Uint8Array[], size: number): Uint8Array {
  const out = new Uint8Array(size);
  combineRange([inputs.map(() => 1)], inputs, [out], 0, size);
  return out;
}

/** Whether two byte arrays are equal. */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
