/**
 * One thread's share of a parallel encode: a block holding byte range [from, to) of
 * every shard (k data ranges, then room for m parity ranges), encoded in place. Stripes
 * are independent byte by byte, so ranges are encoded apart and put back together.
 */
import { createReedSolomon } from './reed-solomon.ts';

export interface RangeJob {
  /** (k + m) × length bytes: the data ranges, then the parity ranges to fill. */
  block: ArrayBuffer;
  k: number;
  m: number;
  length: number;
}

export function encodeRange(job: RangeJob): ArrayBuffer {
  const shards = Array.from({ length: job.k + job.m }, (_, i) => new Uint8Array(job.block, i * job.length, job.length));
  createReedSolomon(job.k, job.m).encode(shards);
  return job.block;
}
