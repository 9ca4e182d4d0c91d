/**
 * node:crypto KeyObjects per did:key. Building one costs about as much as several
 * microseconds of verification, and the same few signers sign most records, so
 * verified DIDs keep theirs in a bounded least-recently-used Map.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { decodeDidKey } from './did-key.ts';

/** Entries kept; past this the least recently used is dropped. */
export const PUBLIC_KEY_CACHE_SIZE = 10_000;

/** SubjectPublicKeyInfo DER prefix for a raw Ed25519 key (RFC 8410). */
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

const cache = new Map<string, KeyObject>();

/** The public KeyObject of a did:key (throws ProtocolError `did.*` when invalid). */
export function publicKeyObject(did: string, path?: string): KeyObject {
  const hit = cache.get(did);
  if (hit !== undefined) {
    // Re-insert so that Map order stays least-recently-used first.
    cache.delete(did);
    cache.set(did, hit);
    return hit;
  }
  const raw = decodeDidKey(did, path);
  const key = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
  if (cache.size >= PUBLIC_KEY_CACHE_SIZE) cache.delete(cache.keys().next().value!);
  cache.set(did, key);
  return key;
}

/** True when the DID is known valid without decoding it again. */
export function isCachedDid(did: string): boolean {
  return cache.has(did);
}

/** For tests. */
export function publicKeyCacheSize(): number {
  return cache.size;
}
