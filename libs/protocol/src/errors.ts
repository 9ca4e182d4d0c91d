/**
 * Every way a DMF document can be refused, as one error class with stable codes.
 * Codes are part of the wire contract (test vectors name them); add, never rename.
 */

/** Stable rule names thrown as `ProtocolError.code`. */
export const PROTOCOL_ERROR_CODES = [
  // Raw input and value rules (PROTOCOL.md section 2).
  'json.syntax',
  'json.encoding',
  'json.too_large',
  'json.too_deep',
  'json.duplicate_key',
  'json.non_integer',
  'json.unsafe_integer',
  'json.lone_surrogate',
  'json.unsupported_type',
  // Document envelope.
  'document.not_object',
  'kind.missing',
  'kind.unknown',
  // Shape of each kind (TypeBox schema) and cross-field rules of a kind.
  'schema',
  'attestation.self',
  'attestation.window',
  'report.self',
  'snapshot.part',
  'snapshot.order',
  'governance.self',
  'group.lrc',
  'group.shards',
  'group.holders',
  'repair.duplicate',
  'repair.overlap',
  // Freshness (PROTOCOL.md section 3).
  'issued_at.future',
  'expires_at.expired',
  'expires_at.before_issued',
  'expires_at.too_far',
  'seq.rollback',
  // did:key decoding.
  'did.bad_prefix',
  'did.bad_multibase',
  'did.bad_base58',
  'did.bad_multicodec',
  'did.bad_length',
  // Detached JWS and the signer table (PROTOCOL.md sections 2 and 4).
  'signature.malformed',
  'signature.bad_header',
  'signature.invalid',
  'signature.wrong_signer',
  'signer.unresolved',
] as const;

export type ProtocolErrorCode = (typeof PROTOCOL_ERROR_CODES)[number];

export interface ProtocolErrorOptions {
  /** JSON path of the offending member, e.g. `$.chunks[2]`; omitted when the whole input is at fault. */
  path?: string;
  /** Underlying error, if any. */
  cause?: unknown;
}

/**
 * A document (or a value, DID, signature...) broke a protocol rule.
 * `message` is one line: `<code>: <path>: <reason>`.
 */
export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
  readonly code: ProtocolErrorCode;
  readonly path: string | undefined;
  /** The reason alone, without code and path. */
  readonly reason: string;

  constructor(code: ProtocolErrorCode, reason: string, options: ProtocolErrorOptions = {}) {
    const oneLine = reason.replace(/[\r\n]+/g, ' ');
    super(
      options.path === undefined ? `${code}: ${oneLine}` : `${code}: ${options.path}: ${oneLine}`,
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.code = code;
    this.path = options.path;
    this.reason = oneLine;
  }
}

/** Key files fail for reasons of their own (I/O, permissions), not protocol rules. */
export const KEY_FILE_ERROR_CODES = [
  'keyfile.exists',
  'keyfile.permissions',
  'keyfile.invalid',
  'keyfile.mismatch',
  'keyfile.io',
] as const;

export type KeyFileErrorCode = (typeof KEY_FILE_ERROR_CODES)[number];

export class KeyFileError extends Error {
  override readonly name = 'KeyFileError';
  readonly code: KeyFileErrorCode;
  /** The key file concerned. */
  readonly file: string;

  constructor(code: KeyFileErrorCode, file: string, reason: string, cause?: unknown) {
    super(`${code}: ${file}: ${reason}`, cause === undefined ? undefined : { cause });
    this.code = code;
    this.file = file;
  }
}
