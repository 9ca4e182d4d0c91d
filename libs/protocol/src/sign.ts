/**
 * Signing a document. The result is verified before it is returned, so signing never
 * produces a document that verifyDocument would refuse.
 */
import { formatTimestamp } from './formats.ts';
import { canonicalizeSigned } from './jcs.ts';
import { signDetached } from './jws.ts';
import { EXPIRING_KINDS, type DocumentKind } from './schemas/kinds.ts';
import type { NodePublicKeyResolver } from './signer-rule.ts';
import type { SigningKey } from './signing-key.ts';
import { assertProtocolValue } from './strict-json.ts';
import { documentKind, verifyDocument, type VerifiedRecord } from './verify.ts';

export interface SignOptions {
  /** Time for a missing `issued_at` and for the final freshness check. Default: now. */
  now?: Date;
  /** `seq` to set when the document has none. Default: 1. */
  seq?: number;
  /**
   * For kinds with `expires_at` (node_manifest, service_manifest, node_attestation,
   * repair_task):
   * when the document has none, set it this many milliseconds after `issued_at`.
   * Default: none (a missing expires_at is a schema error).
   */
  expiresInMs?: number;
  /**
   * Resolver for the signer check of service manifests, as in verifyDocument.
   * Default: the signing key is taken to be the node's public_key.
   */
  nodePublicKey?: NodePublicKeyResolver;
}

/**
 * Signs a copy of `document` and returns it as a verified record (with its id):
 * any old `signature` removed, `issued_at` and `seq` filled when absent, signed by
 * `key`, then fully verified. Throws ProtocolError when the result would be invalid
 * (schema, freshness, wrong signer...).
 */
export function signRecord(document: object, key: SigningKey, options: SignOptions = {}): VerifiedRecord {
  assertProtocolValue(document);
  const kind: DocumentKind = documentKind(document);
  const now = options.now ?? new Date();
  const unsigned: Record<string, unknown> = { ...(document as Record<string, unknown>) };
  delete unsigned['signature'];
  if (unsigned['issued_at'] === undefined) unsigned['issued_at'] = formatTimestamp(now);
  if (unsigned['seq'] === undefined) unsigned['seq'] = options.seq ?? 1;
  if (options.expiresInMs !== undefined && EXPIRING_KINDS.has(kind) && unsigned['expires_at'] === undefined) {
    // An unusable issued_at is left for the schema step to report.
    const issuedMs = typeof unsigned['issued_at'] === 'string' ? Date.parse(unsigned['issued_at']) : Number.NaN;
    if (!Number.isNaN(issuedMs)) unsigned['expires_at'] = formatTimestamp(new Date(issuedMs + options.expiresInMs));
  }
  assertProtocolValue(unsigned);
  const signed = { ...unsigned, signature: signDetached(canonicalizeSigned(unsigned).payload, key) };
  return verifyDocument(signed, { now, nodePublicKey: options.nodePublicKey ?? (() => key.did) });
}

/** Like signRecord, returning only the signed document. */
export function signDocument<T extends object>(document: T, key: SigningKey, options: SignOptions = {}): T & { signature: string } {
  return signRecord(document, key, options).document as unknown as T & { signature: string };
}
