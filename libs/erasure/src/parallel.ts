/**
 * Reed–Solomon encoding of a large buffer on several cores (issue: "large files use
 * more than one core"). The shards' byte range is cut into one part per thread; each
 * part (k data ranges, room for m parity ranges) is moved to a worker thread (piscina,
 * as the verification pool), encoded there with the SIMD kernel, and moved back, with
 * no copy either way; the parts are then laid into the shards. Small inputs are encoded
 * on the caller's thread.
 *
 * Why not one SharedArrayBuffer for all threads: copying out of shared memory into the
 * kernel's memory runs at half the speed of plain memory in V8 (measured: 66 against 31
 * ms for RS(10,4) of 134 MB on one thread), which ate the second core's gain.
 */
import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import { ErasureError } from './errors.ts';
import { checkShardCounts, createReedSolomon } from './reed-solomon.ts';
import { shardSizeFor, splitShards } from './split.ts';

const WORKER = new URL('./parallel-worker.mjs', import.meta.url).href;

/** Below this many bytes of data, one thread. */
export const PARALLEL_THRESHOLD_BYTES = 8 * 1024 * 1024;

export interface ParallelOptions {
  /**
   * Threads; 1 encodes on the caller's thread. Default: one per core, at most 8, on
   * machines with 4 cores or more, else 1: on 2 cores the copies in and out of the
   * threads cost more than the second core gives (docs/benchmarks.md: 823 against
   * 1,323 MB/s for RS(10,4) of 134 MB).
   */
  threads?: number;
}

/** The pool, kept between calls (a thread's start-up costs more than a large encode); its threads leave when idle. */
let pool: { threads: number; piscina: Piscina } | undefined;

function poolOf(threads: number): Piscina {
  if (!pool || pool.threads !== threads) {
    void pool?.piscina.destroy();
    // Idle threads end after a second, so a process that is done can exit.
    pool = { threads, piscina: new Piscina({ filename: WORKER, minThreads: 0, maxThreads: threads, idleTimeout: 1000 }) };
  }
  return pool.piscina;
}

/**
 * Splits `data` into k data shards (the last zero-padded, as splitShards) and m parity
 * shards, and encodes them, on several threads when the data is large.
 */
export async function encodeParallel(data: Uint8Array, k: number, m: number, options: ParallelOptions = {}): Promise<Uint8Array[]> {
  checkShardCounts(k, m);
  const cores = availableParallelism();
  const threads = options.threads ?? (cores >= 4 ? Math.min(8, cores) : 1);
  if (!Number.isSafeInteger(threads) || threads < 1) throw new ErasureError('config.out_of_range', 'options.threads', `must be a whole number >= 1, got ${String(threads)}`);
  const shards = splitShards(data, k, m);
  if (threads === 1 || data.length < PARALLEL_THRESHOLD_BYTES || m === 0) {
    createReedSolomon(k, m).encode(shards);
    return shards;
  }
  const shardBytes = shardSizeFor(data.length, k);
  // Parts on 64-byte boundaries, so each thread's SIMD loop runs whole steps.
  const step = Math.ceil(shardBytes / threads / 64) * 64;
  const piscina = poolOf(threads);
  const parts: Promise<void>[] = [];
  for (let from = 0; from < shardBytes; from += step) {
    const length = Math.min(step, shardBytes - from);
    const block = new ArrayBuffer((k + m) * length);
    const view = new Uint8Array(block);
    for (let i = 0; i < k; i++) view.set((shards[i] as Uint8Array).subarray(from, from + length), i * length);
    parts.push(
      piscina.run({ block, k, m, length }, { transferList: [block] }).then((done: ArrayBuffer) => {
        const encoded = new Uint8Array(done);
        for (let j = 0; j < m; j++) (shards[k + j] as Uint8Array).set(encoded.subarray((k + j) * length, (k + j + 1) * length), from);
      }),
    );
  }
  await Promise.all(parts);
  return shards;
}
