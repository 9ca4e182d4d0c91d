/**
 * Property tests on random trees of 1..300 leaves: the package agrees with a
 * literal transcription of RFC 9162 (./reference.ts, other SHA-256 code), every
 * inclusion proof verifies, and flipping any one bit of the proof, the leaf hash,
 * the index or the root makes verification fail.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MerkleError, inclusionProof, leafHash, merkleRoot, verifyInclusion } from '../src/mod.ts';
import { flipBit, flipIntegerBit, hex, referencePath, referenceRoot } from './reference.ts';

const leafData = fc.uint8Array({ maxLength: 40 });
const tree = (maxSize: number) => fc.array(leafData, { minLength: 1, maxLength: maxSize });
/** A tree of 1..300 leaves and one of its indexes. */
const treeAndIndex = tree(300).chain((leaves) => fc.tuple(fc.constant(leaves), fc.nat(leaves.length - 1)));
/**
 * The same with distinct leaves. Where two leaves are equal, the proof of one is also
 * the proof of the other at its index (a proof shows a leaf hash at a position, and the
 * two hashes are the same), so flipping the index to the twin's verifies, rightly; the
 * leaves DMF proves are record ids, which are distinct.
 */
const distinctTreeAndIndex = fc
  .uniqueArray(leafData, { minLength: 1, maxLength: 300, comparator: (a, b) => hex(a) === hex(b) })
  .chain((leaves) => fc.tuple(fc.constant(leaves), fc.nat(leaves.length - 1)));

describe('merkleRoot', () => {
  it('equals the recursive RFC 9162 MTH for 0..300 leaves', () => {
    fc.assert(
      fc.property(fc.array(leafData, { maxLength: 300 }), (leaves) => {
        expect(hex(merkleRoot(leaves))).toBe(hex(referenceRoot(leaves)));
      }),
    );
  });

  it('depends on the order of the leaves', () => {
    fc.assert(
      fc.property(fc.uniqueArray(leafData, { minLength: 2, maxLength: 40, comparator: (a, b) => hex(a) === hex(b) }), (leaves) => {
        expect(hex(merkleRoot([...leaves].reverse()))).not.toBe(hex(merkleRoot(leaves)));
      }),
    );
  });
});

describe('inclusion proofs', () => {
  it('equal the recursive RFC 9162 PATH and verify against the root', () => {
    fc.assert(
      fc.property(treeAndIndex, ([leaves, index]) => {
        const proof = inclusionProof(leaves, index);
        expect(proof.map(hex)).toEqual(referencePath(index, leaves).map(hex));
        expect(verifyInclusion(leafHash(leaves[index]!), index, leaves.length, proof, merkleRoot(leaves))).toBe(true);
      }),
    );
  });

  it('every index of every tree of 1..64 leaves verifies', () => {
    for (let size = 1; size <= 64; size++) {
      const leaves = Array.from({ length: size }, (_, i) => Uint8Array.of(i, size));
      const root = merkleRoot(leaves);
      for (let index = 0; index < size; index++) {
        expect(verifyInclusion(leafHash(leaves[index]!), index, size, inclusionProof(leaves, index), root), `${index} of ${size}`).toBe(true);
      }
    }
  });

  it('fail when any one bit of the proof, the leaf hash, the index or the root is flipped (distinct leaves)', () => {
    const target = fc.oneof(
      fc.record({ part: fc.constant('proof' as const), element: fc.nat(), bit: fc.integer({ min: 0, max: 255 }) }),
      fc.record({ part: fc.constant('leaf' as const), bit: fc.integer({ min: 0, max: 255 }) }),
      fc.record({ part: fc.constant('root' as const), bit: fc.integer({ min: 0, max: 255 }) }),
      // Bits 0..52: every index a safe integer can hold.
      fc.record({ part: fc.constant('index' as const), bit: fc.integer({ min: 0, max: 52 }) }),
    );
    fc.assert(
      fc.property(distinctTreeAndIndex, target, ([leaves, index], flip) => {
        let proof = inclusionProof(leaves, index);
        let leaf = leafHash(leaves[index]!);
        let root = merkleRoot(leaves);
        let at = index;
        // A one-leaf tree has no proof to flip: flip the leaf instead.
        if (flip.part === 'proof' && proof.length > 0) {
          const element = flip.element % proof.length;
          proof = proof.map((hash, j) => (j === element ? flipBit(hash, flip.bit) : hash));
        } else if (flip.part === 'root') root = flipBit(root, flip.bit);
        else if (flip.part === 'index') at = flipIntegerBit(index, flip.bit);
        else leaf = flipBit(leaf, flip.bit);
        expect(verifyInclusion(leaf, at, leaves.length, proof, root)).toBe(false);
      }),
      { numRuns: 500 },
    );
  });

  it('exhaustively: every bit of every proof element, leaf and root for all indexes of trees of 1..20 leaves', { timeout: 60_000 }, () => {
    let refused = 0;
    for (let size = 1; size <= 20; size++) {
      const leaves = Array.from({ length: size }, (_, i) => Uint8Array.of(0xa0, i));
      const root = merkleRoot(leaves);
      for (let index = 0; index < size; index++) {
        const proof = inclusionProof(leaves, index);
        const leaf = leafHash(leaves[index]!);
        for (let bit = 0; bit < 256; bit++) {
          for (let j = 0; j < proof.length; j++) {
            const flipped = proof.map((hash, k) => (k === j ? flipBit(hash, bit) : hash));
            if (verifyInclusion(leaf, index, size, flipped, root)) throw new Error(`accepted: size ${size} index ${index} proof[${j}] bit ${bit}`);
            refused++;
          }
          if (verifyInclusion(flipBit(leaf, bit), index, size, proof, root)) throw new Error(`accepted: size ${size} index ${index} leaf bit ${bit}`);
          if (verifyInclusion(leaf, index, size, proof, flipBit(root, bit))) throw new Error(`accepted: size ${size} index ${index} root bit ${bit}`);
          refused += 2;
        }
        for (let bit = 0; bit <= 52; bit++) {
          if (verifyInclusion(leaf, flipIntegerBit(index, bit), size, proof, root)) throw new Error(`accepted: size ${size} index ${index} index bit ${bit}`);
          refused++;
        }
      }
    }
    expect(refused).toBeGreaterThan(200_000);
  });

  it('refuses an index outside the tree with a MerkleError', () => {
    fc.assert(
      fc.property(tree(20), fc.oneof(fc.integer({ max: -1 }), fc.integer({ min: 20, max: 10_000 }), fc.constant(0.5), fc.constant(Number.NaN)), (leaves, index) => {
        if (index >= 0 && index < leaves.length) index = leaves.length;
        let thrown: unknown;
        try {
          inclusionProof(leaves, index);
        } catch (error) {
          thrown = error;
        }
        expect(thrown).toBeInstanceOf(MerkleError);
        expect((thrown as MerkleError).code).toBe('index.out_of_range');
        expect((thrown as MerkleError).path).toBe('index');
      }),
    );
    expect(() => inclusionProof([], 0)).toThrow(/^index\.out_of_range: index: leaf index 0 is not in a tree of 0 leaves$/);
  });
});
