/**
 * Property tests on random codes (k 1..20, m 0..10), shard sizes 0..300 and erasure
 * patterns: decode ∘ encode = id for up to m erasures, `shards.too_few` beyond, parity
 * equal to the literal construction (./reference.ts), and verify catching any one
 * changed byte.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ErasureError, createReedSolomon, joinShards, splitShards } from '../src/mod.ts';
import { hex, refParity } from './reference.ts';

interface Case {
  k: number;
  m: number;
  data: Uint8Array[];
  /** Indexes of the shards to erase, at most m of them. */
  lost: number[];
}

const code = fc.record({ k: fc.integer({ min: 1, max: 20 }), m: fc.integer({ min: 0, max: 10 }), size: fc.integer({ min: 0, max: 300 }) });

/** A code, its data shards and an erasure pattern of up to m shards. */
const recoverable: fc.Arbitrary<Case> = code.chain(({ k, m, size }) =>
  fc.record({
    k: fc.constant(k),
    m: fc.constant(m),
    data: fc.array(fc.uint8Array({ minLength: size, maxLength: size }), { minLength: k, maxLength: k }),
    lost: fc.shuffledSubarray(
      Array.from({ length: k + m }, (_, i) => i),
      { maxLength: m },
    ),
  }),
);

/** A code with m + 1 .. k + m erasures. */
const unrecoverable: fc.Arbitrary<Case> = code.chain(({ k, m, size }) =>
  fc.record({
    k: fc.constant(k),
    m: fc.constant(m),
    data: fc.array(fc.uint8Array({ minLength: size, maxLength: size }), { minLength: k, maxLength: k }),
    lost: fc.shuffledSubarray(
      Array.from({ length: k + m }, (_, i) => i),
      { minLength: m + 1 },
    ),
  }),
);

function encoded(k: number, m: number, data: readonly Uint8Array[]): Uint8Array[] {
  const size = data[0]!.length;
  const shards = [...data.map((d) => d.slice()), ...Array.from({ length: m }, () => new Uint8Array(size))];
  createReedSolomon(k, m).encode(shards);
  return shards;
}

