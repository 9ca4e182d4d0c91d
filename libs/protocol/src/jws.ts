/**
 * Detached JWS (RFC 7515 Appendix F) as PROTOCOL.md section 2 fixes it:
 * header = JCS of {"alg":"EdDSA","kid":"<did:key>"}, signing input =
 * b64url(header) "." b64url(payload), signature = b64url(header) ".." b64url(S).
 */
import { verify as edVerify } from 'node:crypto';
import { ProtocolError } from './errors.ts';
import { decodeDidKey } from './did-key.ts';
import { isCachedDid, publicKeyObject } from './public-key-cache.ts';
import type { SigningKey } from './signing-key.ts';

const SIGNATURE_PATH = '$.signature';
/** b64url(header) ".." b64url(64-byte signature): 86 characters, no padding. */
const DETACHED = /^([A-Za-z0-9_-]+)\.\.([A-Za-z0-9_-]{86})$/;
const HEADER_START = '{"alg":"EdDSA","kid":"';
const HEADER_END = '"}';

/** The protected header, in its one accepted (JCS) spelling. */
export function protectedHeader(kid: string): string {
  return `${HEADER_START}${kid}${HEADER_END}`;
}

export function base64url(data: Uint8Array | string): string {
  return (typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data.buffer, data.byteOffset, data.byteLength)).toString(
    'base64url',
  );
}

/** Signs a canonical payload; returns the `signature` member value. */
export function signDetached(payload: string, key: SigningKey): string {
  const header = base64url(protectedHeader(key.did));
  const signature = key.sign(Buffer.from(`${header}.${base64url(payload)}`, 'latin1'));
  return `${header}..${base64url(signature)}`;
}

export interface ParsedSignature {
  /** The header exactly as received (base64url). */
  header: string;
  /** Signer did:key (validated). */
  kid: string;
  /** The 64 signature bytes. */
  signature: Buffer;
}

/**
 * Splits and checks a detached JWS: shape, canonical base64url, header exactly
 * `{"alg":"EdDSA","kid":"<did:key>"}`, kid a valid Ed25519 did:key.
 */
export function parseDetachedSignature(value: string): ParsedSignature {
  const match = DETACHED.exec(value);
  if (match === null) {
    throw new ProtocolError('signature.malformed', 'not a detached JWS (base64url header ".." 86-character base64url signature)', {
      path: SIGNATURE_PATH,
    });
  }
  const header = match[1]!;
  const signature = Buffer.from(match[2]!, 'base64url');
  if (signature.toString('base64url') !== match[2] || header.length % 4 === 1) {
    throw new ProtocolError('signature.malformed', 'signature is not canonical base64url', { path: SIGNATURE_PATH });
  }
  const headerBytes = Buffer.from(header, 'base64url');
  if (headerBytes.toString('base64url') !== header) {
    throw new ProtocolError('signature.malformed', 'header is not canonical base64url', { path: SIGNATURE_PATH });
  }
  const headerText = headerBytes.toString('utf8');
  const kid = headerText.slice(HEADER_START.length, headerText.length - HEADER_END.length);
  if (
    !headerText.startsWith(HEADER_START) ||
    !headerText.endsWith(HEADER_END) ||
    headerText.length < HEADER_START.length + HEADER_END.length ||
    /["\\]/.test(kid)
  ) {
    throw new ProtocolError('signature.bad_header', 'protected header must be exactly {"alg":"EdDSA","kid":"<did:key>"}', {
      path: SIGNATURE_PATH,
    });
  }
  // A kid with a cached KeyObject was decoded before; skip the base58 work.
  if (!isCachedDid(kid)) {
    try {
      decodeDidKey(kid, SIGNATURE_PATH);
    } catch (cause) {
      if (!(cause instanceof ProtocolError)) throw cause;
      throw new ProtocolError(cause.code, `header kid: ${cause.reason}`, { path: SIGNATURE_PATH, cause });
    }
  }
  return { header, kid, signature };
}

/** Verifies a parsed signature over a canonical payload; throws `signature.invalid`. */
export function verifyDetached(parsed: ParsedSignature, payload: string): void {
  const input = Buffer.from(`${parsed.header}.${base64url(payload)}`, 'latin1');
  if (!edVerify(null, input, publicKeyObject(parsed.kid, SIGNATURE_PATH), parsed.signature)) {
    throw new ProtocolError('signature.invalid', `Ed25519 signature does not verify with key ${parsed.kid}`, { path: SIGNATURE_PATH });
  }
}
