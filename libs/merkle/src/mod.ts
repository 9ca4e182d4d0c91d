/**
 * @dmf/merkle: RFC 9162 (Certificate Transparency v2) section 2.1 Merkle tree
 * hashing: leaf and node hashes, the tree root (MTH), inclusion proofs and their
 * verification, and leaves for lists of DMF record ids. Pure functions, SHA-256.
 */
export { MERKLE_ERROR_CODES, MerkleError } from './errors.ts';
export type { MerkleErrorCode } from './errors.ts';
export { HASH_BYTES, leafHash, nodeHash } from './hash.ts';
export { merkleRoot, merkleRootHex } from './root.ts';
export { inclusionProof, verifyInclusion } from './inclusion.ts';
export { recordIdLeaves } from './record-ids.ts';
