/**
 * Ed25519 signing keys. The private key lives in a module-private WeakMap, so a
 * SigningKey object has nothing secret to print, serialise or enumerate.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { inspect } from 'node:util';
import { encodeDidKey } from './did-key.ts';

const secrets = new WeakMap<SigningKey, KeyObject>();

/** PKCS#8 DER prefix of a raw 32-byte Ed25519 seed (RFC 8410). */
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

export class SigningKey {
  /** did:key of the public key: what `kid` and the signer members hold. */
  readonly did: string;
  readonly #publicKey: Uint8Array;

  /** Wraps an Ed25519 private KeyObject (see generateSigningKey, signingKeyFromSeed). */
  constructor(privateKey: KeyObject) {
    if (privateKey.type !== 'private' || privateKey.asymmetricKeyType !== 'ed25519') {
      throw new TypeError('SigningKey needs an Ed25519 private key');
    }
    const jwk = createPublicKey(privateKey).export({ format: 'jwk' });
    this.#publicKey = Buffer.from(jwk.x!, 'base64url');
    this.did = encodeDidKey(this.#publicKey);
    secrets.set(this, privateKey);
  }

  /** The raw 32-byte public key (a copy). */
  get publicKey(): Uint8Array {
    return Uint8Array.from(this.#publicKey);
  }

  /** Ed25519 signature (64 bytes) over the message. */
  sign(message: Uint8Array): Uint8Array {
    return sign(null, message, secrets.get(this)!);
  }

  toJSON(): { did: string } {
    return { did: this.did };
  }

  toString(): string {
    return `SigningKey(${this.did})`;
  }

  [inspect.custom](): string {
    return `SigningKey { did: '${this.did}' }`;
  }
}

/** A fresh random key. */
export function generateSigningKey(): SigningKey {
  return new SigningKey(generateKeyPairSync('ed25519').privateKey);
}

/** The key of a 32-byte seed (RFC 8032 secret key); deterministic, for key files and test vectors. */
export function signingKeyFromSeed(seed: Uint8Array): SigningKey {
  if (seed.length !== 32) throw new TypeError(`an Ed25519 seed has 32 bytes, not ${seed.length}`);
  return new SigningKey(createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' }));
}

/** The 32-byte seed. Reveals the secret: for writing key files only (not exported by the package). */
export function exportSeed(key: SigningKey): Uint8Array {
  const jwk = secrets.get(key)!.export({ format: 'jwk' });
  return Buffer.from(jwk.d!, 'base64url');
}
