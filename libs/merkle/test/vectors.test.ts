/**
 * The RFC 6962 / RFC 9162 reference tree of the certificate-transparency
 * implementations (vectors/rfc6962-reference-tree.json, sources cited there).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { inclusionProof, leafHash, merkleRoot, merkleRootHex, nodeHash, verifyInclusion } from '../src/mod.ts';
import { hex, unhex } from './reference.ts';

interface Vectors {
  empty_root: string;
  leaves: string[];
  leaf_hashes: { leaf_index: number; hash: string }[];
  roots: { tree_size: number; root: string }[];
  inclusion: { leaf_index: number; tree_size: number; proof: string[] }[];
  hasher: ({ name: string; kind: 'leaf'; data: string; hash: string } | { name: string; kind: 'node'; left: string; right: string; hash: string })[];
}

const vectors = JSON.parse(readFileSync(new URL('./vectors/rfc6962-reference-tree.json', import.meta.url), 'utf8')) as Vectors;
const leaves = vectors.leaves.map(unhex);
const rootOfSize = (size: number): string => vectors.roots.find((r) => r.tree_size === size)!.root;

describe('RFC 6962 reference tree', () => {
  it('has the eight reference leaves, roots for sizes 1..8 and five inclusion proofs', () => {
    expect(vectors.leaves).toEqual(['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f']);
    expect(vectors.roots.map((r) => r.tree_size)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(vectors.inclusion).toHaveLength(5);
  });

  it.each(vectors.hasher.map((v) => [v.name, v] as const))('hasher: %s', (_name, v) => {
    const got = v.kind === 'leaf' ? leafHash(unhex(v.data)) : nodeHash(unhex(v.left), unhex(v.right));
    expect(hex(got)).toBe(v.hash);
    expect(got).toBeInstanceOf(Uint8Array);
    expect(Buffer.isBuffer(got)).toBe(false);
  });

  it.each(vectors.leaf_hashes.map((v) => [v.leaf_index, v.hash] as const))('leaf %i hash', (index, hash) => {
    expect(hex(leafHash(leaves[index]!))).toBe(hash);
  });

  it('empty tree root is SHA-256 of the empty string', () => {
    expect(hex(merkleRoot([]))).toBe(vectors.empty_root);
    expect(merkleRootHex([])).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });

  it.each(vectors.roots.map((r) => [r.tree_size, r.root] as const))('root of the first %i leaves', (size, root) => {
    expect(hex(merkleRoot(leaves.slice(0, size)))).toBe(root);
    expect(merkleRootHex(leaves.slice(0, size))).toBe(root);
  });

  describe.each(vectors.inclusion.map((v) => [`leaf ${v.leaf_index} of ${v.tree_size}`, v] as const))('inclusion: %s', (_name, v) => {
    const tree = leaves.slice(0, v.tree_size);
    const root = unhex(rootOfSize(v.tree_size));
    const leaf = leafHash(leaves[v.leaf_index]!);
    const proof = v.proof.map(unhex);
    const verify = (p: readonly Uint8Array[], index = v.leaf_index, size = v.tree_size, r = root, l = leaf) => verifyInclusion(l, index, size, p, r);

    it('inclusionProof gives the expected path', () => {
      expect(inclusionProof(tree, v.leaf_index).map(hex)).toEqual(v.proof);
    });

    it('verifyInclusion accepts it', () => {
      expect(verify(proof)).toBe(true);
    });

    // The corruptions of the transparency-dev/merkle and certificate-transparency
    // verifier tests: each must be refused.
    it('refuses a wrong index or tree size', () => {
      for (const index of [v.leaf_index - 1, v.leaf_index + 1, v.leaf_index ^ 2]) expect(verify(proof, index), `index ${index}`).toBe(false);
      expect(verify(proof, v.leaf_index, v.tree_size * 2)).toBe(false);
      expect(verify(proof, v.leaf_index, Math.floor(v.tree_size / 2))).toBe(false);
    });

    it('refuses a wrong leaf or root', () => {
      expect(verify(proof, v.leaf_index, v.tree_size, root, leafHash(new TextEncoder().encode('WrongLeaf')))).toBe(false);
      expect(verify(proof, v.leaf_index, v.tree_size, unhex(vectors.empty_root))).toBe(false);
      expect(verify(proof, v.leaf_index, v.tree_size, new Uint8Array(0))).toBe(false);
      expect(verify(proof, v.leaf_index, v.tree_size, root, new Uint8Array(0))).toBe(false);
    });

    it('refuses a changed, added or removed proof element', () => {
      for (let j = 0; j < proof.length; j++) {
        const replaced = [...proof];
        replaced[j] = unhex(vectors.empty_root);
        expect(verify(replaced), `element ${j} replaced`).toBe(false);
      }
      expect(verify([...proof, new Uint8Array(0)]), 'trailing empty').toBe(false);
      expect(verify([...proof, root]), 'trailing root').toBe(false);
      expect(verify([new Uint8Array(0), ...proof]), 'preceding empty').toBe(false);
      expect(verify([root, ...proof]), 'preceding root').toBe(false);
      if (proof.length > 0) {
        expect(verify(proof.slice(0, -1)), 'last removed').toBe(false);
        expect(verify([...proof.slice(0, 1), unhex(vectors.empty_root), ...proof.slice(1)]), 'inserted').toBe(false);
      }
    });
  });

  it('a proof alone does not bind the tree size (the signed tree head must)', () => {
    // Leaf 0 has the same path shape (three steps, sibling always on the right) in
    // every tree of 5 to 8 leaves, so the 5-leaf proof and root pass for all four sizes.
    const proof = inclusionProof(leaves.slice(0, 5), 0);
    const root = unhex(rootOfSize(5));
    const accepted = [3, 4, 5, 6, 7, 8, 9].filter((size) => verifyInclusion(leafHash(leaves[0]!), 0, size, proof, root));
    expect(accepted).toEqual([5, 6, 7, 8]);
  });

  it('refuses proofs for indexes outside the tree, and empty trees', () => {
    const some = unhex('abacaba000000000000000000000000000000000000000000060061e00123456');
    const empty = unhex(vectors.empty_root);
    for (const [index, size] of [[0, 0], [0, 1], [1, 0], [2, 1]] as const) {
      expect(verifyInclusion(some, index, size, [], new Uint8Array(0))).toBe(false);
      expect(verifyInclusion(new Uint8Array(0), index, size, [], empty)).toBe(false);
      expect(verifyInclusion(some, index, size, [], empty)).toBe(false);
    }
    // A one-leaf tree: the root is the leaf hash and the path is empty.
    const single = leafHash(new TextEncoder().encode('data'));
    expect(verifyInclusion(single, 0, 1, [], single)).toBe(true);
    expect(verifyInclusion(single, 0, 1, [], new Uint8Array(0))).toBe(false);
  });
});
