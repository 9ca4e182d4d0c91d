/**
 * TypeBox schemas of the signed document kinds (PROTOCOL.md section 4; field names
 * as the spec names them; the storage kinds of issue 6 are in storage.ts). Objects
 * are closed (`additionalProperties: false`) except node capabilities, which the spec
 * leaves open.
 */
import { Type, type Static } from '@sinclair/typebox';
import { JETSTREAM_DOMAIN_PATTERN, LANGUAGE_PATTERN, MIME_PATTERN, REGION_PATTERN, TEXT_PATTERN } from '../formats.ts';
import {
  DidKey,
  HttpsUrl,
  Line,
  MAX_SAFE,
  Ppm,
  RawCid,
  RecordId,
  Semver,
  Seq,
  Sha256Hex,
  Signature,
  Timestamp,
  Token,
  Uuid,
} from './common.ts';
import { ErasureGroupSchema, RepairTaskSchema, ShardReportSchema, type ErasureGroup, type RepairTask, type ShardReport } from './storage.ts';

const closed = { additionalProperties: false } as const;

/** Spec 4.1. Signed by `operator` if present, else by `node_id`. */
export const NodeManifestSchema = Type.Object(
  {
    kind: Type.Literal('node_manifest'),
    node_id: DidKey,
    operator: Type.Optional(DidKey),
    /** Roles the node runs: `metadata`, `storage_coord`, `discovery`, ... */
    services: Type.Array(Token, { minItems: 1, maxItems: 32, uniqueItems: true }),
    /** Open object: `region` required, `jetstream_domain` for nodes federating over NATS. */
    capabilities: Type.Object(
      {
        region: Type.String({ maxLength: 64, pattern: REGION_PATTERN, errorMessage: 'not a region name' }),
        jetstream_domain: Type.Optional(
          Type.String({ maxLength: 64, pattern: JETSTREAM_DOMAIN_PATTERN, errorMessage: 'not a JetStream domain name' }),
        ),
      },
      {
        additionalProperties: true,
        maxProperties: 64,
        description: 'open object: region required, jetstream_domain for nodes federating over NATS, other members free',
      },
    ),
    /** The key that signs this node's service manifests. */
    public_key: DidKey,
    mirrors: Type.Array(HttpsUrl, { maxItems: 16, uniqueItems: true }),
    version: Semver,
    seq: Seq,
    issued_at: Timestamp,
    expires_at: Timestamp,
    signature: Signature,
  },
  { ...closed, description: 'node manifest (spec 4.1); signed by operator if present, else node_id; seq orders node_id' },
);

/** Spec 5.1. Signed by the `public_key` of the current node manifest of `node_id`. */
export const ServiceManifestSchema = Type.Object(
  {
    kind: Type.Literal('service_manifest'),
    service_id: Uuid,
    node_id: DidKey,
    /** `metadata_index`, `storage_coord`, `discovery`, `aggregation`, `federation`, or another name. */
    type: Token,
    entrypoints: Type.Array(HttpsUrl, { minItems: 1, maxItems: 16, uniqueItems: true }),
    /** The OpenAPI document and its SHA-256, so a client can pin what it fetched. */
    schema: Type.Object({ url: HttpsUrl, sha256: Sha256Hex }, { ...closed, description: 'the OpenAPI document and the SHA-256 of its bytes' }),
    version: Semver,
    seq: Seq,
    issued_at: Timestamp,
    expires_at: Timestamp,
    signature: Signature,
  },
  {
    ...closed,
    description: 'service manifest (spec 5.1); signed by the public_key of the current node manifest of node_id; seq orders service_id',
  },
);

/** Spec 3.1, 6.3. Signed by `creator`. */
export const ContentManifestSchema = Type.Object(
  {
    kind: Type.Literal('content_manifest'),
    manifest_id: Uuid,
    creator: DidKey,
    title: Line(256),
    tags: Type.Array(Line(64), { maxItems: 32, uniqueItems: true }),
    category: Line(64),
    /** Ordered chunk CIDs: CIDv1, raw codec, sha2-256. */
    chunks: Type.Array(RawCid, { minItems: 1, maxItems: 4096 }),
    /** Content size in bytes. */
    size: Type.Integer({ minimum: 0, maximum: MAX_SAFE, description: 'content size in bytes' }),
    /** CIDv1 raw sha2-256 of the concatenated content. */
    fingerprint: RawCid,
    version: Semver,
    seq: Seq,
    issued_at: Timestamp,
    description: Type.Optional(
      Type.String({ maxLength: 4096, pattern: TEXT_PATTERN, errorMessage: 'holds control characters other than tab and line feed' }),
    ),
    language: Type.Optional(Type.String({ maxLength: 35, pattern: LANGUAGE_PATTERN, errorMessage: 'not a BCP 47 language tag' })),
    license: Type.Optional(Line(128)),
    mime: Type.Optional(Type.String({ maxLength: 255, pattern: MIME_PATTERN, errorMessage: 'not a media type (type/subtype, lowercase)' })),
    signature: Signature,
  },
  { ...closed, description: 'content manifest (spec 3.1, 6.3); signed by creator; seq orders manifest_id' },
);

