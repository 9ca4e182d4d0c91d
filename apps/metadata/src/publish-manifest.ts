/**
 * Publishing a content manifest (spec 3.1, 6.3, 6.4), without HTTP: what
 * `POST /publish_manifest` does with the bytes it receives. The checks run in the order
 * the issue lists them, and the first that fails is the answer, each with its own code:
 *
 * 1. JSON and size, the kind (`kind.not_content_manifest` for another known kind),
 *    schema, signature and signer rule (`@dmf/protocol`, freshness left out here);
 * 2. `issued_at`: not in the future (`issued_at.future`, protocol), not older than
 *    `maxPastSkewMs` (`issued_at.stale`: a fresh publish signs now, so an old record
 *    arriving here is a replay);
 * 3. rollback, ownership, fingerprint consistency, duplicate upload (domain/decide.ts,
 *    the projector's own rules, run on the projection as it stands);
 * 4. metadata spam: the creator's publish rate (`spam.rate`, ./domain/creator-rate.ts),
 *    then text, tag and quota rules (decide.ts).
 *
 * The same record again (already accepted) gets the same answer at once, before the
 * freshness and rate checks: requests are idempotent (spec 5.2), a retry costs the
 * creator nothing, and nothing is published twice.
 *
 * An accepted record is published to the operator's ORIGIN (its msg-id makes a repeated
 * publish within the duplicate window a no-op), and the answer waits, up to
 * `decisionWaitMs`, for the projector to apply it: the projector decides from the log in
 * order, so a concurrent publish from another process may have won a race the check
 * above could not see.
 */
import type { JetStreamClient } from '@nats-io/jetstream';
import { KeyedLock, PublishError, publishRecord } from '@dmf/bus';
import {
  canonicalBytes,
  checkFreshness,
  documentKind,
  MAX_DOCUMENT_BYTES,
  parseJson,
  verifyDocument,
  type ContentManifest,
} from '@dmf/protocol';
import { CreatorRate } from './domain/creator-rate.ts';
import { decide, type ContentRecord, type StateView } from './domain/decide.ts';
import { METADATA_REFUSAL_CODES, MetadataRefusal, type MetadataRefusalCode } from './domain/refusal.ts';
import { DEFAULT_METADATA_LIMITS, type MetadataLimits } from './domain/spam.ts';
import { CONTENT_MANIFEST, type MetadataProjector, type RecordOutcome } from './projector.ts';
import type { MetadataStore } from './store/metadata-store.ts';

/** How far in the past `issued_at` may lie by default: 15 minutes. */
export const DEFAULT_MAX_PAST_SKEW_MS = 15 * 60 * 1000;
/** How long an answer waits for the projector by default before it says 202. */
export const DEFAULT_DECISION_WAIT_MS = 3000;

/** Failures of the publish path that are neither protocol errors nor metadata refusals. */
export const PUBLISH_ERROR_CODES = {
  /** A valid document of another kind: this endpoint takes content manifests only. */
  'kind.not_content_manifest': 422,
  /** The projector found the record invalid after the adapter had checked it (should not happen). */
  'record.invalid': 422,
  /** The bus did not store the record; the client may retry. */
  'bus.unavailable': 503,
} as const;

export type PublishErrorCode = keyof typeof PUBLISH_ERROR_CODES;

export class ManifestPublishError extends Error {
  readonly code: PublishErrorCode;
  /** JSON path of the member at fault (`$` for the whole record). */
  readonly path: string;
  readonly reason: string;
  /** HTTP status the adapter answers with. */
  readonly status: number;

