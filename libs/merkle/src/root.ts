/** The Merkle Tree Hash of a list of leaves (RFC 9162 section 2.1.1). */
import { plainBytes, rawEmptyRoot } from './hash.ts';
import { subtreeHash } from './subtree.ts';

/**
 * MTH(D[n]) over the leaves' data (each leaf is hashed as SHA-256(0x00 || data)).
 * No leaves: SHA-256 of the empty string.
 */
export function merkleRoot(leaves: readonly Uint8Array[]): Uint8Array {
  return plainBytes(leaves.length === 0 ? rawEmptyRoot() : subtreeHash(leaves, 0, leaves.length));
}

/** `merkleRoot` as 64 lowercase hex characters. */
export function merkleRootHex(leaves: readonly Uint8Array[]): string {
  return (leaves.length === 0 ? rawEmptyRoot() : subtreeHash(leaves, 0, leaves.length)).toString('hex');
}
