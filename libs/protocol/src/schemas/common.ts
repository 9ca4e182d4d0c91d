/**
 * Building blocks shared by the record schemas. Every string and array is bounded:
 * these limits are also anti-spam limits (spec 6.4). `errorMessage` is the reason
 * given when a value breaks the pattern or format.
 */
import { Type } from '@sinclair/typebox';
import {
  CID_RAW_SHA256_PATTERN,
  DID_KEY_PATTERN,
  HTTPS_URL_PATTERN,
  LINE_PATTERN,
  SEMVER_PATTERN,
  SHA256_HEX_PATTERN,
  TIMESTAMP_PATTERN,
  TOKEN_PATTERN,
  UUID_PATTERN,
} from '../formats.ts';

export const MAX_SAFE = Number.MAX_SAFE_INTEGER;

export const DidKey = Type.String({
  maxLength: 64,
  pattern: DID_KEY_PATTERN,
  format: 'dmf-did-key',
  description: 'Ed25519 did:key: "did:key:z" + base58btc(0xed 0x01 ‖ 32-byte public key)',
  errorMessage: 'not an Ed25519 did:key',
});

export const Uuid = Type.String({
  maxLength: 36,
  pattern: UUID_PATTERN,
  description: 'RFC 9562 UUID, lowercase, version 1-8, variant 10xx',
  errorMessage: 'not a lowercase UUID',
});

export const Timestamp = Type.String({
  maxLength: 32,
  pattern: TIMESTAMP_PATTERN,
  format: 'dmf-timestamp',
  description: 'RFC 3339 UTC timestamp with milliseconds: 2026-11-28T17:00:00.000Z',
  errorMessage: 'not an RFC 3339 UTC timestamp with milliseconds (2026-11-28T17:00:00.000Z)',
});

export const Semver = Type.String({
  maxLength: 64,
  pattern: SEMVER_PATTERN,
  description: 'Semantic Versioning 2.0.0 version',
  errorMessage: 'not a semantic version',
});

export const Seq = Type.Integer({ minimum: 1, maximum: MAX_SAFE, description: 'version order of one subject (PROTOCOL.md section 3)' });

export const HttpsUrl = Type.String({
  maxLength: 2048,
  pattern: HTTPS_URL_PATTERN,
  format: 'dmf-https-url',
  description: 'absolute https URL without credentials',
  errorMessage: 'not an https URL without credentials',
});

export const RawCid = Type.String({
  maxLength: 59,
  pattern: CID_RAW_SHA256_PATTERN,
  description: 'CIDv1, raw codec, sha2-256, multibase base32 lowercase (bafkrei...)',
  errorMessage: 'not a CIDv1 raw sha2-256 (base32)',
});

export const Sha256Hex = Type.String({
  maxLength: 64,
  pattern: SHA256_HEX_PATTERN,
  description: 'SHA-256 digest, lowercase hex',
  errorMessage: 'not a lowercase hex SHA-256',
});

/** A record id (PROTOCOL.md section 2): lowercase hex SHA-256 of the signed document. */
export const RecordId = Type.String({
  maxLength: 64,
  pattern: SHA256_HEX_PATTERN,
  description: 'record id: lowercase hex SHA-256 of the JCS of a whole signed document',
  errorMessage: 'not a record id (lowercase hex SHA-256)',
});

export const Token = Type.String({
  maxLength: 32,
  pattern: TOKEN_PATTERN,
  description: 'name of the form [a-z][a-z0-9_]{1,31}',
  errorMessage: 'not a name of the form [a-z][a-z0-9_]{1,31}',
});

/** One line of human text. */
export function Line(maxLength: number) {
  return Type.String({
    minLength: 1,
    maxLength,
    pattern: LINE_PATTERN,
    description: 'one line of text: no C0 control character, no DEL',
    errorMessage: 'holds control characters',
  });
}

/** Parts per million, for rates (uptime, availability): integers only on the wire. */
export const Ppm = Type.Integer({ minimum: 0, maximum: 1_000_000, description: 'parts per million' });

/** The detached JWS; its structure is checked by the signature step, not the schema. */
export const Signature = Type.String({
  minLength: 1,
  maxLength: 512,
  description: 'detached JWS: base64url(header) ".." base64url(Ed25519 signature) (PROTOCOL.md section 2)',
});