/**
 * Spec 4.2, 4.3: one node's signed observation of another (integrity, uptime and
 * availability checks, cross-indexing) over a window. Signed by `attester`; `seq`
 * orders the attestations of one (attester, subject) pair.
 */
export const NodeAttestationSchema = Type.Object(
  {
    kind: Type.Literal('node_attestation'),
    attester: DidKey,
    /** node_id of the observed node. */
    subject: DidKey,
    /** Record id of the subject's node manifest that was checked. */
    subject_manifest: RecordId,
    /** The manifest and the subject's service manifests verified, fingerprints matched. */
    integrity: Type.Boolean(),
    /** The attester indexes the subject's records (cross-indexing, spec 4.3). */
    indexed: Type.Boolean(),
    /** Share of the window the node answered at all, parts per million. */
    uptime_ppm: Ppm,
    /** Share of probes answered correctly, parts per million. */
    availability_ppm: Ppm,
    /** Number of probes behind the figures. */
    probes: Type.Integer({ minimum: 1, maximum: 1_000_000 }),
    observed_from: Timestamp,
    observed_until: Timestamp,
    seq: Seq,
    issued_at: Timestamp,
    expires_at: Timestamp,
    signature: Signature,
  },
  {
    ...closed,
    description: "node attestation (spec 4.2, 4.3): one node's signed observation of another; signed by attester; seq orders (attester, subject)",
  },
);

/** Reasons a node may be flagged (spec 9.1), plus unavailability (spec 9.2 uptime). */
export const REPORT_REASONS = ['manifest_churn', 'bad_fingerprint', 'invalid_metadata', 'unavailable'] as const;

/**
 * Spec 9: one node flags another. Signed by `reporter`; `seq` orders the reports of
 * one (reporter, subject, reason). Evidence cites record ids, never user data.
 */
export const NodeReportSchema = Type.Object(
  {
    kind: Type.Literal('node_report'),
    reporter: DidKey,
    subject: DidKey,
    reason: Type.Union([
      Type.Literal('manifest_churn'),
      Type.Literal('bad_fingerprint'),
      Type.Literal('invalid_metadata'),
      Type.Literal('unavailable'),
    ]),
    evidence: Type.Array(RecordId, { minItems: 1, maxItems: 64, uniqueItems: true }),
    seq: Seq,
    issued_at: Timestamp,
    signature: Signature,
  },
  { ...closed, description: 'node report (spec 9): one node flags another; signed by reporter; seq orders (reporter, subject, reason)' },
);

/**
 * Grounds for asking the DAO to remove a node for good (spec 9.3, 11): its peers'
 * node reports delisted it, or it signed two different manifests with one seq.
 */
export const GOVERNANCE_GROUNDS = ['delisted', 'equivocation'] as const;

/**
 * Spec 9.3 "Reported to DAO for permanent removal", spec 11: a node asks the DAO to
 * remove another for good. Signed by `reporter`; `seq` orders the reports of one
 * (reporter, subject). Evidence cites record ids only: the node reports that delisted
 * the subject, or the two manifests it signed with one seq.
 */
export const GovernanceReportSchema = Type.Object(
  {
    kind: Type.Literal('governance_report'),
    /** The node filing the report. */
    reporter: DidKey,
    /** node_id of the node proposed for permanent removal. */
    subject: DidKey,
    /** The subject's operator, when its node manifest names one: the DAO removes operators, not just keys. */
    subject_operator: Type.Optional(DidKey),
    grounds: Type.Union([Type.Literal('delisted'), Type.Literal('equivocation')]),
    /** Record ids: the node reports that delisted the subject, or the two equivocating manifests. */
    evidence: Type.Array(RecordId, { minItems: 1, maxItems: 64, uniqueItems: true }),
    seq: Seq,
    issued_at: Timestamp,
    signature: Signature,
  },
  {
    ...closed,
    description:
      'governance report (spec 9.3, 11): one node asks the DAO to remove another for good; signed by reporter; seq orders (reporter, subject)',
  },
);

