/**
 * Why a metadata node refuses a content manifest that is a valid signed document: the
 * rules of spec 6.3 and 6.4 that need state (rollback, ownership, duplicate upload,
 * quotas) or metadata-specific judgement (fingerprint consistency, spam). Protocol
 * rules (JSON, schema, signature) are `ProtocolError`s of `@dmf/protocol`.
 *
 * The adapter answers each code with its own problem `type`; the projector counts
 * refusals by code. Codes are stable: add, never rename.
 */

export const METADATA_REFUSAL_CODES = {
  /** `issued_at` further in the past than the adapter accepts (a fresh publish signs now). */
  'issued_at.stale': 422,
  /** `seq` not above the current version's (or the same `seq` with other content). */
  'seq.rollback': 409,
  /** `manifest_id` belongs to another creator (the first to publish it). */
  'manifest.owned': 403,
  /** `fingerprint` or a chunk is not a canonical CIDv1 raw sha2-256. */
  'fingerprint.malformed': 422,
  /** `size`, `chunks` and `fingerprint` cannot describe the same content. */
  'fingerprint.inconsistent': 422,
  /** The same `fingerprint` was first claimed by another creator. */
  'fingerprint.duplicate_upload': 409,
  /** Too many publishes from one creator in a short time (adapter only). */
  'spam.rate': 429,
  /** The creator holds as many manifests as a creator may. */
  'spam.quota_manifests': 422,
  /** The manifest has as many versions as a manifest may. */
  'spam.quota_versions': 422,
  /** Tags that differ only in case or spacing, or empty after trimming. */
  'spam.tags': 422,
  /** Text that is blank, or stuffed (a title or description that repeats itself). */
  'spam.text': 422,
} as const;

export type MetadataRefusalCode = keyof typeof METADATA_REFUSAL_CODES;

export class MetadataRefusal extends Error {
  readonly code: MetadataRefusalCode;
  /** JSON path of the member at fault, e.g. `$.fingerprint`. */
  readonly path: string;
  readonly reason: string;
  /** HTTP status the adapter answers with. */
  readonly status: number;
  /** Seconds a client should wait before retrying (`spam.rate` only). */
  readonly retryAfterSeconds: number | undefined;

  constructor(code: MetadataRefusalCode, path: string, reason: string, options: { retryAfterSeconds?: number } = {}) {
    super(`${code}: ${path}: ${reason}`);
    this.name = 'MetadataRefusal';
    this.code = code;
    this.path = path;
    this.reason = reason;
    this.status = METADATA_REFUSAL_CODES[code];
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}
