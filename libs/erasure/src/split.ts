/**
 * A byte buffer to and from data shards, laid out as klauspost/reedsolomon's Split and
 * Join lay them out: shard i holds bytes [i·s, (i+1)·s) of the buffer, where
 * s = ceil(length / k), and the bytes past the end are zeros. So with 10 bytes and
 * k = 4, s = 3 and the last shard is one data byte and two zeros; with 5 bytes and
 * k = 4, s = 2 and the last shard is all zeros. The length itself is not stored: the
 * caller keeps it to join.
 */
import { ErasureError } from './errors.ts';
import { checkShardCounts } from './reed-solomon.ts';

/** The shard size splitShards uses: ceil(length / dataShards). */
export function shardSizeFor(length: number, dataShards: number): number {
  if (!Number.isSafeInteger(length) || length < 0) throw new ErasureError('config.out_of_range', 'length', `${String(length)} is not a byte count (an integer ≥ 0)`);
  checkShardCounts(dataShards, 0);
  return Math.ceil(length / dataShards);
}

/**
 * k data shards then m zeroed parity shards (ready for `encode`), each
 * ceil(data.length / k) bytes, as views into one new buffer; `data` is copied, not
 * kept. Empty data gives k + m empty shards (klauspost's Split refuses empty data).
 */
export function splitShards(data: Uint8Array, dataShards: number, parityShards = 0): Uint8Array[] {
  if (!(data instanceof Uint8Array)) throw new ErasureError('shards.not_bytes', 'data', 'data is not a Uint8Array');
  checkShardCounts(dataShards, parityShards);
  const size = Math.ceil(data.length / dataShards);
  const total = dataShards + parityShards;
  const block = new Uint8Array(size * total);
  block.set(data);
  return Array.from({ length: total }, (_, i) => block.subarray(i * size, (i + 1) * size));
}

/**
 * The first `length` bytes of the data shards (the first `dataShards` entries of
 * `shards`) in order: the inverse of splitShards given the original length. Every
 * data shard must be present (reconstruct first); parity entries are ignored.
 */
export function joinShards(shards: readonly (Uint8Array | null | undefined)[], dataShards: number, length: number): Uint8Array {
  checkShardCounts(dataShards, 0);
  if (!Array.isArray(shards) || shards.length < dataShards) {
    const got = Array.isArray(shards) ? `${shards.length} shards` : 'not an array';
    throw new ErasureError('shards.wrong_count', 'shards', `got ${got}; at least the ${dataShards} data shards expected`);
  }
  let size = -1;
  for (let i = 0; i < dataShards; i++) {
    const shard = shards[i];
    if (shard === null || shard === undefined) {
      throw new ErasureError('shards.missing', `shards[${i}]`, `data shard ${i} is ${String(shard)}; reconstruct before joining`);
    }
    if (!(shard instanceof Uint8Array)) throw new ErasureError('shards.not_bytes', `shards[${i}]`, `shard ${i} is not a Uint8Array`);
    if (size < 0) size = shard.length;
    else if (shard.length !== size) {
      throw new ErasureError('shards.size_mismatch', `shards[${i}]`, `shard ${i} has ${shard.length} bytes, shard 0 has ${size}; all shards of a stripe have one length`);
    }
  }
  const capacity = size * dataShards;
  if (!Number.isSafeInteger(length) || length < 0 || length > capacity) {
    throw new ErasureError('join.length_out_of_range', 'length', `${String(length)} is not a byte count from 0 to ${capacity} (${dataShards} data shards of ${size} bytes)`);
  }
  const out = new Uint8Array(length);
  for (let i = 0, at = 0; at < length; i++) {
    const take = Math.min(size, length - at);
    out.set(shards[i]!.subarray(0, take), at);
    at += take;
  }
  return out;
}