/**
 * Names of the stream a snapshot covers (`FEDERATED_opa`, `ORIGIN_opa`): letters,
 * digits, `_` and `-`, a subset of what JetStream allows in a stream name (no dots,
 * wildcards or spaces), so the name is also one subject token.
 */
export const STREAM_NAME_PATTERN = '^[A-Za-z0-9_-]{1,64}$';

/**
 * Spec 3.1 "Publish categorization snapshots": a metadata node signs, per category,
 * how many current content-manifest versions the category holds and the RFC 9162
 * Merkle root over their sorted record ids, as of `last_seq` of `stream`. Anyone
 * holding the same log can recompute and compare. Signed by `node`; `seq` orders the
 * snapshots of one (node, stream). A large snapshot is split into `parts`, each
 * signed on its own; categories are in UTF-8 byte order and unique (cross-field rules).
 */
export const CategorySnapshotSchema = Type.Object(
  {
    kind: Type.Literal('category_snapshot'),
    /** The node that computed and signs the snapshot. */
    node: DidKey,
    /** The log the snapshot covers, e.g. `FEDERATED_opa`. */
    stream: Type.String({
      maxLength: 64,
      pattern: STREAM_NAME_PATTERN,
      description: 'the NATS stream (log) covered, e.g. FEDERATED_opa',
      errorMessage: 'not a stream name ([A-Za-z0-9_-]{1,64})',
    }),
    /** Last stream sequence covered; 0 for an empty log. */
    last_seq: Type.Integer({ minimum: 0, maximum: MAX_SAFE, description: 'last stream sequence the snapshot covers (0: empty log)' }),
    part: Type.Integer({ minimum: 1, maximum: MAX_SAFE, description: 'this part, 1 to parts' }),
    parts: Type.Integer({ minimum: 1, maximum: MAX_SAFE, description: 'number of parts the snapshot is split into' }),
    categories: Type.Array(
      Type.Object(
        {
          category: Line(64),
          /** Current content-manifest versions in the category. */
          count: Type.Integer({ minimum: 1, maximum: MAX_SAFE, description: 'current content-manifest versions in the category' }),
          /** RFC 9162 Merkle tree head over their record ids, sorted. */
          root: Sha256Hex,
        },
        { ...closed, description: 'one category: count and RFC 9162 Merkle root over the sorted record ids of its current content manifests' },
      ),
      { maxItems: 2048, description: 'sorted by the UTF-8 bytes of category, unique (cross-field rule snapshot.order)' },
    ),
    seq: Seq,
    issued_at: Timestamp,
    signature: Signature,
  },
  {
    ...closed,
    description:
      'category snapshot (spec 3.1): per category, count and Merkle root of the current content manifests as of last_seq of stream; signed by node; seq orders (node, stream)',
  },
);

export const SCHEMAS = {
  node_manifest: NodeManifestSchema,
  service_manifest: ServiceManifestSchema,
  content_manifest: ContentManifestSchema,
  node_attestation: NodeAttestationSchema,
  node_report: NodeReportSchema,
  category_snapshot: CategorySnapshotSchema,
  governance_report: GovernanceReportSchema,
  erasure_group: ErasureGroupSchema,
  shard_report: ShardReportSchema,
  repair_task: RepairTaskSchema,
} as const;

export type DocumentKind = keyof typeof SCHEMAS;
export const DOCUMENT_KINDS = Object.keys(SCHEMAS) as DocumentKind[];

export type NodeManifest = Static<typeof NodeManifestSchema>;
export type ServiceManifest = Static<typeof ServiceManifestSchema>;
export type ContentManifest = Static<typeof ContentManifestSchema>;
export type NodeAttestation = Static<typeof NodeAttestationSchema>;
export type NodeReport = Static<typeof NodeReportSchema>;
export type CategorySnapshot = Static<typeof CategorySnapshotSchema>;
export type GovernanceReport = Static<typeof GovernanceReportSchema>;
export type ReportReason = (typeof REPORT_REASONS)[number];
export type GovernanceGrounds = (typeof GOVERNANCE_GROUNDS)[number];

/** Any signed document, discriminated by `kind`. */
export type ProtocolDocument =
  | NodeManifest
  | ServiceManifest
  | ContentManifest
  | NodeAttestation
  | NodeReport
  | CategorySnapshot
  | GovernanceReport
  | ErasureGroup
  | ShardReport
  | RepairTask;

/** Kinds whose documents carry `expires_at`. */
export const EXPIRING_KINDS: ReadonlySet<DocumentKind> = new Set(['node_manifest', 'service_manifest', 'node_attestation', 'repair_task']);
