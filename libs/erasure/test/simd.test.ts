import { readFile } from 'node:fs/promises';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createReedSolomon } from '../src/reed-solomon.ts';
import { GF_SIMD_WASM_BASE64 } from '../src/gf-simd-wasm.ts';
import { simdAvailable } from '../src/simd.ts';
import { compileGfSimd } from '../scripts/compile-wat.ts';

describe('the WebAssembly SIMD kernel', () => {
  it('is the compiled form of wasm/gf-simd.wat (run scripts/build-wasm.ts after changing it)', async () => {
    const wat = await readFile(new URL('../wasm/gf-simd.wat', import.meta.url), 'utf8');
    expect(Buffer.from(await compileGfSimd(wat)).toString('base64')).toBe(GF_SIMD_WASM_BASE64);
  });

  it('runs here (Node 20 has WebAssembly SIMD)', () => {
    expect(simdAvailable()).toBe(true);
  });

  it('gives the bytes the TypeScript loop gives: encode and reconstruct, any k, m and length (tails under 16 bytes too)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 1, max: 8 }),
        // Past one 64 KiB chunk of the kernel now and then, and every tail length.
        fc.oneof(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 65_530, max: 65_560 })),
        fc.integer(),
        (k, m, size, seed) => {
          let x = seed | 1;
          const data = Array.from({ length: k }, () => {
            const shard = new Uint8Array(size);
            for (let b = 0; b < size; b++) {
              x ^= x << 13;
              x ^= x >>> 17;
              x ^= x << 5;
              shard[b] = x & 255;
            }
            return shard;
          });
          const same = (p: readonly (Uint8Array | null)[], q: readonly (Uint8Array | null)[]) =>
            p.length === q.length && p.every((s, i) => s !== null && q[i] !== null && Buffer.from(s).equals(Buffer.from(q[i] as Uint8Array)));
          const withSimd = [...data.map((d) => d.slice()), ...Array.from({ length: m }, () => new Uint8Array(size))];
          const without = [...data.map((d) => d.slice()), ...Array.from({ length: m }, () => new Uint8Array(size))];
          createReedSolomon(k, m, { simd: true }).encode(withSimd);
          createReedSolomon(k, m, { simd: false }).encode(without);
          expect(same(withSimd, without)).toBe(true);
          // Lose the first min(m, k) data shards; both paths rebuild them identically.
          const lost = Math.min(m, k);
          const a: (Uint8Array | null)[] = withSimd.map((s, i) => (i < lost ? null : s));
          const b: (Uint8Array | null)[] = without.map((s, i) => (i < lost ? null : s));
          createReedSolomon(k, m, { simd: true }).reconstruct(a);
          createReedSolomon(k, m, { simd: false }).reconstruct(b);
          expect(same(a, b)).toBe(true);
          expect(same(a.slice(0, k), data)).toBe(true);
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('the XOR path (every coefficient 1)', () => {
  it('gives the XOR of the inputs for any length, tails under 64 bytes too', async () => {
    const { combineRange } = await import('../src/codec-shards.ts');
    for (const size of [0, 1, 63, 64, 65, 200, 65_536, 65_600]) {
      const inputs = Array.from({ length: 5 }, (_, i) => Uint8Array.from({ length: size }, (_, b) => (b * 31 + i * 7 + (b >> 8)) & 255));
      const outputs = [new Uint8Array(size), new Uint8Array(size)];
      combineRange([[1, 1, 1, 1, 1], [1, 1, 1, 1, 1]], inputs, outputs, 0, size);
      const expected = new Uint8Array(size);
      for (const input of inputs) for (let b = 0; b < size; b++) expected[b] = (expected[b] as number) ^ (input[b] as number);
      expect(Buffer.from(outputs[0] as Uint8Array).equals(Buffer.from(expected))).toBe(true);
      expect(Buffer.from(outputs[1] as Uint8Array).equals(Buffer.from(expected))).toBe(true);
    }
  });
});
