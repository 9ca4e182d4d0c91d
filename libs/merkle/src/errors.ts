/**
 * The ways a Merkle input can be refused, as one error class with stable codes.
 * Codes are a contract (callers and tests match on them); add, never rename.
 */

/** Stable rule names thrown as `MerkleError.code`. */
export const MERKLE_ERROR_CODES = [
  // recordIdLeaves: an entry is not 64 lowercase hex characters.
  'leaf.not_record_id',
  // inclusionProof: the index is not a leaf of the tree.
  'index.out_of_range',
] as const;

export type MerkleErrorCode = (typeof MERKLE_ERROR_CODES)[number];

/**
 * A Merkle input broke a rule. `message` is one line: `<code>: <path>: <reason>`,
 * where `path` names the offending argument, e.g. `ids[3]` or `index`.
 */
export class MerkleError extends Error {
  override readonly name = 'MerkleError';
  readonly code: MerkleErrorCode;
  readonly path: string;
  /** The reason alone, without code and path. */
  readonly reason: string;

  constructor(code: MerkleErrorCode, path: string, reason: string) {
    const oneLine = reason.replace(/[\r\n]+/g, ' ');
    super(`${code}: ${path}: ${oneLine}`);
    this.code = code;
    this.path = path;
    this.reason = oneLine;
  }
}
