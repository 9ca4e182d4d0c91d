/**
 * The streams, consumers and KV buckets of one operator, built as data. streams/README.md
 * explains every number chosen here.
 */
import { DefinitionError } from './errors.ts';
import {
  federatedStreamName,
  jetStreamApiPrefix,
  kindFilterSubject,
  originStreamName,
  originSubjects,
  parseOriginStreamName,
  projectionBucketName,
  projectionConsumerName,
  RECORD_LEDGER,
  validateDomain,
  validateOperator,
} from './names.ts';
import type {
  ConsumerDefinition,
  Definition,
  KvDefinition,
  KvSpec,
  StorageType,
  StreamDefinition,
  StreamSourceSpec,
} from './types.ts';

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;

/** Milliseconds to the nanoseconds JetStream configurations use. */
export function nanos(ms: number): number {
  return Math.round(ms * 1_000_000);
}

/** Sizes and windows of the ORIGIN and FEDERATED streams. */
export interface StreamLimits {
  /**
   * Largest message ORIGIN accepts, headers (Nats-Msg-Id) included. Default 513 KiB:
   * the largest document @dmf/protocol accepts (512 KiB, a content manifest of 4,096
   * chunks) plus 1 KiB for headers, so that every valid record can be published.
   */
  maxRecordBytes: number;
  /** Size of `ORIGIN_<op>`; full → publishes are refused, never old records dropped. Default 1 GiB. */
  originMaxBytes: number;
  /** Size of `FEDERATED_<op>` (own + peers' records); full → sourcing pauses. Default 4 GiB. */
  federatedMaxBytes: number;
  /** Msg-id duplicate window of ORIGIN: absorbs publish retries. Default 2 minutes. */
  duplicateWindowMs: number;
  /**
   * Msg-id duplicate window of FEDERATED. Default 100 ms, the server's minimum: FEDERATED
   * needs no dedupe (ORIGIN dedupes, projections are idempotent), and on 2.9.10 a
   * repeated msg-id inside this window stalls the source carrying it until the window
   * has passed (nats-server#4459).
   */
  federatedDuplicateWindowMs: number;
  /** Default `file`: the log must survive a restart. */
  storage: StorageType;
  /** Default 1 (one server per operator; a clustered operator raises it). */
  replicas: number;
}

export const DEFAULT_STREAM_LIMITS: Readonly<StreamLimits> = Object.freeze({
  maxRecordBytes: 513 * KiB,
  originMaxBytes: 1 * GiB,
  federatedMaxBytes: 4 * GiB,
  duplicateWindowMs: 2 * 60_000,
  federatedDuplicateWindowMs: 100,
  storage: 'file',
  replicas: 1,
});

/** How a projection's durable consumer treats messages. */
export interface ConsumerTuning {
  /** Time a worker has to acknowledge before the message goes to another. Default 30 s. */
  ackWaitMs: number;
  /**
   * Deliveries a message gets before the consumer group terminates it. Default 5. The
   * consumer's server-side `max_deliver` is one more: on that extra delivery the group
   * terminates and reports the message without running the handler, so a message whose
   * handler crashed or hung its worker on the last delivery is not dropped silently.
   */
  maxDeliver: number;
  /** Unacked messages across all workers; keep well above workers × batch. Default 1024. */
  maxAckPending: number;
  /** Waiting pull requests (one per worker process). Default 512. */
  maxWaiting: number;
}

export const DEFAULT_CONSUMER_TUNING: Readonly<ConsumerTuning> = Object.freeze({
  ackWaitMs: 30_000,
  maxDeliver: 5,
  maxAckPending: 1024,
  maxWaiting: 512,
});

/** A peer whose ORIGIN this operator's FEDERATED stream sources. */
export interface FederationPeer {
  operator: string;
  /** The peer's JetStream domain. Default: its operator token. */
  domain?: string;
}

function limitsWith(overrides: Partial<StreamLimits> | undefined): StreamLimits {
  const limits = { ...DEFAULT_STREAM_LIMITS, ...overrides };
  for (const field of ['maxRecordBytes', 'originMaxBytes', 'federatedMaxBytes', 'duplicateWindowMs', 'federatedDuplicateWindowMs', 'replicas'] as const) {
    const value = limits[field];
    if (!Number.isSafeInteger(value) || value <= 0) {
      throw new DefinitionError('limits.invalid', `limits.${field}: ${String(value)} must be a positive integer`);
    }
  }
  for (const field of ['duplicateWindowMs', 'federatedDuplicateWindowMs'] as const) {
    if (limits[field] < 100) {
      throw new DefinitionError('limits.invalid', `limits.${field}: ${limits[field]} ms is below the server's minimum of 100 ms`);
    }
  }
  if (limits.storage !== 'file' && limits.storage !== 'memory') {
    throw new DefinitionError('limits.invalid', `limits.storage: ${JSON.stringify(limits.storage)} must be "file" or "memory"`);
  }
  return limits;
}

