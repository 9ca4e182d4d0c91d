/**
 * A million leaves: no deep recursion, and the root equals an independent
 * computation. With identical leaves, MTH(n) depends on n alone, so the RFC's
 * recursive definition memoised by size costs O(log² n) hashes and checks the
 * package's bottom-up construction for sizes no literal recursion could reach.
 */
import { describe, expect, it } from 'vitest';
import { inclusionProof, leafHash, merkleRoot, nodeHash, verifyInclusion } from '../src/mod.ts';
import { hex } from './reference.ts';

function rootOfIdenticalLeaves(leaf: Uint8Array, n: number, memo = new Map<number, Uint8Array>()): Uint8Array {
  if (n === 1) return leafHash(leaf);
  const known = memo.get(n);
  if (known) return known;
  let k = 1;
  while (k * 2 < n) k *= 2;
  const root = nodeHash(rootOfIdenticalLeaves(leaf, k, memo), rootOfIdenticalLeaves(leaf, n - k, memo));
  memo.set(n, root);
  return root;
}

describe('large trees', () => {
  // Each call hashes every leaf once (2n − 1 hashes): two calls, a few seconds.
  it('1,000,000 leaves: the root, and the proof of the last leaf', { timeout: 120_000 }, () => {
    const n = 1_000_000;
    const data = new Uint8Array(32).fill(0x5a);
    const leaves = new Array<Uint8Array>(n).fill(data);
    const root = merkleRoot(leaves);
    expect(hex(root)).toBe(hex(rootOfIdenticalLeaves(data, n)));
    // The last leaf of a tree that is not full: its path skips the levels where its
    // ancestors have no right sibling.
    const proof = inclusionProof(leaves, n - 1);
    // 1,000,000 = 2^19 + 2^18 + 2^17 + 2^16 + 2^14 + 2^9 + 2^6: six siblings above the last
    // perfect subtree of 64 leaves, six inside it.
    expect(proof).toHaveLength(12);
    expect(verifyInclusion(leafHash(data), n - 1, n, proof, root)).toBe(true);
    expect(verifyInclusion(leafHash(Uint8Array.of(1)), n - 1, n, proof, root)).toBe(false);
  });

  it('sizes around powers of two agree with the memoised RFC recursion', () => {
    const data = Uint8Array.of(7);
    for (const n of [1, 2, 3, 255, 256, 257, 4095, 4096, 4097, 65_535, 65_536, 65_537]) {
      expect(hex(merkleRoot(new Array<Uint8Array>(n).fill(data))), `n = ${n}`).toBe(hex(rootOfIdenticalLeaves(data, n)));
    }
  });
});
