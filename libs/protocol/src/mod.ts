/**
 * @dmf/protocol: the DMF wire format (shared/design/PROTOCOL.md): strict JSON, JCS,
 * did:key, detached JWS signatures, record ids, freshness, and the schemas of the
 * signed document kinds.
 */
export { PROTOCOL_ERROR_CODES, ProtocolError, KEY_FILE_ERROR_CODES, KeyFileError } from './errors.ts';
export type { ProtocolErrorCode, ProtocolErrorOptions, KeyFileErrorCode } from './errors.ts';

export { parseJson, assertProtocolValue, MAX_DEPTH } from './strict-json.ts';
export type { ParseJsonOptions } from './strict-json.ts';
export { canonicalize, canonicalBytes } from './jcs.ts';

export { encodeDidKey, decodeDidKey, isDidKey } from './did-key.ts';
export { cidOfBytes, MAX_CHUNK_BYTES } from './cid.ts';
export { SigningKey, generateSigningKey, signingKeyFromSeed } from './signing-key.ts';
export { readKeyFile, writeKeyFile } from './key-file.ts';
export type { WriteKeyFileOptions } from './key-file.ts';

export { verifyDocument, verifyBytes, documentKind, MAX_DOCUMENT_BYTES } from './verify.ts';
export type { VerifiedRecord, VerifyOptions, VerifyBytesOptions } from './verify.ts';
export { signDocument, signRecord } from './sign.ts';
export type { SignOptions } from './sign.ts';
export { recordId } from './record-id.ts';
export { checkFreshness, checkSeq, MAX_FUTURE_SKEW_MS, MAX_LIFETIME_MS } from './freshness.ts';
export { requiredSigner } from './signer-rule.ts';
export type { NodePublicKeyResolver } from './signer-rule.ts';
export { parseDetachedSignature, protectedHeader } from './jws.ts';
export { declaredSigner } from './declared-signer.ts';
export type { ParsedSignature } from './jws.ts';
export { checkSchema } from './schema-check.ts';

export {
  SCHEMAS,
  DOCUMENT_KINDS,
  EXPIRING_KINDS,
  REPORT_REASONS,
  GOVERNANCE_GROUNDS,
  NodeManifestSchema,
  ServiceManifestSchema,
  ContentManifestSchema,
  NodeAttestationSchema,
  NodeReportSchema,
  CategorySnapshotSchema,
  GovernanceReportSchema,
} from './schemas/kinds.ts';
export type {
  DocumentKind,
  ProtocolDocument,
  NodeManifest,
  ServiceManifest,
  ContentManifest,
  NodeAttestation,
  NodeReport,
  CategorySnapshot,
  GovernanceReport,
  ReportReason,
  GovernanceGrounds,
} from './schemas/kinds.ts';
export {
  POPULARITY_TIERS,
  ERASURE_SCHEME_TYPES,
  SHARD_STATES,
  MAX_SHARDS,
  ErasureSchemeSchema,
  ErasureGroupSchema,
  ShardReportSchema,
  RepairTaskSchema,
} from './schemas/storage.ts';
export type {
  ErasureGroup,
  ShardReport,
  RepairTask,
  ErasureScheme,
  ErasureSchemeType,
  PopularityTier,
  ShardState,
} from './schemas/storage.ts';
export { schemeShardCount } from './storage-rules.ts';
export { compareCategoryNames } from './category-order.ts';
export { CID_RAW_SHA256_PATTERN, DID_KEY_PATTERN, SHA256_HEX_PATTERN, PROTOCOL_FORMATS, REGION_PATTERN, formatTimestamp, isTimestamp, isHttpsUrl } from './formats.ts';
export { createVerifyPool, defaultVerifyThreads } from './verify-pool.ts';
export type { VerifyPool, VerifyPoolOptions } from './verify-pool.ts';
export { packRecords, verifyPacked } from './verify-many.ts';
export type { PackedRecords, RecordCheck, RecordToVerify, VerifyVerdict } from './verify-many.ts';