function tuningWith(overrides: Partial<ConsumerTuning> | undefined): ConsumerTuning {
  const tuning = { ...DEFAULT_CONSUMER_TUNING, ...overrides };
  for (const field of ['ackWaitMs', 'maxDeliver', 'maxAckPending', 'maxWaiting'] as const) {
    const value = tuning[field];
    if (!Number.isSafeInteger(value) || value <= 0) {
      throw new DefinitionError('limits.invalid', `consumer.${field}: ${String(value)} must be a positive integer`);
    }
  }
  return tuning;
}

/** `ORIGIN_<op>`: the only stream records enter by publish, on `dmf.origin.<op>.>`. */
export function originStream(operator: string, limits?: Partial<StreamLimits>): StreamDefinition {
  const l = limitsWith(limits);
  const name = originStreamName(operator);
  return {
    kind: 'stream',
    name,
    config: {
      name,
      description: `DMF records published at operator ${operator}`,
      subjects: [originSubjects(operator)],
      sources: [],
      retention: 'limits',
      storage: l.storage,
      // A full log refuses new records (the publisher sees an error) rather than
      // silently dropping the oldest: projections are rebuilt by replay from seq 1.
      discard: 'new',
      max_msgs: -1,
      max_bytes: l.originMaxBytes,
      max_age: 0,
      max_msg_size: l.maxRecordBytes,
      max_msgs_per_subject: -1,
      duplicate_window: nanos(l.duplicateWindowMs),
      num_replicas: l.replicas,
      // A Nats-Rollup header would erase every record of a kind: never allowed.
      allow_rollup_hdrs: false,
      // Deleting stays possible: an operator must be able to remove unlawful content.
      deny_delete: false,
      deny_purge: false,
    },
  };
}

/**
 * The sources of `FEDERATED_<op>`: own ORIGIN first, then each peer's, by operator token.
 * Each source is filtered to its operator's own subjects: a peer controls its ORIGIN
 * stream and could bind other operators' subjects there; the filter keeps those out
 * (they would be charged to the wrong operator, and a msg-id arriving by two sources
 * stalls one of them on 2.9.10, nats-server#4459).
 */
export function federatedSources(operator: string, peers: readonly FederationPeer[], localDomain?: string): StreamSourceSpec[] {
  validateOperator(operator);
  const domain = validateDomain(localDomain ?? operator, 'domain');
  const seen = new Set<string>([operator]);
  const sorted = peers
    .map((peer, index) => ({ peer, index }))
    .sort((a, b) => (a.peer.operator < b.peer.operator ? -1 : a.peer.operator > b.peer.operator ? 1 : 0));
  const sources: StreamSourceSpec[] = [{ name: originStreamName(operator), filter_subject: originSubjects(operator) }];
  for (const { peer, index: i } of sorted) {
    validateOperator(peer.operator, `peers[${i}].operator`);
    if (seen.has(peer.operator)) {
      throw new DefinitionError(
        'peers.invalid',
        `peers[${i}].operator: ${peer.operator} appears twice or is the operator itself; a FEDERATED stream sources each ORIGIN once (nats-server#4459)`,
      );
    }
    seen.add(peer.operator);
    const peerDomain = validateDomain(peer.domain ?? peer.operator, `peers[${i}].domain`);
    const source: StreamSourceSpec = { name: originStreamName(peer.operator), filter_subject: originSubjects(peer.operator) };
    sources.push(peerDomain === domain ? source : { ...source, external: { api: jetStreamApiPrefix(peerDomain), deliver: '' } });
  }
  return sources;
}

/**
 * The peers a FEDERATED stream's sources name (the inverse of federatedSources): its
 * ORIGIN sources other than the operator's own, with their domain (`localDomain` for a
 * source without `external`). Sources that are not ORIGIN streams are left out.
 */
export function peersOfSources(operator: string, sources: readonly { name: string; external?: { api?: string } }[], localDomain: string = operator): Required<FederationPeer>[] {
  const peers: Required<FederationPeer>[] = [];
  for (const source of sources) {
    const peer = parseOriginStreamName(source.name);
    if (peer === undefined || peer === operator) continue;
    const api = source.external?.api;
    const domain = api === undefined ? localDomain : /^\$JS\.([^.]+)\.API$/.exec(api)?.[1];
    if (domain !== undefined) peers.push({ operator: peer, domain });
  }
  return peers;
}

/** `FEDERATED_<op>`: no subjects of its own; sources own ORIGIN and each peer's ORIGIN directly. */
export function federatedStream(
  operator: string,
  peers: readonly FederationPeer[],
  options: { domain?: string; limits?: Partial<StreamLimits> } = {},
): StreamDefinition {
  const l = limitsWith(options.limits);
  const name = federatedStreamName(operator);
  return {
    kind: 'stream',
    name,
    config: {
      name,
      description: `DMF records projected at operator ${operator}: its own and its peers'`,
      subjects: [],
      sources: federatedSources(operator, peers, options.domain),
      retention: 'limits',
      storage: l.storage,
      discard: 'new',
      max_msgs: -1,
      max_bytes: l.federatedMaxBytes,
      max_age: 0,
      // Unlimited here: the limit counts headers, and a sourced message carries one more
      // (Nats-Stream-Source); a message this stream refused would stall its source.
      // Records are bounded where they enter (ORIGIN) and re-checked by projectors.
      max_msg_size: -1,
      max_msgs_per_subject: -1,
      duplicate_window: nanos(l.federatedDuplicateWindowMs),
      num_replicas: l.replicas,
      allow_rollup_hdrs: false,
      deny_delete: false,
      deny_purge: false,
    },
  };
}

