/**
 * Categorisation snapshots (spec 3.1): compute them from the metadata projection, sign
 * and publish them, on a schedule and on request, and read the ones the projection
 * stored (the projector stores every node's, its own and its peers', under `snap.…`).
 *
 * A snapshot is taken at one position of the log: the heads are read while the
 * projector does not move, either between two of its batches (`projector.exclusive`)
 * or, when it runs elsewhere, by reading `_pos` before and after and trying again if it
 * moved. Two nodes that applied the same records compute the same categories, counts
 * and roots (domain/snapshot.ts), whatever their stream sequences.
 *
 * Requests: `requestSnapshot` puts `_snapshot` in the bucket; the running schedule
 * watches that key (as the projector watches `_rebuild`), publishes, then purges it.
 */
import { openBucket, publishRecord } from '@dmf/bus';
import { DeliverPolicy, type JetStreamClient } from '@nats-io/jetstream';
import { KvWatchInclude, type KV } from '@nats-io/kv';
import type { Logger } from 'pino';
import { pino } from 'pino';
import { canonicalBytes, signRecord, type CategorySnapshot, type SigningKey } from '@dmf/protocol';
import { federatedStreamName, kvStreamName, METADATA } from '@dmf/streams';
import type { ManifestHead } from './domain/decide.ts';
import { didKeyToken, KEYS } from './domain/keys.ts';
import {
  categorySummaries,
  sameCategories,
  snapshotParts,
  SnapshotError,
  supersedes,
  type CategorySummary,
  type StoredSnapshotPart,
} from './domain/snapshot.ts';
import { decodeEntry, decodeJson, encodeJson } from './store/codec.ts';
import { LEASE_STALE_MS } from './store/lease.ts';
import type { MetadataStore } from './store/metadata-store.ts';
import type { MetadataProjector } from './projector.ts';

export const CATEGORY_SNAPSHOT = 'category_snapshot';

/** The categories of a projection at one position. */
export interface ComputedSnapshot {
  /** Last FEDERATED sequence the projection had applied. */
  position: number;
  categories: CategorySummary[];
}

/** A signed part, as published: its record id, document and canonical bytes. */
export interface SignedSnapshotPart {
  id: string;
  document: CategorySnapshot;
  bytes: Uint8Array;
}

/** The newest snapshot of a node and stream that the projection holds. */
export interface LatestSnapshot {
  node: string;
  stream: string;
  seq: number;
  last_seq: number;
  /** The parts stored for `seq`, by part number. */
  parts: StoredSnapshotPart[];
  /** Every part 1 … parts of `seq` is stored. */
  complete: boolean;
  /** The parts' categories, in order (all of them when `complete`). */
  categories: CategorySummary[];
}

/** The current version of every manifest: record id and normalised category, from the `man.*` heads. */
async function scanHeads(js: JetStreamClient, bucket: string): Promise<{ category: string; record_id: string }[]> {
  const prefix = `$KV.${bucket}.`;
  const consumer = await js.consumers.get(kvStreamName(bucket), {
    deliver_policy: DeliverPolicy.LastPerSubject,
    filter_subjects: `${prefix}${KEYS.head('*')}`,
  });
  // The consumer exists now; with nothing to deliver, consuming would wait for news.
  if ((await consumer.info(true)).num_pending === 0) {
    await consumer.delete().catch(() => undefined);
    return [];
  }
  // Keyed, because a head rewritten during the read arrives twice (old, then new).
  const heads = new Map<string, { category: string; record_id: string }>();
  const messages = await consumer.consume({ max_messages: 4096 });
  try {
    for await (const m of messages) {
      const operation = m.headers?.get('KV-Operation');
      if (operation === 'DEL' || operation === 'PURGE') heads.delete(m.subject);
      else {
        const head = decodeJson<Pick<ManifestHead, 'category' | 'record_id'>>(m.data);
        heads.set(m.subject, { category: head.category, record_id: head.record_id });
      }
      if (m.info.pending === 0) break;
    }
  } finally {
    await messages.close().catch(() => undefined);
  }
  return [...heads.values()];
}

async function positionEntry(kv: KV): Promise<{ seq: number; revision: number }> {
  const entry = await kv.get(KEYS.position);
  return { seq: decodeEntry<{ seq: number }>(entry)?.seq ?? 0, revision: entry?.revision ?? 0 };
}

export interface ComputeSnapshotOptions {
  /** The projector writing the bucket, when it runs in this process: the read happens between two of its batches. */
  projector?: MetadataProjector;
  /** Reads to try while the projection moves (no projector given). Default 5. */
  attempts?: number;
}

/**
 * Per category, count and Merkle root of the projection's current versions, with the
 * position they were read at.
 *
 * @throws SnapshotError `projection.busy` when the projection moved during every attempt
 *   (no projector given); `category.too_long`, `record_id.invalid` from the domain.
 */
