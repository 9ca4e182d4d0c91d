/**
 * The one entry point that decides whether a signed document is valid. Steps run in
 * a fixed order so that every implementation reports the same rule for the same
 * input: value rules, kind, schema, kind rules, freshness, signature and signer.
 */
import { createHash } from 'node:crypto';
import { ProtocolError } from './errors.ts';
import { checkFreshness } from './freshness.ts';
import { canonicalizeSigned } from './jcs.ts';
import { parseDetachedSignature, verifyDetached } from './jws.ts';
import { checkKindRules, checkSchema } from './schema-check.ts';
import {
  SCHEMAS,
  type CategorySnapshot,
  type ContentManifest,
  type DocumentKind,
  type GovernanceReport,
  type NodeAttestation,
  type NodeManifest,
  type NodeReport,
  type ServiceManifest,
} from './schemas/kinds.ts';
import type { ErasureGroup, RepairTask, ShardReport } from './schemas/storage.ts';
import { requiredSigner, type NodePublicKeyResolver } from './signer-rule.ts';
import { assertProtocolValue, parseJson } from './strict-json.ts';

/** Largest document verifyBytes accepts by default (a content manifest of 4,096 chunks fits). */
export const MAX_DOCUMENT_BYTES = 512 * 1024;

export interface VerifyOptions {
  /** The time freshness is judged at. Default: the current time. */
  now?: Date;
  /**
   * Resolves a node's current signing key (`public_key` of its node manifest); needed
   * for service manifests. Default: none, so service manifests fail `signer.unresolved`.
   */
  nodePublicKey?: NodePublicKeyResolver;
  /**
   * `false` skips the freshness step (issued_at in the future, expiry), for a caller that
   * reports the rules in another order and runs `checkFreshness` itself. Default true.
   */
  freshness?: boolean;
}

export interface VerifyBytesOptions extends VerifyOptions {
  /** Refuse larger inputs (`json.too_large`). Default: MAX_DOCUMENT_BYTES. */
  maxBytes?: number;
  /**
   * Also say whether the bytes are exactly the document's canonical form (JCS), in
   * `canonical` of the result. Records travel on the bus in that form; the same record
   * in other bytes (members reordered, strings re-escaped, spaces) was re-encoded by
   * someone, and a projection may refuse it. Costs one UTF-8 decode and a string compare.
   */
  reportCanonical?: boolean;
}

interface RecordOf<K extends DocumentKind, D> {
  kind: K;
  /** With `reportCanonical`: the bytes were exactly the document's JCS form. */
  canonical?: boolean;
  /** Record id: lowercase hex SHA-256 of the JCS of the whole document. */
  id: string;
  /** did:key that signed it (the `kid`). */
  signer: string;
  document: D;
}

export type VerifiedRecord =
  | RecordOf<'node_manifest', NodeManifest>
  | RecordOf<'service_manifest', ServiceManifest>
  | RecordOf<'content_manifest', ContentManifest>
  | RecordOf<'node_attestation', NodeAttestation>
  | RecordOf<'node_report', NodeReport>
  | RecordOf<'category_snapshot', CategorySnapshot>
  | RecordOf<'governance_report', GovernanceReport>
  | RecordOf<'erasure_group', ErasureGroup>
  | RecordOf<'shard_report', ShardReport>
  | RecordOf<'repair_task', RepairTask>;

/** Verifies a parsed document; throws ProtocolError naming the first rule it breaks. */
export function verifyDocument(input: unknown, options: VerifyOptions = {}): VerifiedRecord {
  assertProtocolValue(input);
  return verifyProtocolValue(input, options);
}

/** verifyDocument of a value known to obey the value rules; `text`, when given, is compared with the document's JCS. */
function verifyProtocolValue(input: unknown, options: VerifyOptions, text?: string): VerifiedRecord {
  const kind = documentKind(input);
  const document = input as Record<string, unknown>;
  checkSchema(kind, document);
  checkKindRules(kind, document);
  if (options.freshness !== false) checkFreshness(document as { issued_at: string; expires_at?: string }, options.now ?? new Date());

  const parsed = parseDetachedSignature(document['signature'] as string);
  const signer = requiredSigner(kind, document, options.nodePublicKey);
  if (parsed.kid !== signer.did) {
    const note = signer.note === undefined ? '' : `, ${signer.note}`;
    throw new ProtocolError('signature.wrong_signer', `signed by ${parsed.kid}, but the signer must be ${signer.rule} (${signer.did})${note}`, {
      path: '$.signature',
    });
  }
  // One canonicalisation gives both the signed payload and the text the id hashes.
  const { payload, whole } = canonicalizeSigned(document);
  verifyDetached(parsed, payload);
  const id = createHash('sha256').update(whole, 'utf8').digest('hex');
  if (text !== undefined) return { kind, id, signer: parsed.kid, document, canonical: text === whole } as VerifiedRecord;
  return { kind, id, signer: parsed.kid, document } as VerifiedRecord;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Parses strict JSON (bytes or text) and verifies it: the bus path. */
export function verifyBytes(raw: Uint8Array | string, options: VerifyBytesOptions = {}): VerifiedRecord {
  // parseJson enforces the value rules on the text (nothing else comes out of JSON.parse
  // than plain objects, arrays, strings, booleans and null; numbers, surrogates and depth
  // are checked), so assertProtocolValue, for values built in code, has nothing to find.
  const value = parseJson(raw, { maxBytes: options.maxBytes ?? MAX_DOCUMENT_BYTES });
  if (!options.reportCanonical) return verifyProtocolValue(value, options);
  // parseJson accepted the bytes, so they decode; a BOM would make them non-canonical anyway.
  const text = typeof raw === 'string' ? raw : strictUtf8.decode(raw);
  return verifyProtocolValue(value, options, text);
}

/** The kind of a value that passed the value rules, or ProtocolError. */
export function documentKind(value: unknown): DocumentKind {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ProtocolError('document.not_object', 'a signed document is a JSON object', { path: '$' });
  }
  const kind = (value as Record<string, unknown>)['kind'];
  if (typeof kind !== 'string') throw new ProtocolError('kind.missing', 'string member "kind" is missing', { path: '$.kind' });
  if (!Object.hasOwn(SCHEMAS, kind)) {
    throw new ProtocolError('kind.unknown', `unknown kind ${JSON.stringify(kind)}`, { path: '$.kind' });
  }
  return kind as DocumentKind;
}
