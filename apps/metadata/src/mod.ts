/**
 * @dmf/metadata: the metadata node (spec 3.1, 5.3.1, 6.3, 6.4): content-manifest
 * decisions, the projection and its maintenance, the HTTP adapter.
 */
export { createMetadataProjector, purgeProjection, CONTENT_MANIFEST, METADATA_PRECHECKS } from './projector.ts';
export type { MetadataProjector, MetadataProjectorOptions, MetadataProjectorStats, RecordOutcome } from './projector.ts';
export { MetadataStore, encodeCursor, decodeCursor } from './store/metadata-store.ts';
export type { IndexPage, StoredVersion, ProjectionPosition } from './store/metadata-store.ts';
export { LeaseError, ProjectionLease } from './store/lease.ts';
export { bucketDigest, consistentDigest, rebuildMetadata, verifyMetadata, MaintenanceError } from './maintenance.ts';
export type { MaintenanceOptions, ProjectionDigest, RebuildReport, VerifyReport } from './maintenance.ts';
export { decide, checkManifestAlone } from './domain/decide.ts';
export type { ContentRecord, Decision, Effects, FingerprintClaim, ManifestHead, StateView } from './domain/decide.ts';
export { MetadataRefusal, METADATA_REFUSAL_CODES } from './domain/refusal.ts';
export type { MetadataRefusalCode } from './domain/refusal.ts';
export { DEFAULT_METADATA_LIMITS } from './domain/spam.ts';
export { countRecord, isFingerprintRefusal, NO_SIGNALS } from './domain/origin-signals.ts';
export type { CarriedRecord, OriginSignals } from './domain/origin-signals.ts';
export type { MetadataLimits } from './domain/spam.ts';
export { CreatorRate, DEFAULT_CREATOR_RATE } from './domain/creator-rate.ts';
export type { CreatorRateOptions } from './domain/creator-rate.ts';
export { normalizeLabel, labelsOf } from './domain/labels.ts';
export { cidOfBytes, EMPTY_CONTENT_CID, MAX_CHUNK_BYTES } from './domain/content-consistency.ts';
export {
  CATEGORY_SNAPSHOT,
  computeCategorySnapshot,
  latestSnapshot,
  publishCategorySnapshot,
  requestSnapshot,
  snapshotPartWrites,
  startSnapshotSchedule,
} from './snapshot.ts';
export type {
  ComputedSnapshot,
  ComputeSnapshotOptions,
  LatestSnapshot,
  PublishSnapshotOptions,
  RequestSnapshotOptions,
  SignedSnapshotPart,
  SnapshotSchedule,
  SnapshotScheduleOptions,
  SnapshotScheduleStats,
} from './snapshot.ts';
export {
  categorySummaries,
  MAX_CATEGORIES_PER_PART,
  MAX_CATEGORY_BYTES_PER_PART,
  sameCategories,
  snapshotParts,
  SnapshotError,
  SNAPSHOT_ERROR_CODES,
  supersedes,
} from './domain/snapshot.ts';
export type { CategorySummary, SnapshotErrorCode, SnapshotPartsInput, StoredSnapshotPart, UnsignedCategorySnapshot } from './domain/snapshot.ts';
export { registerMetadataRoutes, METADATA_ROUTES } from './routes.ts';
export { createManifestPublisher, ManifestPublishError } from './publish-manifest.ts';
export type { ManifestPublisher, ManifestPublisherOptions, PublishResult } from './publish-manifest.ts';
export { metadataErrorFamily, storeUnavailableFamily, isStoreUnavailable } from './problems.ts';
export { createHeadView, HeadView, openWatchBucket, WATCH_SETUP_TIMEOUT_MS, HEAD_CACHE_ENV, headCacheBytes, defaultHeadCacheBytes, manifestAnswerBytes } from './store/head-view.ts';
export type { HeadViewOptions, HeadViewStats } from './store/head-view.ts';
export { registerSnapshotRoutes, CATEGORY_SNAPSHOT_PATH } from './snapshot-routes.ts';
export { startMetadataRole, DEFAULT_SNAPSHOT_INTERVAL_MS } from './main.ts';
export type { MetadataRole, MetadataRoleOptions } from './main.ts';
export { ContentChunker, DEFAULT_CHUNK_BYTES } from './domain/chunking.ts';
export type { ContentDescription } from './domain/chunking.ts';
export { openBucket } from '@dmf/bus';