export async function computeCategorySnapshot(js: JetStreamClient, bucket: string, options: ComputeSnapshotOptions = {}): Promise<ComputedSnapshot> {
  const { projector } = options;
  if (projector) return projector.exclusive(async (position) => ({ position, categories: categorySummaries(await scanHeads(js, bucket)) }));
  const kv = await openBucket(js, bucket);
  const attempts = options.attempts ?? 5;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const before = await positionEntry(kv);
    const heads = await scanHeads(js, bucket);
    const after = await positionEntry(kv);
    if (before.revision === after.revision) return { position: before.seq, categories: categorySummaries(heads) };
    await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
  }
  throw new SnapshotError('projection.busy', bucket, `the projection kept changing while it was read (${attempts} attempts); run the snapshot in the projector's process, or when ingest is quieter`);
}

/**
 * The newest snapshot of `node` the projection holds: of `stream`, or when none is given,
 * of the stream its most recently issued snapshot covers. Undefined when it holds none.
 */
export async function latestSnapshot(store: Pick<MetadataStore, 'kv'>, node: string, stream?: string): Promise<LatestSnapshot | undefined> {
  const keys: string[] = [];
  for await (const key of await store.kv.keys(`${KEYS.snapshot(node)}.>`)) keys.push(key);
  const stored = (await Promise.all(keys.map(async (key) => decodeEntry<StoredSnapshotPart>(await store.kv.get(key))))).filter(
    (s): s is StoredSnapshotPart => s !== undefined && (stream === undefined || s.record.stream === stream),
  );
  if (stored.length === 0) return undefined;
  const issued = (s: StoredSnapshotPart) => Date.parse(s.record.issued_at);
  const newest = stored.reduce((a, b) => (issued(b) > issued(a) || (issued(b) === issued(a) && b.seq > a.seq) ? b : a));
  const ofStream = stored.filter((s) => s.record.stream === newest.record.stream);
  const seq = Math.max(...ofStream.map((s) => s.seq));
  const parts = ofStream.filter((s) => s.seq === seq).sort((a, b) => a.record.part - b.record.part);
  const first = parts[0] as StoredSnapshotPart;
  return {
    node,
    stream: first.record.stream,
    seq,
    last_seq: first.record.last_seq,
    parts,
    complete: parts.length === first.record.parts && parts.every((p, i) => p.record.part === i + 1),
    categories: parts.flatMap((p) => p.record.categories),
  };
}

/**
 * For the projector: the snapshot parts of one batch that replace what the bucket holds
 * under their keys (domain `supersedes`: not a lower `seq`), applied in log order, with
 * the value to write under each key.
 */
export async function snapshotPartWrites(kv: KV, records: readonly { id: string; document: CategorySnapshot }[]): Promise<Map<string, StoredSnapshotPart>> {
  const writes = new Map<string, StoredSnapshotPart>();
  for (const { id, document } of records) {
    const key = KEYS.snapshotPart(document.node, document.stream, document.part);
    const stored = writes.get(key) ?? decodeEntry<StoredSnapshotPart>(await kv.get(key));
    if (supersedes(stored, document)) writes.set(key, { seq: document.seq, record_id: id, record: document });
  }
  return writes;
}

/** Signs the parts of a computed snapshot and publishes them, in order, to the operator's ORIGIN. */
async function signAndPublish(
  js: JetStreamClient,
  operator: string,
  key: SigningKey,
  computed: ComputedSnapshot,
  seq: number,
  now: Date,
): Promise<SignedSnapshotPart[]> {
  const unsigned = snapshotParts({ node: key.did, stream: federatedStreamName(operator), last_seq: computed.position, seq, categories: computed.categories });
  // Signed before anything is published: a part the schema refuses stops the snapshot whole.
  const signed = unsigned.map((document) => {
    const record = signRecord(document, key, { now });
    const part = record.document as CategorySnapshot;
    return { id: record.id, document: part, bytes: canonicalBytes(part) };
  });
  for (const part of signed) await publishRecord(js, { operator, kind: CATEGORY_SNAPSHOT, id: part.id, bytes: part.bytes });
  return signed;
}

export interface PublishSnapshotOptions {
  js: JetStreamClient;
  /** This node's operator: the snapshot covers `FEDERATED_<operator>` and goes to its ORIGIN. */
  operator: string;
  /** The node's signing key; its did:key is the snapshot's `node`. */
  key: SigningKey;
  store: MetadataStore;
  /** The projector writing `store`, when it runs in this process (see computeCategorySnapshot). */
  projector?: MetadataProjector;
  /** `issued_at`. Default: now. */
  now?: Date;
  /** `seq`. Default: one above the newest snapshot of this node and stream in the projection. */
  seq?: number;
}

