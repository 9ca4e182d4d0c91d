/** Inclusion proofs: PATH (RFC 9162 section 2.1.3.1) and their verification (2.1.3.2). */
import { HASH_BYTES, plainBytes, rawNodeHash } from './hash.ts';
import { MerkleError } from './errors.ts';
import { splitPoint, subtreeHash } from './subtree.ts';

/**
 * PATH(index, D[n]): the hashes of the sibling subtrees from the leaf up to the
 * root, nearest first. A tree of one leaf has an empty path.
 *
 * Walks down from the root following the RFC's splits (O(log n) steps, no
 * recursion), then hashes each sibling range once: every leaf except `index` is
 * hashed once, so a proof costs about as much as the root.
 *
 * @throws MerkleError `index.out_of_range` unless 0 ≤ index < leaves.length.
 */
export function inclusionProof(leaves: readonly Uint8Array[], index: number): Uint8Array[] {
  if (!Number.isSafeInteger(index) || index < 0 || index >= leaves.length) {
    throw new MerkleError('index.out_of_range', 'index', `leaf index ${String(index)} is not in a tree of ${leaves.length} leaves`);
  }
  const siblings: [start: number, end: number][] = [];
  let start = 0;
  let end = leaves.length;
  while (end - start > 1) {
    const middle = start + splitPoint(end - start);
    if (index < middle) {
      siblings.push([middle, end]);
      end = middle;
    } else {
      siblings.push([start, middle]);
      start = middle;
    }
  }
  // Collected root first; PATH lists the leaf's sibling first.
  return siblings.reverse().map(([from, to]) => plainBytes(subtreeHash(leaves, from, to)));
}

function isHash(value: unknown): value is Uint8Array {
  return value instanceof Uint8Array && value.length === HASH_BYTES;
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * The RFC 9162 section 2.1.3.2 algorithm: true when `proof` shows that the leaf
 * with hash `leafHash` is leaf `index` of the tree of `treeSize` leaves with root
 * `root`. Anything malformed (an index outside the tree, a hash that is not 32
 * bytes, a proof too long or too short) is false, never an exception.
 *
 * The proof does not bind `treeSize` by itself (a path can have the same shape in
 * two sizes); the size is bound by the signed tree head that carries `root`.
 */
export function verifyInclusion(
  leafHash: Uint8Array,
  index: number,
  treeSize: number,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): boolean {
  if (!isHash(leafHash) || !isHash(root) || !Array.isArray(proof)) return false;
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(treeSize) || index < 0 || index >= treeSize) return false;
  // fn: the leaf's position at the current level; sn: the last position at that
  // level. Halving is arithmetic, not `>>`, so sizes past 2^32 work.
  let fn = index;
  let sn = treeSize - 1;
  let r: Uint8Array = leafHash;
  for (const p of proof as readonly unknown[]) {
    if (!isHash(p) || sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = rawNodeHash(p, r);
      // The rightmost node of a level with no right sibling is carried up unchanged.
      while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2);
        sn = Math.floor(sn / 2);
      }
    } else {
      r = rawNodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && bytesEqual(r, root);
}
