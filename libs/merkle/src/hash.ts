/**
 * The two hash functions of RFC 9162 section 2.1.1 (SHA-256 with domain separation
 * prefixes, so that a leaf can never be passed off as an interior node).
 *
 * node:crypto is the hot path here: a tree of n leaves costs 2n − 1 hashes, and
 * OpenSSL's SHA-256 is the fastest one Node has. @noble/hashes (`sha256`) would be
 * the portable choice for a browser build; the functions below are the only place
 * to change.
 */
import { createHash } from 'node:crypto';

/** Bytes in a SHA-256 digest, hence in every leaf hash, node hash and root. */
export const HASH_BYTES = 32;

const LEAF_PREFIX = Uint8Array.of(0x00);
const NODE_PREFIX = Uint8Array.of(0x01);

/** SHA-256(0x00 || data), as a Buffer (internal: no view is made per hash). */
export function rawLeafHash(data: Uint8Array): Buffer {
  return createHash('sha256').update(LEAF_PREFIX).update(data).digest();
}

/** SHA-256(0x01 || left || right), as a Buffer (internal). */
export function rawNodeHash(left: Uint8Array, right: Uint8Array): Buffer {
  return createHash('sha256').update(NODE_PREFIX).update(left).update(right).digest();
}

/** SHA-256 of the empty string: the root of a tree with no leaves. */
export function rawEmptyRoot(): Buffer {
  return createHash('sha256').digest();
}

/**
 * A plain Uint8Array over a digest's bytes (no copy). Callers get the type they
 * asked for, so that `toEqual` against a Uint8Array or `instanceof Buffer` checks
 * do not depend on Node's Buffer leaking out.
 */
export function plainBytes(bytes: Buffer): Uint8Array {
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** RFC 9162 leaf hash: SHA-256(0x00 || data). */
export function leafHash(data: Uint8Array): Uint8Array {
  return plainBytes(rawLeafHash(data));
}

/** RFC 9162 interior node hash: SHA-256(0x01 || left || right). */
export function nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  return plainBytes(rawNodeHash(left, right));
}
