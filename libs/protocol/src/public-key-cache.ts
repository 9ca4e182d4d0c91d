/**
 * node:crypto KeyObjects per did:key. Building one costs a good part of a verification,
 * and the same signers sign most records, so verified DIDs keep theirs in a bounded
 * least-recently-used Map. Each verification thread has its own Map (a new pool starts
 * empty), so each thread builds every signer's key once: hence a cheap build below.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { decodeDidKey } from './did-key.ts';

/** Entries kept; past this the least recently used is dropped. */
export const PUBLIC_KEY_CACHE_SIZE = 10_000;

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
  const key = ed25519PublicKey(raw);
  if (cache.size >= PUBLIC_KEY_CACHE_SIZE) cache.delete(cache.keys().next().value!);
  cache.set(did, key);
  return key;
}

/**
 * The KeyObject of a raw 32-byte Ed25519 public key. Imported as a JWK, not as DER
 * (SubjectPublicKeyInfo): the same key (tests compare them), built about four times
 * faster, as OpenSSL 3's DER decoder is slow; neither checks that the key is a curve point.
 */
export function ed25519PublicKey(raw: Uint8Array): KeyObject {
  const x = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('base64url');
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' });
}

/** True when the DID is known valid without decoding it again. */
export function isCachedDid(did: string): boolean {
  return cache.has(did);
}

/** For tests. */
export function publicKeyCacheSize(): number {
  return cache.size;
}