/** Computes, signs and publishes a snapshot of the projection; returns its signed parts. */
export async function publishCategorySnapshot(options: PublishSnapshotOptions): Promise<SignedSnapshotPart[]> {
  const o = { ...options };
  const computed = await computeCategorySnapshot(o.js, o.store.bucket, { projector: o.projector });
  const seq = o.seq ?? ((await latestSnapshot(o.store, o.key.did, federatedStreamName(o.operator)))?.seq ?? 0) + 1;
  return signAndPublish(o.js, o.operator, o.key, computed, seq, o.now ?? new Date());
}

export interface SnapshotScheduleOptions {
  js: JetStreamClient;
  operator: string;
  /** The node's signing key. */
  key: SigningKey;
  store: MetadataStore;
  /** The projector writing `store`, when it runs in this process. */
  projector?: MetadataProjector;
  /** Time between scheduled snapshots; 0 publishes on request only. */
  intervalMs: number;
  /** Clock for `issued_at`. Default: the system clock. */
  now?: () => Date;
  logger?: Logger;
}

export interface SnapshotScheduleStats {
  /** Scheduled runs and requests handled. */
  runs: number;
  published: number;
  /** Scheduled runs that found the projection as the last snapshot described it. */
  unchanged: number;
  failures: number;
  /** `seq` of the last snapshot this schedule published (0: none yet). */
  lastSeq: number;
}

export interface SnapshotSchedule {
  stats(): SnapshotScheduleStats;
  /** Finishes a run under way, then stops timer and watch. Safe twice. */
  close(): Promise<void>;
}

/** What the schedule knows of the node's newest snapshot. */
interface LastSnapshot {
  seq: number;
  last_seq: number;
  categories: CategorySummary[];
}

/**
 * Publishes a snapshot every `intervalMs` when the projection changed since the last one,
 * and on every request (`_snapshot` put in the bucket), changed or not.
 *
 * "Changed" is decided in two steps. The position first: the same position as the last
 * snapshot (or as the last run that found nothing new) means nothing was applied. A moved
 * position is not enough, because the node's own snapshot records, and its peers', move
 * it too; so the categories are computed and compared with the last snapshot's, and only
 * different ones are published.
 */
export async function startSnapshotSchedule(options: SnapshotScheduleOptions): Promise<SnapshotSchedule> {
  const o = { ...options };
  const log = (o.logger ?? pino({ level: 'info' })).child({ sub: 'category-snapshots', operator: o.operator });
  const kv = o.store.kv;
  const stream = federatedStreamName(o.operator);
  const clock = o.now ?? (() => new Date());
  const stats: SnapshotScheduleStats = { runs: 0, published: 0, unchanged: 0, failures: 0, lastSeq: 0 };
  let last: LastSnapshot | undefined;
  let loaded = false;
  /** Position of the last run that computed the categories and found them unchanged. */
  let checkedAt: number | undefined;
  let lock: Promise<unknown> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  let stopWatch: (() => void) | undefined;
  let closing = false;

  /** The newest snapshot the projection holds (once, at the first run); the schedule remembers its own after that. */
  async function lastSnapshot(): Promise<LastSnapshot | undefined> {
    if (!loaded) {
      const stored = await latestSnapshot(o.store, o.key.did, stream);
      if (stored?.complete) last = { seq: stored.seq, last_seq: stored.last_seq, categories: stored.categories };
      else if (stored) last = { seq: stored.seq, last_seq: -1, categories: [] };
      loaded = true;
    }
    return last;
  }

  async function run(reason: 'schedule' | 'request'): Promise<void> {
    stats.runs++;
    const previous = await lastSnapshot();
    if (reason === 'schedule' && previous) {
      const position = (await o.store.position()).seq;
      if (position === previous.last_seq || position === checkedAt) {
        stats.unchanged++;
        return;
      }
    }
    const computed = await computeCategorySnapshot(o.js, o.store.bucket, { projector: o.projector });
    if (reason === 'schedule' && previous && previous.last_seq >= 0 && sameCategories(computed.categories, previous.categories)) {
      checkedAt = computed.position;
      stats.unchanged++;
      return;
    }
    // The projection may not have stored the last snapshot yet: the schedule's memory counts too.
    const stored = (await latestSnapshot(o.store, o.key.did, stream))?.seq ?? 0;
    const seq = Math.max(stored, previous?.seq ?? 0) + 1;
    const parts = await signAndPublish(o.js, o.operator, o.key, computed, seq, clock());
    last = { seq, last_seq: computed.position, categories: computed.categories };
    checkedAt = undefined;
    stats.published++;
    stats.lastSeq = seq;
    log.info({ seq, last_seq: computed.position, stream, parts: parts.length, categories: computed.categories.length, reason }, 'category snapshot published');
  }

  /** One run at a time; a failure is logged and counted, and the next run tries again. */
  function serialized(reason: 'schedule' | 'request'): Promise<boolean> {
    const next = lock.then(async () => {
      if (closing) return false;
      try {
        await run(reason);
        return true;
      } catch (error) {
        stats.failures++;
        log.warn({ err: (error as Error).message, reason }, 'category snapshot failed');
        return false;
      }
    });
    lock = next;
    return next;
  }

  async function answerRequest(revision: number): Promise<void> {
    if (!(await serialized('request'))) return;
    // Only the request answered: a newer one (put during the run) stays, and the watch sees it.
    await kv.purge(KEYS.snapshotRequest, { previousSeq: revision }).catch(() => undefined);
  }

  function scheduleNext(): void {
    if (closing || o.intervalMs <= 0) return;
    timer = setTimeout(() => {
      void serialized('schedule').then(scheduleNext);
    }, o.intervalMs);
    timer.unref();
  }

  const watcher = await kv.watch({ key: KEYS.snapshotRequest, include: KvWatchInclude.UpdatesOnly });
  stopWatch = () => watcher.stop();
  void (async () => {
    for await (const entry of watcher) {
      if (entry.operation === 'PUT') await answerRequest(entry.revision);
    }
  })().catch((error: unknown) => log.warn({ err: (error as Error).message }, 'watching for snapshot requests stopped'));
  // A request made while no node ran.
  const pending = await kv.get(KEYS.snapshotRequest);
  if (pending && pending.operation === 'PUT') void answerRequest(pending.revision);
  scheduleNext();

  let closed: Promise<void> | undefined;
  return {
    stats: () => ({ ...stats }),
    close() {
      closed ??= (async () => {
        closing = true;
        if (timer) clearTimeout(timer);
        stopWatch?.();
        await lock.catch(() => undefined);
      })();
      return closed;
    },
  };
}

