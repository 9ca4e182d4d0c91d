/**
 * did:key for Ed25519 (W3C CCG did:key; PROTOCOL.md section 1):
 * `did:key:z` + base58btc(0xED 0x01 ‖ 32-byte public key).
 */
import { base58btc } from 'multiformats/bases/base58';
import { ProtocolError } from './errors.ts';

const PREFIX = 'did:key:';
/** Multicodec `ed25519-pub` (0xed) as an unsigned varint. */
const ED25519_PUB = [0xed, 0x01] as const;
/** Longer identifiers are refused before decoding: base58 decoding is quadratic. */
const MAX_DID_LENGTH = 128;

/** The did:key of a 32-byte Ed25519 public key. */
export function encodeDidKey(publicKey: Uint8Array): string {
  if (publicKey.length !== 32) {
    throw new ProtocolError('did.bad_length', `an Ed25519 public key has 32 bytes, not ${publicKey.length}`);
  }
  const bytes = new Uint8Array(34);
  bytes[0] = ED25519_PUB[0];
  bytes[1] = ED25519_PUB[1];
  bytes.set(publicKey, 2);
  return PREFIX + base58btc.encode(bytes);
}

/**
 * The 32-byte Ed25519 public key of a did:key. Throws ProtocolError with a distinct
 * code per fault: did.bad_prefix, did.bad_multibase, did.bad_base58,
 * did.bad_multicodec, did.bad_length.
 */
export function decodeDidKey(did: string, path?: string): Uint8Array {
  const at = path === undefined ? {} : { path };
  if (typeof did !== 'string' || !did.startsWith(PREFIX)) {
    throw new ProtocolError('did.bad_prefix', 'not a did:key (must start with "did:key:")', at);
  }
  if (did.length > MAX_DID_LENGTH) {
    throw new ProtocolError('did.bad_length', `longer than ${MAX_DID_LENGTH} characters`, at);
  }
  const multibase = did.slice(PREFIX.length);
  if (!multibase.startsWith('z')) {
    throw new ProtocolError('did.bad_multibase', 'key must be multibase base58btc (prefix "z")', at);
  }
  let bytes: Uint8Array;
  try {
    bytes = base58btc.decode(multibase);
  } catch (cause) {
    throw new ProtocolError('did.bad_base58', 'key is not valid base58btc', { ...at, cause });
  }
  if (bytes.length < 2 || bytes[0] !== ED25519_PUB[0] || bytes[1] !== ED25519_PUB[1]) {
    throw new ProtocolError('did.bad_multicodec', 'key is not an Ed25519 public key (multicodec 0xed)', at);
  }
  if (bytes.length !== 34) {
    throw new ProtocolError('did.bad_length', `Ed25519 key has ${bytes.length - 2} bytes, not 32`, at);
  }
  return bytes.subarray(2);
}

/** Whether a string is a valid Ed25519 did:key. */
export function isDidKey(did: unknown): did is string {
  if (typeof did !== 'string') return false;
  try {
    decodeDidKey(did);
    return true;
  } catch {
    return false;
  }
}