/** The durable pull consumer of `projection` on `FEDERATED_<op>`, optionally for one kind. */
export function projectionConsumer(
  operator: string,
  projection: string,
  options: { kind?: string; tuning?: Partial<ConsumerTuning> } = {},
): ConsumerDefinition {
  const t = tuningWith(options.tuning);
  const name = projectionConsumerName(projection);
  return {
    kind: 'consumer',
    stream: federatedStreamName(operator),
    name,
    config: {
      durable_name: name,
      description: `DMF projection ${projection}`,
      ack_policy: 'explicit',
      deliver_policy: 'all',
      replay_policy: 'instant',
      ack_wait: nanos(t.ackWaitMs),
      // One delivery beyond the group's limit: the backstop on which the group reports it.
      max_deliver: t.maxDeliver + 1,
      max_ack_pending: t.maxAckPending,
      max_waiting: t.maxWaiting,
      ...(options.kind === undefined ? {} : { filter_subject: kindFilterSubject(options.kind) }),
    },
  };
}

/** The KV bucket of `projection` at `operator`. */
export function projectionBucket(operator: string, projection: string, spec: Partial<KvSpec> = {}): KvDefinition {
  const name = projectionBucketName(projection, operator);
  return {
    kind: 'kv',
    name,
    config: {
      description: `DMF projection ${projection}`,
      history: 1,
      max_bytes: 1 * GiB,
      max_value_size: 1 * KiB,
      storage: 'file',
      max_age: 0,
      ...spec,
    },
  };
}

/** Record ledger: record id → { kind, first_origin }, one entry per record ever seen. */
export function recordLedgerBucket(operator: string): KvDefinition {
  return projectionBucket(operator, RECORD_LEDGER, { description: 'DMF record ledger: record id -> kind, first origin' });
}

export function recordLedgerConsumer(operator: string, tuning?: Partial<ConsumerTuning>): ConsumerDefinition {
  return projectionConsumer(operator, RECORD_LEDGER, { tuning });
}

/** The metadata projection (apps/metadata): manifest heads, versions, claims, indices. */
export const METADATA = 'metadata';

/**
 * The metadata projection's bucket. Values hold signed records (up to 512 KiB) plus the
 * projection's fields around them, so the value limit is above the document limit.
 */
export function metadataBucket(operator: string, spec: Partial<KvSpec> = {}): KvDefinition {
  return projectionBucket(operator, METADATA, {
    description: 'DMF metadata projection: content manifests, versions, fingerprint claims, creator and label indices',
    max_value_size: 640 * KiB,
    // Twice FEDERATED: a head holds its record, and an earlier version is kept under its seq.
    max_bytes: 8 * GiB,
    ...spec,
  });
}

/** The storage projection (apps/storage-coordinator): each chunk's status, for `GET /chunk_status`. */
export const STORAGE = 'storage';

/** The storage projection's bucket: `chunk.<cid>` → the chunk's status (JSON; at most 255 shards). */
export function storageBucket(operator: string, spec: Partial<KvSpec> = {}): KvDefinition {
  return projectionBucket(operator, STORAGE, {
    description: 'DMF storage projection: chunk status (erasure group, health, shards)',
    max_value_size: 64 * KiB,
    max_bytes: 4 * GiB,
    ...spec,
  });
}

export interface DefinitionsForOptions {
  /** This operator's token. */
  operator: string;
  /** This operator's JetStream domain. Default: the operator token. */
  domain?: string;
  /** Admitted, non-quarantined peers whose ORIGIN streams FEDERATED sources. */
  peers: readonly FederationPeer[];
  /** Stream sizes and windows. Default `DEFAULT_STREAM_LIMITS`. */
  limits?: Partial<StreamLimits>;
  /** Tuning of every projection consumer. Default `DEFAULT_CONSUMER_TUNING`. */
  consumers?: Partial<ConsumerTuning>;
}

/**
 * Everything one operator's server needs, in apply order: streams, then KV buckets,
 * then the consumers on the streams.
 */
export function definitionsFor(options: DefinitionsForOptions): Definition[] {
  const { operator, peers } = options;
  validateOperator(operator);
  return [
    originStream(operator, options.limits),
    federatedStream(operator, peers, { domain: options.domain, limits: options.limits }),
    recordLedgerBucket(operator),
    metadataBucket(operator),
    storageBucket(operator),
    recordLedgerConsumer(operator, options.consumers),
  ];
}
