/** Leaves for a list of DMF record ids. */
import { MerkleError } from './errors.ts';

/** A record id: lowercase hex SHA-256, so 64 characters for 32 bytes. */
const RECORD_ID = /^[0-9a-f]{64}$/;
const ID_BYTES = 32;

/**
 * One leaf per record id (lowercase hex SHA-256). Each leaf's data is the 32 raw
 * bytes the hex encodes, not the 64 characters of text: the id is a digest, and
 * hashing its bytes is what any other implementation would do given the digest.
 * Upper case is refused rather than folded, so one set of ids has one root.
 *
 * The leaves are 32-byte views into one block of 32 × n bytes: a million small
 * typed arrays, each with a store of its own, cost twice as long to allocate as the
 * decoding itself.
 *
 * @throws MerkleError `leaf.not_record_id` naming the first bad entry (`ids[i]`).
 */
export function recordIdLeaves(ids: readonly string[]): Uint8Array[] {
  const block = new Uint8Array(ID_BYTES * ids.length);
  const writer = Buffer.from(block.buffer, block.byteOffset, block.byteLength);
  const leaves = new Array<Uint8Array>(ids.length);
  for (let i = 0; i < ids.length; i++) {
    const id: unknown = ids[i];
    if (typeof id !== 'string' || !RECORD_ID.test(id)) {
      throw new MerkleError('leaf.not_record_id', `ids[${i}]`, `entry ${i} is not a record id (64 lowercase hex characters): ${describe(id)}`);
    }
    const at = i * ID_BYTES;
    writer.write(id, at, ID_BYTES, 'hex');
    leaves[i] = block.subarray(at, at + ID_BYTES);
  }
  return leaves;
}

/** A short, one-line picture of a bad entry for the error message. */
function describe(value: unknown): string {
  if (typeof value !== 'string') return value === null ? 'null' : typeof value;
  const shown = value.length > 80 ? `${value.slice(0, 80)}…` : value;
  return `${JSON.stringify(shown)} (${value.length} characters)`;
}
