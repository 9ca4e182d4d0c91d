/**
 * The metadata node's refusals as problems (RFC 9457, PROTOCOL.md 5): the one place
 * that maps `MetadataRefusal` and `ManifestPublishError` codes to problem types. The
 * code is the slug, verbatim (`https://dmf.cwe/problems/seq.rollback`), as libs/http
 * does for protocol codes, so a client matches one list of codes whichever layer
 * refused; `detail` is `<path>: <reason>` and `errors` is `[{ path, reason }]`.
 *
 * `metadataErrorFamily` and `storeUnavailableFamily` are for `createHttpServer({
 * errorFamilies })`; the routes also map these errors themselves (`asProblem`), so they
 * answer correctly on any server.
 */
import { defineErrorFamily, ProblemError, type ErrorFamily } from '@dmf/http';
import { MetadataRefusal, type MetadataRefusalCode } from './domain/refusal.ts';
import { ManifestPublishError, type PublishErrorCode } from './publish-manifest.ts';

/** One title per problem type, the same for every occurrence. */
const TITLES: Readonly<Record<MetadataRefusalCode | PublishErrorCode, string>> = {
  'issued_at.stale': 'Document issued too long ago',
  'seq.rollback': 'Document older than the current one',
  'manifest.owned': 'Manifest owned by another creator',
  'fingerprint.malformed': 'Malformed content identifier',
  'fingerprint.inconsistent': 'Inconsistent content description',
  'fingerprint.duplicate_upload': 'Content published first by another creator',
  'spam.rate': 'Too many publishes from one creator',
  'spam.quota_manifests': 'Manifest quota reached',
  'spam.quota_versions': 'Version quota reached',
  'spam.tags': 'Tags refused as spam',
  'spam.text': 'Text refused as spam',
  'kind.not_content_manifest': 'Not a content manifest',
  'record.invalid': 'Record refused by the projection',
  'bus.unavailable': 'Record not stored',
};

export type MetadataError = MetadataRefusal | ManifestPublishError;

export function isMetadataError(error: unknown): error is MetadataError {
  return error instanceof MetadataRefusal || error instanceof ManifestPublishError;
}

/** The problem a metadata error is answered with; `Retry-After` for `spam.rate` and `bus.unavailable`. */
export function metadataProblem(error: MetadataError): ProblemError {
  const headers: Record<string, string> = {};
  if (error instanceof MetadataRefusal && error.retryAfterSeconds !== undefined) headers['retry-after'] = String(error.retryAfterSeconds);
  if (error instanceof ManifestPublishError && error.code === 'bus.unavailable') headers['retry-after'] = '1';
  return new ProblemError({
    slug: error.code,
    status: error.status,
    title: TITLES[error.code],
    detail: `${error.path}: ${error.reason}`,
    errors: [{ path: error.path, reason: error.reason }],
    headers,
    cause: error,
  });
}

/**
 * The error a route throws: metadata errors and a store that did not answer as their
 * problem, anything else as it is. Mapped here, not only by the server's error families,
 * so that a 503 does not depend on how the server was set up (the benchmark server
 * registered only `metadataErrorFamily`, and store timeouts answered 500).
 */
export function asProblem(error: unknown): unknown {
  if (isMetadataError(error)) return metadataProblem(error);
  if (isStoreUnavailable(error)) return storeUnavailableProblem(error);
  return error;
}

export const metadataErrorFamily: ErrorFamily = defineErrorFamily({
  name: 'dmf-metadata',
  match: isMetadataError,
  toProblem: metadataProblem,
});

/**
 * nats.js (@nats-io 3.x) errors that mean "the store did not answer", not "the request
 * was wrong", by `name` (the classes live in nats-core, which this package does not
 * import). `NoRespondersError` names itself `NoResponders`; a request wraps anything but
 * a timeout in a `RequestError` whose `cause` is the error, so causes are followed too.
 */
const UNAVAILABLE_NAMES: ReadonlySet<string> = new Set([
  'TimeoutError',
  'NoRespondersError',
  'NoResponders',
  'ClosedConnectionError',
  'DrainingConnectionError',
  'RequestError',
]);
const MAX_CAUSE_DEPTH = 5;

/** Whether `error` (or an error it wraps) says the store did not answer. */
export function isStoreUnavailable(error: unknown): error is Error {
  let current: unknown = error;
  for (let depth = 0; depth <= MAX_CAUSE_DEPTH && current instanceof Error; depth++) {
    if (UNAVAILABLE_NAMES.has(current.name)) return true;
    current = current.cause;
  }
  return false;
}

/** 503 with `Retry-After`: the client did nothing wrong and may simply ask again. */
export function storeUnavailableProblem(error: Error): ProblemError {
  return new ProblemError({
    slug: 'store.unavailable',
    status: 503,
    title: 'Store unavailable',
    detail: '$: the node\'s store did not answer in time; retry shortly',
    headers: { 'retry-after': '1' },
    cause: error,
  });
}

/**
 * The node's store (NATS) did not answer a read in time: 503 with `Retry-After`, not a
 * 500. The metadata routes map it themselves (`asProblem`); the family is for other
 * routes of a server that reads the store.
 */
export const storeUnavailableFamily: ErrorFamily = defineErrorFamily({
  name: 'dmf-store-unavailable',
  match: isStoreUnavailable,
  toProblem: storeUnavailableProblem,
});