  constructor(code: PublishErrorCode, path: string, reason: string, options: { cause?: unknown } = {}) {
    super(`${code}: ${path}: ${reason}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ManifestPublishError';
    this.code = code;
    this.path = path;
    this.reason = reason;
    this.status = PUBLISH_ERROR_CODES[code];
  }
}

export interface PublishResult {
  /** Record id of the published manifest. */
  id: string;
  manifest_id: string;
  seq: number;
  /** `projected`: readable at `location` now; `accepted`: in the log, not projected yet. */
  status: 'projected' | 'accepted';
  /** Where to read this version: `/manifest/<manifest_id>?seq=<seq>`. */
  location: string;
}

export interface ManifestPublisherOptions {
  js: JetStreamClient;
  /** The operator whose ORIGIN receives the records. */
  operator: string;
  /** The projection the checks read. */
  store: MetadataStore;
  /** The projector to wait for; without one, accepted records are answered 202 at once. */
  projector?: MetadataProjector;
  /** Quotas; must equal the projector's. Default DEFAULT_METADATA_LIMITS. */
  limits?: Partial<MetadataLimits>;
  /** Per-creator publish rate. Default: a `CreatorRate` with its defaults. */
  creatorRate?: CreatorRate;
  /** Largest age of `issued_at`, milliseconds. Default 15 minutes. */
  maxPastSkewMs?: number;
  /** Longest wait for the projector's decision, milliseconds. Default 3000. */
  decisionWaitMs?: number;
  /** The clock (freshness and rate). Default: the current time. */
  now?: () => Date;
}

export interface ManifestPublisher {
  /**
   * Checks and publishes a signed content manifest (the request body, as received).
   * Throws `ProtocolError` (malformed, unsigned, future), `MetadataRefusal` (stale,
   * rollback, ownership, fingerprint, duplicate upload, spam) or `ManifestPublishError`.
   */
  publish(bytes: Uint8Array): Promise<PublishResult>;
  /** Stops listening to the projector. Safe twice. */
  close(): void;
}

/** Where a version can be read. */
export function manifestLocation(manifestId: string, seq: number): string {
  return `/manifest/${manifestId}?seq=${seq}`;
}

/** The projection's reads as the state a decision needs. */
function storeView(store: MetadataStore): StateView {
  return {
    head: (manifestId) => store.head(manifestId),
    versionRecordId: async (manifestId, seq) => (await store.version(manifestId, seq))?.record_id,
    fingerprintClaim: (fingerprint) => store.fingerprintClaim(fingerprint),
    creatorManifests: (creator) => store.creatorManifests(creator),
  };
}

/** JSON, size, kind, schema, signature and signer: a verified content manifest, or the error naming the first broken rule. */
export function verifyContentManifest(bytes: Uint8Array): ContentRecord {
  const value = parseJson(bytes, { maxBytes: MAX_DOCUMENT_BYTES });
  const kind = documentKind(value);
  if (kind !== CONTENT_MANIFEST) {
    throw new ManifestPublishError('kind.not_content_manifest', '$.kind', `is ${JSON.stringify(kind)}; this endpoint publishes content manifests`);
  }
  // Freshness is checked by the caller, after the signature: a forged record is reported as forged, whatever its date.
  const verified = verifyDocument(value, { freshness: false });
  return { id: verified.id, document: verified.document as ContentManifest };
}

/** Rules decide.ts applies after the duplicate-upload check: the creator's rate is checked before them. */
function isSpamRule(code: MetadataRefusalCode): boolean {
  return code.startsWith('spam.');
}

/** Waits for the projector's outcome of given record ids. One listener for all waiters. */
class OutcomeWaiters {
  readonly #waiting = new Map<string, Set<(outcome: RecordOutcome) => void>>();
  readonly #stop: () => void;

  constructor(projector: MetadataProjector) {
    this.#stop = projector.onRecord((recordId, outcome) => {
      for (const deliver of this.#waiting.get(recordId) ?? []) deliver(outcome);
    });
  }

  /** Starts listening for `recordId` now; `next(ms)` resolves with its outcome, or undefined after `ms`. */
  watch(recordId: string): { next: (ms: number) => Promise<RecordOutcome | undefined>; stop: () => void } {
    let seen: RecordOutcome | undefined;
    let wake: ((outcome: RecordOutcome | undefined) => void) | undefined;
    const deliver = (outcome: RecordOutcome) => {
      seen ??= outcome;
      wake?.(seen);
    };
    const set = this.#waiting.get(recordId) ?? new Set();
    set.add(deliver);
    this.#waiting.set(recordId, set);
    const stop = () => {
      set.delete(deliver);
      if (set.size === 0 && this.#waiting.get(recordId) === set) this.#waiting.delete(recordId);
    };
    const next = (ms: number) =>
      seen
        ? Promise.resolve(seen)
        : new Promise<RecordOutcome | undefined>((resolve) => {
            const timer = setTimeout(() => resolve(undefined), ms);
            wake = (outcome) => {
              clearTimeout(timer);
              resolve(outcome);
            };
          });
    return { next, stop };
  }

  close(): void {
    this.#stop();
    this.#waiting.clear();
  }
}

const NO_WATCH = { next: async () => undefined, stop: () => undefined };

export function createManifestPublisher(options: ManifestPublisherOptions): ManifestPublisher {
  const o = { ...options };
  const limits: MetadataLimits = { ...DEFAULT_METADATA_LIMITS, ...o.limits };
  const creatorRate = o.creatorRate ?? new CreatorRate();
  const maxPastSkewMs = o.maxPastSkewMs ?? DEFAULT_MAX_PAST_SKEW_MS;
  const decisionWaitMs = o.decisionWaitMs ?? DEFAULT_DECISION_WAIT_MS;
  const now = o.now ?? (() => new Date());
  const view = storeView(o.store);
  const waiters = o.projector ? new OutcomeWaiters(o.projector) : undefined;
  // Two versions of one manifest posted at once to this process must not both pass the
  // rollback check against the same head: one manifest_id is checked, published and
  // waited for at a time. Across processes (or when the projector is slow) the
  // projector decides, in log order, and the loser hears its refusal or a 202.
  const lock = new KeyedLock();

  const answer = (record: ContentRecord, status: PublishResult['status']): PublishResult => ({
    id: record.id,
    manifest_id: record.document.manifest_id,
    seq: record.document.seq,
    status,
    location: manifestLocation(record.document.manifest_id, record.document.seq),
  });

  function checkNotStale(m: ContentManifest, at: Date): void {
    if (Date.parse(m.issued_at) < at.getTime() - maxPastSkewMs) {
      throw new MetadataRefusal(
        'issued_at.stale',
        '$.issued_at',
        `issued more than ${Math.round(maxPastSkewMs / 60_000)} minutes before now (${at.toISOString()}); sign it again to publish it`,
      );
    }
  }

  async function publishChecked(record: ContentRecord): Promise<void> {
    try {
      await publishRecord(o.js, { operator: o.operator, kind: CONTENT_MANIFEST, id: record.id, bytes: canonicalBytes(record.document) });
    } catch (error) {
      if (error instanceof PublishError) throw new ManifestPublishError('bus.unavailable', '$', 'the record could not be stored; try again', { cause: error });
      throw error;
    }
  }

  function fromOutcome(record: ContentRecord, outcome: RecordOutcome | undefined): PublishResult {
    if (outcome === undefined) return answer(record, 'accepted');
    switch (outcome.outcome) {
      case 'accepted':
      case 'duplicate':
        return answer(record, 'projected');
      case 'refused':
        if (Object.hasOwn(METADATA_REFUSAL_CODES, outcome.code)) {
          throw new MetadataRefusal(outcome.code as MetadataRefusalCode, outcome.path, outcome.reason);
        }
        throw new ManifestPublishError('record.invalid', outcome.path, `${outcome.code}: ${outcome.reason}`);
      case 'invalid':
        throw new ManifestPublishError('record.invalid', '$', `the projector refused the record (${outcome.reason})`);
    }
  }

  return {
    async publish(bytes) {
      const record = verifyContentManifest(bytes);
      const m = record.document;
      return lock.run(m.manifest_id, async () => {
        // Listen before reading the state, so a decision taken after the read is not missed.
        const watch = waiters?.watch(record.id) ?? NO_WATCH;
        try {
          const decision = await decide(view, record, limits);
          if (decision.outcome === 'duplicate') return answer(record, 'projected');
          const at = now();
          checkFreshness(m, at);
          checkNotStale(m, at);
          if (decision.outcome === 'refused' && !isSpamRule(decision.refusal.code)) throw decision.refusal;
          const retryAfterSeconds = creatorRate.take(m.creator, at.getTime());
          if (retryAfterSeconds > 0) {
            throw new MetadataRefusal('spam.rate', '$.creator', `publishes too often; retry in ${retryAfterSeconds} s`, { retryAfterSeconds });
          }
          if (decision.outcome === 'refused') throw decision.refusal;
          await publishChecked(record);
          if (!o.projector) return answer(record, 'accepted');
          return fromOutcome(record, await watch.next(decisionWaitMs));
        } finally {
          watch.stop();
        }
      });
    },
    close() {
      waiters?.close();
    },
  };
}