export interface RequestSnapshotOptions {
  /**
   * The stream whose snapshot answers the request. Default `FEDERATED_<operator>` for a
   * bucket named `metadata_<operator>` (peers' snapshots cover their own streams, so
   * they are not taken for the answer); otherwise any stream.
   */
  stream?: string;
  /** The node expected to answer (did:key). Default: any node. */
  node?: string;
  /** Longest wait. Default 60 s. */
  timeoutMs?: number;
}

/** The stream a live metadata bucket's node covers, read from the bucket name. */
function streamOfBucket(bucket: string): string | undefined {
  const prefix = `${METADATA}_`;
  return bucket.startsWith(prefix) ? federatedStreamName(bucket.slice(prefix.length)) : undefined;
}

/**
 * Asks the node running the projection in `kv` for a snapshot now, and resolves with it
 * once published and stored: `_snapshot` is gone (the node purges it after publishing)
 * and the projection holds every part of a snapshot stored after the request.
 *
 * @throws SnapshotError `request.no_node` when no live node holds the projection's lease,
 *   `request.timeout` after `timeoutMs`.
 */
export async function requestSnapshot(kv: KV, options: RequestSnapshotOptions = {}): Promise<LatestSnapshot> {
  const { bucket } = await kv.status();
  const stream = options.stream ?? streamOfBucket(bucket);
  const timeoutMs = options.timeoutMs ?? 60_000;
  const lease = decodeEntry<{ renewed_at: number }>(await kv.get(KEYS.lease));
  if (lease === undefined || Date.now() - lease.renewed_at >= LEASE_STALE_MS) {
    throw new SnapshotError('request.no_node', bucket, 'no running node holds this projection (no live lease); start the node, then ask again');
  }
  const requested = await kv.put(KEYS.snapshotRequest, encodeJson({ requested_at: new Date().toISOString() }));
  const deadline = Date.now() + timeoutMs;
  const filter = options.node ? `${KEYS.snapshot(options.node)}.>` : 'snap.>';
  const token = options.node ? didKeyToken(options.node) : undefined;
  for (;;) {
    const request = await kv.get(KEYS.snapshotRequest);
    if (!request || request.operation !== 'PUT') {
      const keys: string[] = [];
      for await (const key of await kv.keys(filter)) keys.push(key);
      for (const key of keys) {
        const entry = await kv.get(key);
        const part = decodeEntry<StoredSnapshotPart>(entry);
        if (!entry || !part || entry.revision <= requested) continue;
        if (stream !== undefined && part.record.stream !== stream) continue;
        if (token !== undefined && didKeyToken(part.record.node) !== token) continue;
        const latest = await latestSnapshot({ kv }, part.record.node, part.record.stream);
        if (latest?.complete && latest.seq === part.seq) return latest;
      }
    }
    if (Date.now() > deadline) {
      throw new SnapshotError('request.timeout', bucket, `no snapshot was published within ${timeoutMs} ms of the request; is the node's snapshot schedule running?`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
