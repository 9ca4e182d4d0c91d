export { applyDefinitions, type ApplyAction, type ApplyReportEntry } from './reconcile/apply.ts';
export { describeDifferences, diffConsumer, diffKv, diffStream, normaliseField } from './reconcile/compare.ts';
export {
  createConsumerGroup,
  type ConsumerGroup,
  type ConsumerGroupOptions,
  type ConsumerGroupStats,
  type GroupMessage,
  type Termination,
} from './consumer-group.ts';
export {
  ConsumerGroupError,
  PermanentError,
  PublishError,
  ReconcileError,
  type ConsumerGroupErrorCode,
  type FieldDifference,
  type PublishErrorCode,
  type ReconcileErrorCode,
} from './errors.ts';
export {
  publishRecord,
  publishRecords,
  type BulkPublishOptions,
  type PublishedRecord,
  type PublishOptions,
  type RecordToPublish,
} from './publish.ts';
export {
  createRecordLedger,
  ledgerDigest,
  readLedger,
  type LedgerEntry,
  type RecordLedger,
  type RecordLedgerOptions,
  type RecordLedgerStats,
} from './record-ledger.ts';
export { parseStreamSource, sourceOperatorOf, STREAM_SOURCE_HEADER } from './stream-source.ts';
export { checkEnvelope, checkVerifiedEnvelope, type EnvelopeCheck, type RecordEnvelope } from './record-envelope.ts';
export { OrderedFeed, type OrderedFeedOptions } from './ordered-feed.ts';
export { KeyedLock } from './keyed-lock.ts';
export { openBucket } from './open-bucket.ts';
export { checkRecordMessage, FederatedReader, type CheckedRecord, type CheckRecordOptions, type FederatedReaderOptions } from './federated-reader.ts';
