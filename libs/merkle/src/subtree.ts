/**
 * MTH of a slice of leaves, computed bottom-up with a stack of perfect subtrees.
 *
 * RFC 9162 defines MTH recursively (split at k, the largest power of two below n).
 * The same tree is built left to right by merging two subtrees whenever they have
 * the same size, then folding what is left from the right: the stack then holds
 * perfect subtrees of strictly decreasing size 2^a > 2^b > ..., and the first of
 * them is exactly the left part of the RFC's split. Each leaf is hashed once and
 * each interior node once (2n − 1 hashes), the stack never holds more than
 * log2(n) + 1 hashes, and nothing recurses, so a million leaves are fine.
 */
import { rawLeafHash, rawNodeHash } from './hash.ts';

/** MTH(leaves[start..end)), for start < end. The caller checks the bounds. */
export function subtreeHash(leaves: readonly Uint8Array[], start: number, end: number): Buffer {
  const hashes: Buffer[] = [];
  const sizes: number[] = [];
  for (let i = start; i < end; i++) {
    let hash = rawLeafHash(leaves[i]!);
    let size = 1;
    // Sizes on the stack are powers of two, largest at the bottom; two equal ones
    // side by side are the two halves of a perfect subtree.
    while (sizes.length > 0 && sizes[sizes.length - 1] === size) {
      hash = rawNodeHash(hashes.pop()!, hash);
      size += sizes.pop()!;
    }
    hashes.push(hash);
    sizes.push(size);
  }
  let root = hashes.pop()!;
  while (hashes.length > 0) root = rawNodeHash(hashes.pop()!, root);
  return root;
}

/** The largest power of two strictly below n (n ≥ 2): the split point k of RFC 9162. */
export function splitPoint(n: number): number {
  // Multiplication, not `<<`: shifts are 32-bit in JavaScript.
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}