describe('reconstruct ∘ encode = id', () => {
  it('up to m erasures: every shard comes back, present ones untouched', () => {
    fc.assert(
      fc.property(recoverable, ({ k, m, data, lost }) => {
        const rs = createReedSolomon(k, m);
        const shards = encoded(k, m, data);
        expect(shards.slice(0, k).map(hex)).toEqual(data.map(hex)); // systematic
        const damaged: (Uint8Array | null)[] = shards.map((s) => s.slice());
        const kept = damaged.map((s, i) => (lost.includes(i) ? null : s));
        for (const i of lost) damaged[i] = null;
        rs.reconstruct(damaged);
        expect(damaged.map((s) => hex(s!))).toEqual(shards.map(hex));
        kept.forEach((s, i) => {
          if (s) expect(damaged[i]).toBe(s); // same object: present shards are not replaced
        });
        expect(rs.verify(damaged as Uint8Array[])).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('reconstructData brings back the data shards and leaves missing parity missing', () => {
    fc.assert(
      fc.property(recoverable, ({ k, m, data, lost }) => {
        const damaged: (Uint8Array | null)[] = encoded(k, m, data);
        for (const i of lost) damaged[i] = null;
        createReedSolomon(k, m).reconstructData(damaged);
        expect(damaged.slice(0, k).map((s) => hex(s!))).toEqual(data.map(hex));
        for (let i = k; i < k + m; i++) expect(damaged[i] === null).toBe(lost.includes(i));
      }),
      { numRuns: 200 },
    );
  });

  it('more than m erasures throw shards.too_few and leave the list as it was', () => {
    fc.assert(
      fc.property(unrecoverable, ({ k, m, data, lost }) => {
        const damaged: (Uint8Array | null)[] = encoded(k, m, data);
        for (const i of lost) damaged[i] = null;
        const before = [...damaged];
        const rs = createReedSolomon(k, m);
        let error: unknown;
        try {
          rs.reconstruct(damaged);
        } catch (e) {
          error = e;
        }
        expect(error).toBeInstanceOf(ErasureError);
        expect((error as ErasureError).code).toBe('shards.too_few');
        expect((error as ErasureError).message).toBe(`shards.too_few: shards: ${k + m - lost.length} of ${k + m} data+parity shards present; ${k} needed`);
        expect(damaged).toEqual(before);
        expect(() => rs.reconstructData(damaged)).toThrow(expect.objectContaining({ code: 'shards.too_few' }));
      }),
      { numRuns: 200 },
    );
  });

  it('split → encode → erase up to m → reconstruct → join gives the bytes back', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 0, max: 10 }),
        fc.uint8Array({ maxLength: 3000 }),
        fc.infiniteStream(fc.boolean()),
        (k, m, bytes, coin) => {
          const shards: (Uint8Array | null)[] = splitShards(bytes, k, m);
          expect(shards).toHaveLength(k + m);
          createReedSolomon(k, m).encode(shards as Uint8Array[]);
          let erased = 0;
          for (let i = 0; i < k + m && erased < m; i++) {
            if (coin.next().value) {
              shards[i] = null;
              erased++;
            }
          }
          createReedSolomon(k, m).reconstruct(shards);
          expect(hex(joinShards(shards, k, bytes.length))).toBe(hex(bytes));
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('parity', () => {
  it('equals the literal construction (vandermonde · top⁻¹, shift-and-add arithmetic)', () => {
    fc.assert(
      fc.property(
        code.chain(({ k, m, size }) =>
          fc.tuple(fc.constant(k), fc.constant(m), fc.array(fc.uint8Array({ minLength: Math.min(size, 40), maxLength: Math.min(size, 40) }), { minLength: k, maxLength: k })),
        ),
        ([k, m, data]) => {
          expect(encoded(k, m, data).slice(k).map(hex)).toEqual(refParity(k, m, data).map(hex));
        },
      ),
      { numRuns: 60 },
    );
  });

  it('k = 1 is replication: every parity shard equals the data shard', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 254 }), fc.uint8Array({ maxLength: 50 }), (m, bytes) => {
        const shards = encoded(1, m, [bytes]);
        for (const s of shards) expect(hex(s)).toBe(hex(bytes));
      }),
      { numRuns: 50 },
    );
  });

  it('verify fails after any one byte of any shard changes (m ≥ 1)', () => {
    fc.assert(
      fc.property(
        code.filter(({ m, size }) => m >= 1 && size >= 1).chain(({ k, m, size }) =>
          fc.record({
            k: fc.constant(k),
            m: fc.constant(m),
            data: fc.array(fc.uint8Array({ minLength: size, maxLength: size }), { minLength: k, maxLength: k }),
            shard: fc.nat(k + m - 1),
            at: fc.nat(size - 1),
            xor: fc.integer({ min: 1, max: 255 }),
          }),
        ),
        ({ k, m, data, shard, at, xor }) => {
          const rs = createReedSolomon(k, m);
          const shards = encoded(k, m, data);
          expect(rs.verify(shards)).toBe(true);
          shards[shard]![at]! ^= xor;
          expect(rs.verify(shards)).toBe(false);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('decode matrix cache', () => {
  it('gives the same shards with no cache, a one-entry cache under eviction, and the default', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 10 }),
        fc.integer({ min: 1, max: 6 }),
        fc.array(fc.integer({ min: 0, max: 1_000_000 }), { minLength: 5, maxLength: 12 }),
        (k, m, seeds) => {
          const data = Array.from({ length: k }, (_, i) => Uint8Array.from({ length: 17 }, (_, b) => (i * 31 + b * 7 + 1) & 0xff));
          const full = encoded(k, m, data);
          const codecs = [createReedSolomon(k, m, { decodeCacheSize: 0 }), createReedSolomon(k, m, { decodeCacheSize: 1 }), createReedSolomon(k, m)];
          for (const seed of seeds) {
            // Erase m shards chosen from the seed; patterns repeat and alternate across seeds.
            const order = Array.from({ length: k + m }, (_, i) => i).sort((a, b) => ((a * 7919 + seed) % 101) - ((b * 7919 + seed) % 101) || a - b);
            for (const rs of codecs) {
              const damaged: (Uint8Array | null)[] = full.map((s) => s.slice());
              for (const i of order.slice(0, m)) damaged[i] = null;
              rs.reconstruct(damaged);
              expect(damaged.map((s) => hex(s!))).toEqual(full.map(hex));
            }
          }
        },
      ),
      { numRuns: 50 },
    );
  });
});
