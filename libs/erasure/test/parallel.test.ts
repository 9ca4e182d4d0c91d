import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createReedSolomon, encodeParallel, PARALLEL_THRESHOLD_BYTES, splitShards } from '../src/mod.ts';

describe('encodeParallel', () => {
  it('gives on several threads the shards one thread gives, for a large buffer', async () => {
    const data = randomBytes(PARALLEL_THRESHOLD_BYTES + 1_000_003);
    const parallel = await encodeParallel(data, 10, 4, { threads: 2 });
    const single = splitShards(data, 10, 4);
    createReedSolomon(10, 4).encode(single);
    expect(parallel).toHaveLength(14);
    for (let i = 0; i < 14; i++) expect(Buffer.from(parallel[i] as Uint8Array).equals(Buffer.from(single[i] as Uint8Array))).toBe(true);
    // And they decode: any 10 rebuild the data.
    const damaged: (Uint8Array | null)[] = parallel.map((s, i) => (i < 4 ? null : s));
    createReedSolomon(10, 4).reconstruct(damaged);
    expect(Buffer.from(damaged[0] as Uint8Array).equals(Buffer.from(single[0] as Uint8Array))).toBe(true);
  }, 60_000);

  it('encodes small buffers on the caller\'s thread, and refuses a thread count that makes no sense', async () => {
    const small = await encodeParallel(Uint8Array.of(1, 2, 3, 4, 5), 2, 1);
    const expected = splitShards(Uint8Array.of(1, 2, 3, 4, 5), 2, 1);
    createReedSolomon(2, 1).encode(expected);
    expect(small.map((s) => [...s])).toEqual(expected.map((s) => [...s]));
    await expect(encodeParallel(Uint8Array.of(1), 1, 1, { threads: 0 })).rejects.toThrow(/options\.threads/);
  });
});
