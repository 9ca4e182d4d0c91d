/**
 * The XOR parity codec: parity is the XOR of the data, any one missing shard comes
 * back, two or more are refused with the missing shards named, and repair reads agree
 * with planRepair.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ErasureError, createXorCodec, planRepair, xorScheme } from '../src/mod.ts';

function stripe(k: number, size: number, seed: number): Uint8Array[] {
  let x = seed >>> 0 || 1;
  const next = (): number => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) & 0xff;
  };
  return Array.from({ length: k + 1 }, (_, i) => (i < k ? Uint8Array.from({ length: size }, next) : new Uint8Array(size)));
}

describe('XOR codec', () => {
  it('parity is the byte-wise XOR of the data shards; k = 1 is a copy', () => {
    const codec = createXorCodec(3);
    const shards = [Uint8Array.of(1, 2, 255), Uint8Array.of(4, 8, 15), Uint8Array.of(16, 32, 1), new Uint8Array(3).fill(9)];
    codec.encode(shards);
    expect(Array.from(shards[3]!)).toEqual([1 ^ 4 ^ 16, 2 ^ 8 ^ 32, 255 ^ 15 ^ 1]);
    expect(codec.verify(shards)).toBe(true);
    const one = [Uint8Array.of(7, 7, 1), new Uint8Array(3)];
    createXorCodec(1).encode(one);
    expect(one[1]).toEqual(one[0]);
    expect([codec.dataShards, codec.totalShards, codec.scheme]).toEqual([3, 4, xorScheme(3)]);
  });

  it('fast-check: any one missing shard is rebuilt from the other k, as planRepair plans', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 0, max: 300 }), fc.integer(), fc.nat(), (k, size, seed, pick) => {
        const codec = createXorCodec(k);
        const original = stripe(k, size, seed);
        codec.encode(original);
        const lost = pick % (k + 1);
        const shards: (Uint8Array | null)[] = original.map((s) => s.slice());
        shards[lost] = null;
        const plan = codec.reconstruct(shards);
        expect(plan).toEqual(planRepair(xorScheme(k), [lost]));
        expect(plan.read).toHaveLength(k);
        expect(shards).toEqual(original);
        expect(codec.repairReads([lost])).toEqual(Array.from({ length: k + 1 }, (_, i) => i).filter((i) => i !== lost));
      }),
      { numRuns: 300 },
    );
  });

  it('nothing missing: nothing done; verify catches any changed byte', () => {
    const codec = createXorCodec(4);
    const shards = stripe(4, 20, 5);
    codec.encode(shards);
    expect(codec.reconstruct(shards)).toEqual({ method: 'none', rebuild: [], read: [] });
    for (let i = 0; i < 5; i++) {
      const bad = shards.map((s) => s.slice());
      bad[i]![7]! ^= 0x80;
      expect(codec.verify(bad)).toBe(false);
    }
  });

  it('two or more missing: shards.too_few naming them, list untouched', () => {
    const codec = createXorCodec(4);
    const shards: (Uint8Array | null)[] = stripe(4, 8, 1);
    codec.encode(shards as Uint8Array[]);
    shards[1] = null;
    shards[4] = undefined as unknown as null;
    const before = shards.slice();
    let error: unknown;
    try {
      codec.reconstruct(shards);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ErasureError);
    expect((error as ErasureError).code).toBe('shards.too_few');
    expect((error as ErasureError).message).toBe(
      'shards.too_few: shards: shards [1, 4] are missing: 3 of 5 shards present; XOR(4) needs 4 (it rebuilds one missing shard)',
    );
    expect(shards).toEqual(before);
  });

  it('refusals: counts, wrong list length, non-bytes, sizes, missing on encode, overlapping parity', () => {
    expect(() => createXorCodec(0)).toThrow('config.out_of_range: dataShards: 0 is not an integer from 1 to 254');
    expect(() => createXorCodec(255)).toThrow(/^config\.out_of_range/);
    expect(() => createXorCodec(2.5)).toThrow(/^config\.out_of_range/);
    const codec = createXorCodec(2);
    expect(() => codec.encode([new Uint8Array(2), new Uint8Array(2)])).toThrow(/^shards\.wrong_count: shards: got 2 shards; 3 expected \(XOR\(2\)/);
    expect(() => codec.reconstruct([new Uint8Array(2), 5 as unknown as Uint8Array, null])).toThrow(/^shards\.not_bytes: shards\[1\]/);
    expect(() => codec.reconstruct([new Uint8Array(2), new Uint8Array(3), null])).toThrow(/^shards\.size_mismatch: shards\[1\]/);
    expect(() => codec.encode([new Uint8Array(2), null as unknown as Uint8Array, new Uint8Array(2)])).toThrow(/^shards\.missing: shards\[1\]/);
    const block = new Uint8Array(4);
    expect(() => codec.encode([block.subarray(0, 2), block.subarray(2, 4), block.subarray(1, 3)])).toThrow(/^shards\.overlap: shards\[2\]/);
  });
});
