import { createPublicKey, verify } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeDidKey } from '../src/mod.ts';
import { ed25519PublicKey } from '../src/public-key-cache.ts';
import { keys } from './fixtures.ts';

/** SubjectPublicKeyInfo DER prefix for a raw Ed25519 key (RFC 8410): the import it replaces. */
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

function derImport(raw: Uint8Array) {
  return createPublicKey({ key: Buffer.concat([SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
}

describe('ed25519PublicKey', () => {
  it('builds the same KeyObject as the DER import, curve points or not', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (raw) => {
        const key = ed25519PublicKey(raw);
        expect(key.asymmetricKeyType).toBe('ed25519');
        expect(key.equals(derImport(raw))).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('reads the key from a subarray (a decoded did:key) and verifies its signatures', () => {
    const raw = decodeDidKey(keys.creator.did);
    expect(raw.byteOffset).toBeGreaterThan(0);
    const key = ed25519PublicKey(raw);
    expect(key.equals(derImport(raw))).toBe(true);
    expect(key.equals(ed25519PublicKey(decodeDidKey(keys.node.did)))).toBe(false);
    const message = Buffer.from('a signed message');
    expect(verify(null, message, key, keys.creator.sign(message))).toBe(true);
    expect(verify(null, message, key, keys.node.sign(message))).toBe(false);
  });
});
