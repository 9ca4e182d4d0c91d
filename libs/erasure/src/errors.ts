/**
 * The ways the Reed–Solomon codec refuses its input, as one error class with stable
 * codes. Codes are a contract (callers and tests match on them); add, never rename.
 */

/** Stable rule names thrown as `ErasureError.code`. */
export const ERASURE_ERROR_CODES = [
  // createReedSolomon / splitShards: a shard count is not an integer in range
  // (k ≥ 1, m ≥ 0, k + m ≤ 255), or an option is out of range.
  'config.out_of_range',
  // A shard list does not have one entry per data+parity shard (or, for joinShards,
  // fewer entries than data shards).
  'shards.wrong_count',
  // A shard is not a Uint8Array (or, for reconstruct, not a Uint8Array, null or undefined).
  'shards.not_bytes',
  // Shards differ in length (all shards of one stripe have the same length).
  'shards.size_mismatch',
  // encode: a parity shard shares bytes with a data shard (parity is written in place).
  'shards.overlap',
  // encode / verify / joinShards got null or undefined where a shard must be present.
  'shards.missing',
  // reconstruct: fewer shards present than data shards; nothing can be rebuilt.
  'shards.too_few',
  // joinShards: the requested length is negative, not an integer, or longer than the data shards hold.
  'join.length_out_of_range',
  // Matrix arithmetic: dimensions that do not fit (multiply, sub-matrix, inverse of a non-square matrix).
  'matrix.shape',
  // Matrix inverse: the matrix has no inverse.
  'matrix.singular',
  // GF(2^8): division by zero, or the inverse of zero.
  'field.division_by_zero',
  // GF(2^8): an argument is not a byte value (an integer 0..255), or an exponent is not an integer.
  'field.not_element',
  // LRC reconstruct: at least k shards present, but the missing ones are not a
  // recoverable pattern (too many missing in some local groups for the surviving
  // global parities; schemes.ts isRecoverable).
  'shards.unrecoverable',
  // createLrcCodec: no global parity coefficients in GF(2^8) that make this (k, l, r)
  // maximally recoverable were found within the construction's search budget.
  'config.not_maximally_recoverable',
] as const;

export type ErasureErrorCode = (typeof ERASURE_ERROR_CODES)[number];

/**
 * An erasure-coding input broke a rule. `message` is one line: `<code>: <path>: <reason>`,
 * where `path` names the offending argument, e.g. `parityShards` or `shards[3]`.
 */
export class ErasureError extends Error {
  override readonly name = 'ErasureError';
  readonly code: ErasureErrorCode;
  readonly path: string;
  /** The reason alone, without code and path. */
  readonly reason: string;

  constructor(code: ErasureErrorCode, path: string, reason: string, options?: { cause?: unknown }) {
    const oneLine = reason.replace(/[\r\n]+/g, ' ');
    super(`${code}: ${path}: ${oneLine}`, options);
    this.code = code;
    this.path = path;
    this.reason = oneLine;
  }
}
