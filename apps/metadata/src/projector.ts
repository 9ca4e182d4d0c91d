/**
 * The metadata projector: reads the operator's FEDERATED stream in order, re-checks every
 * record (it may come from a peer and never passed our adapter), and maintains the
 * lookups of the metadata projection in its KV bucket (keys: ./domain/keys.ts).
 *
 * Why not a consumer group: the decisions depend on order (the first creator of an id
 * owns it, `seq` must grow), so one process applies the log in stream order, and the
 * bucket itself records how far it got (`_pos`). It reads with an ordered consumer from
 * `_pos + 1`; after a crash it starts there again and re-applies at most one batch, which
 * is harmless because applying a record twice changes nothing (decide.ts: duplicate).
 * A lease in the bucket keeps a second process from writing at the same time.
 *
 * Per batch: verify every record (CPU), read what the decisions need in parallel, decide
 * in order against a write-through cache, then write: first every effect but the heads,
 * then the heads, then `_pos`. A crash between the steps leaves effects whose head is not
 * written yet; re-applying the record writes the same effects again, and a record whose
 * head is written had all its effects written before.
 */
import type { JetStreamClient, JetStreamManager, JsMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { KvWatchInclude, type KV } from '@nats-io/kv';
import type { Logger } from 'pino';
import { pino } from 'pino';
import { createVerifyPool, type CategorySnapshot, type ContentManifest, type VerifyPool } from '@dmf/protocol';
import { checkEnvelope, checkVerifiedEnvelope, OrderedFeed, sourceOperatorOf, type RecordEnvelope } from '@dmf/bus';
import { federatedStreamName, parseRecordMsgId } from '@dmf/streams';
import { decide, type ContentRecord, type Decision, type Effects, type ManifestHead } from './domain/decide.ts';
import { labelsOf } from './domain/labels.ts';
import type { Prechecked } from './domain/prechecks.ts';

/** The record-only metadata rules, as a check for createVerifyPool (domain/prechecks.ts). */
export const METADATA_PRECHECKS = new URL('./domain/prechecks.ts', import.meta.url);
import { DATA_PREFIXES, KEYS, LEGACY_PREFIXES, STATE_PREFIXES } from './domain/keys.ts';
import { DEFAULT_METADATA_LIMITS, type MetadataLimits } from './domain/spam.ts';
import { countRecord, decodeSignals, encodeSignals, isFingerprintRefusal, NO_SIGNALS, type OriginSignals } from './domain/origin-signals.ts';
import { BatchLists } from './store/batch-lists.ts';
import { BatchWrites } from './store/batch-writes.ts';
import { CachedState } from './store/cached-state.ts';
import { decodeEntry, encodeHead, encodeJson } from './store/codec.ts';
import { ProjectionLease } from './store/lease.ts';
import type { MetadataStore, StoredVersion } from './store/metadata-store.ts';
import { kvStreamName } from '@dmf/streams';
import { CATEGORY_SNAPSHOT, snapshotPartWrites } from './snapshot.ts';

/** Drops the projection's content (not its lease, position or requests), one key prefix at a time. */
export async function purgeProjection(jsm: JetStreamManager, bucket: string): Promise<void> {
  for (const prefix of DATA_PREFIXES) await jsm.streams.purge(kvStreamName(bucket), { filter: `$KV.${bucket}.${prefix}.>` });
}

export const CONTENT_MANIFEST = 'content_manifest';

export interface MetadataProjectorOptions {
  js: JetStreamClient;
  /**
   * The connection under `js`: with it, a batch's writes go out unacknowledged and are
   * proven stored by one acknowledged write (store/batch-writes.ts). Without it, every
   * write is acknowledged (slower).
   */
  nc?: NatsConnection;
  /** Operator whose FEDERATED stream is read. */
  operator: string;
  store: MetadataStore;
  limits?: Partial<MetadataLimits>;
  /** Records per batch. Default 256. */
  batchSize?: number;
  /** Heads, claims and counts the projector keeps in memory (each; least recently used go). Default 50,000. */
  cacheEntries?: number;
  /** Stop after applying this stream sequence (rebuild and verify replay up to a point). */
  stopAt?: number;
  /** Who holds the lease, for the message another process prints. Default `metadata projector`. */
  holder?: string;
  /** A lease already taken (a rebuild takes it before it purges). Default: the projector takes one. */
  lease?: ProjectionLease;
  /**
   * Threads that verify records (createVerifyPool); 0 verifies on this thread. Default:
   * one per core, at most 4 (defaultVerifyThreads). Ignored when `verifier` is given.
   */
  verifyThreads?: number;
  /**
   * A verification pool to share (its owner closes it). Made with `check:
   * METADATA_PRECHECKS`, or decide() runs the record-only rules on this thread. Default: the projector makes one, with the
   * rules of domain/prechecks.ts as its check, and closes it.
   */
  verifier?: VerifyPool;
  /** Called when the projector cannot go on (lost its lease, or a write kept failing). */
  onFatal?: (error: Error) => void;
  logger?: Logger;
}

/** What happened to one record, for whoever waits on it (the adapter answers its client). */
export type RecordOutcome =
  | { outcome: 'accepted' | 'duplicate'; manifestId: string; seq: number }
  | { outcome: 'refused'; code: string; path: string; reason: string }
  | { outcome: 'invalid'; reason: string };

export interface MetadataProjectorStats {
  /** Last FEDERATED sequence applied. */
  position: number;
  accepted: number;
  duplicates: number;
  /** Content manifests refused by a metadata rule, per code. */
  refused: Record<string, number>;
  /** Records that failed transport or protocol checks, per reason, and per carrying operator. */
  invalidByReason: Record<string, number>;
  invalidByOrigin: Record<string, number>;
  /** Category snapshot parts verified and applied (any node's, stored when not older than the stored part). */
  snapshots: number;
  /** Records of other kinds (not this projection's business). */
  ignored: number;
  batches: number;
  /** Reads saved because the key was known to be absent (a replay on an empty bucket). */
  skippedReads: number;
  /** Most records that waited at once in the projector's queue (at most about 8 batches). */
  maxQueued: number;
  /** Batches written fast whose proof failed (something else wrote in between), so written again acknowledged. */
  rewrites: number;
}

export interface MetadataProjector {
  start(): Promise<void>;
  /** Finishes the batch under way, then stops and releases the lease. Safe twice. */
  close(): Promise<void>;
  stats(): MetadataProjectorStats;
  /** Resolves once the projection has applied stream sequence `seq` (or the projector stopped). */
  reached(seq: number): Promise<void>;
  /** Listens to every record's outcome; returns the function that stops listening. */
  onRecord(listener: (recordId: string, outcome: RecordOutcome) => void): () => void;
  /** Runs `task` between two batches, so it sees the projection at one position. */
  exclusive<T>(task: (position: number) => Promise<T>): Promise<T>;
  /** What each operator's ORIGIN carried so far (domain/origin-signals.ts), by operator token. */
  originSignals(): Map<string, OriginSignals>;
  /** Resolves when the loop ends: after close(), at `stopAt`, or on a fatal error (rejects). */
  readonly done: Promise<void>;
}

/** A decided batch: its writes, and what to count and tell once they are stored. */
interface DecidedBatch {
  /** CachedState's number for it. */
  id: number;
  /** Its last FEDERATED sequence. */
  lastSeq: number;
  writes: BatchWrites;
  pending: Pending[];
  decided: { refusedCode?: string; accepted?: boolean; duplicate?: boolean }[];
  snapshots: number;
}

/** A `_pos` write in flight, and the batch whose writes it will prove (published just before it). */
interface PositionWrite {
  write: Promise<number>;
  covers: DecidedBatch | undefined;
  /** Sequence of our acknowledged write before those writes. */
  base: number;
  renewals: number;
}

interface Pending {
  m: JsMsg;
  recordId: string | undefined;
  /** Failed a transport or protocol check (counted once its batch is written). */
  invalid?: { origin: string; reason: string };
  /** Another kind of record: not this projection's business. */
  ignored?: boolean;
  outcome?: RecordOutcome;
  record?: ContentRecord;
  snapshot?: { id: string; document: CategorySnapshot };
}

const RETRY_DELAY_MS = 1000;
const MAX_CONSECUTIVE_FAILURES = 10;

export function createMetadataProjector(options: MetadataProjectorOptions): MetadataProjector {
  const o = { ...options };
  const limits: MetadataLimits = { ...DEFAULT_METADATA_LIMITS, ...o.limits };
  const batchSize = o.batchSize ?? 256;
  const log = (o.logger ?? pino({ level: 'info' })).child({ sub: 'metadata-projector', operator: o.operator });
  const store = o.store;
  const kv: KV = store.kv;
  const state = new CachedState(store, o.cacheEntries);
  /** Made by start() (threads are not started for a projector that never runs). */
  let verifier: VerifyPool | undefined;
  const listeners = new Set<(recordId: string, outcome: RecordOutcome) => void>();
  const waiters: { seq: number; resolve: () => void }[] = [];
  const counts = { accepted: 0, duplicates: 0, snapshots: 0, ignored: 0, batches: 0, rewrites: 0 };
  const refused: Record<string, number> = {};
  const invalidByReason: Record<string, number> = {};
  const invalidByOrigin: Record<string, number> = {};
  let position = 0;
  let positionRevision = 0;
  /** Stream sequence of this process's last acknowledged write to the bucket (0: unknown). */
  let lastWriteSeq = 0;
  /** Most FEDERATED messages that waited at once in the projector's queue (bounded: ordered-feed.ts). */
  let maxQueued = 0;
  let feedNow: OrderedFeed | undefined;
  /** Fast writes: the position write in flight (applyBatch). */
  let inflight: PositionWrite | undefined;
  let lease: ProjectionLease | undefined;
  let stopping = false;
  let stopConsumer: (() => void) | undefined;
  let rebuildRequested = false;
  let stopWatch: (() => void) | undefined;
  let lock: Promise<unknown> = Promise.resolve();
  /** Per carrying operator, as stored in `sig.<origin>` (loaded when first met). */
  const signals = new Map<string, OriginSignals>();
  let resolveDone!: () => void;
  let rejectDone!: (error: Error) => void;
  const done = new Promise<void>((resolve, reject) => {
    resolveDone = resolve;
    rejectDone = reject;
  });
  done.catch(() => undefined);

  /** Runs tasks one at a time: batches and exclusive() tasks never overlap. */
  function serialized<T>(task: () => Promise<T>): Promise<T> {
    const run = lock.then(task);
    lock = run.catch(() => undefined);
    return run;
  }

  function invalid(p: Pending, origin: string, reason: string, detail?: unknown): void {
    p.invalid = { origin, reason };
    p.outcome = { outcome: 'invalid', reason };
    log.warn({ origin, reason, seq: p.m.seq, err: detail }, 'invalid record skipped, not projected');
  }

  /**
   * Transport and protocol checks of a batch: the envelope here, the records themselves
   * (signature, schema, freshness: most of the projector's CPU) on the verification
   * threads, so that they overlap the writes of the batch before.
   */
  async function examine(batch: JsMsg[]): Promise<Pending[]> {
    const pending: Pending[] = [];
    const toVerify: { p: Pending; envelope: RecordEnvelope; origin: string; kind: string }[] = [];
    for (const m of batch) {
      const msgId = m.headers?.get('Nats-Msg-Id');
      const parsed = msgId ? parseRecordMsgId(msgId) : undefined;
      const envelope = { subject: m.subject, sourceOperator: sourceOperatorOf(m), recordId: parsed?.id, msgIdOperator: parsed?.operator };
      const p: Pending = { m, recordId: parsed?.id };
      pending.push(p);
      const checked = checkEnvelope(envelope);
      if (!checked.ok) invalid(p, checked.origin, checked.reason);
      else if (checked.kind !== CONTENT_MANIFEST && checked.kind !== CATEGORY_SNAPSHOT) p.ignored = true;
      else toVerify.push({ p, envelope, origin: checked.origin, kind: checked.kind });
    }
    // As of the time FEDERATED stored each record, so a replay decides as the live run did.
    const verdicts = await (verifier as VerifyPool).verify(toVerify.map(({ p }) => ({ bytes: p.m.data, now: new Date(Math.floor(p.m.info.timestampNanos / 1e6)) })));
    verdicts.forEach((verdict, i) => {
      const { p, envelope, origin, kind } = toVerify[i] as (typeof toVerify)[number];
      if (!verdict.ok) return invalid(p, origin, verdict.code, verdict.message);
      const verified = verdict.record;
      const broken = checkVerifiedEnvelope(envelope, origin, kind, verified);
      if (broken) invalid(p, origin, broken);
      // Records travel in their canonical bytes; the same record re-encoded is a replay by someone else.
      else if (verified.canonical === false) invalid(p, origin, 'not_canonical');
      else if (verified.kind === 'category_snapshot') p.snapshot = { id: verified.id, document: verified.document };
      else p.record = { id: verified.id, document: verified.document as ContentManifest, json: p.m.data, prechecked: verdict.checked as Prechecked | undefined };
    });
    return pending;
  }

  /** Writes of one accepted record, but its head and index lists (written after every batch's effects). */
  async function effectWrites(effects: Effects, writes: BatchWrites, lists: BatchLists, seq: number): Promise<void> {
    const { head, previous } = effects;
    if (previous) {
      const archived: StoredVersion = { record_id: previous.record_id, record: previous.record };
      writes.put(KEYS.version(head.manifest_id, previous.seq), encodeJson(archived));
      state.setVersion(head.manifest_id, previous.seq, previous.record_id);
    }
    if (effects.claimFingerprint) {
      writes.put(KEYS.fingerprint(head.fingerprint), encodeJson(effects.claimFingerprint));
      state.setClaim(head.fingerprint, effects.claimFingerprint);
    }
    if (effects.newManifest) {
      const appended = lists.append(KEYS.creatorList(head.creator), head.manifest_id, seq);
      if (appended instanceof Promise) await appended;
    }
    for (const label of effects.labelsRemoved) {
      await lists.remove(KEYS.labelList(label), (previous as ManifestHead).joins[label] as number, head.manifest_id, seq);
    }
    for (const label of effects.labelsAdded) {
      // Awaited only when the list had to be read: nearly always it is at hand.
      const appended = lists.append(KEYS.labelList(label), head.manifest_id, seq);
      const join = appended instanceof Promise ? await appended : appended;
      // Undefined only when applied again after a crash and left again later (batch-lists.ts).
      if (join !== undefined) head.joins[label] = join;
    }
    state.setHead(head);
  }

  function outcomeOf(decision: Decision): RecordOutcome {
    switch (decision.outcome) {
      case 'accepted':
        return { outcome: 'accepted', manifestId: decision.effects.head.manifest_id, seq: decision.effects.head.seq };
      case 'duplicate':
        return { outcome: 'duplicate', manifestId: decision.manifestId, seq: decision.seq };
      case 'refused':
        return { outcome: 'refused', code: decision.refusal.code, path: decision.refusal.path, reason: decision.refusal.reason };
    }
  }

  /** The operator a record is charged to, as a key-safe token. */
  function originOf(p: Pending): string {
    const origin = p.invalid?.origin ?? sourceOperatorOf(p.m) ?? 'unknown';
    return /^[A-Za-z0-9_-]{1,64}$/.test(origin) ? origin : 'unknown';
  }

  /** Counts what the batch's records tell about their origins and adds the changed `sig.<origin>` values to `writes`. */
  async function countOrigins(pending: Pending[], writes: BatchWrites): Promise<void> {
    const touched = new Set<string>();
    for (const p of pending) {
      if (p.ignored) continue;
      const origin = originOf(p);
      if (!signals.has(origin)) {
        const entry = state.complete ? undefined : await kv.get(KEYS.signals(origin));
        signals.set(origin, entry && entry.operation === 'PUT' ? decodeSignals(entry.json()) : { ...NO_SIGNALS });
      }
      const refusal = p.outcome?.outcome === 'refused' ? p.outcome.code : undefined;
      const carried = p.invalid ? 'invalid' : refusal && isFingerprintRefusal(refusal) ? 'bad_fingerprint' : 'valid';
      const before = signals.get(origin) as OriginSignals;
      const after = countRecord(before, p.m.seq, carried);
      if (after !== before) {
        signals.set(origin, after);
        touched.add(origin);
      }
    }
    for (const origin of touched) writes.put(KEYS.signals(origin), encodeJson(encodeSignals(signals.get(origin) as OriginSignals)));
  }

  /** Decides a batch against the state and gathers its writes (effects first, heads last). */
  async function decideBatch(batch: JsMsg[], pending: Pending[]): Promise<DecidedBatch> {
    const id = state.beginBatch();
    const records = pending.flatMap((p) => (p.record ? [p.record.document] : []));
    await state.prefetch(
      records.map((r) => r.manifest_id),
      records.map((r) => r.fingerprint),
      records.flatMap((r) => [KEYS.creatorList(r.creator), ...labelsOf(r).map(KEYS.labelList)]),
    );
    const writes = new BatchWrites();
    const lists = new BatchLists(state);
    /** Per manifest, its last head of the batch and the JSON text of that version's record. */
    const heads = new Map<string, { head: Effects['head']; json: Uint8Array | undefined }>();
    const decided: DecidedBatch['decided'] = [];
    for (const p of pending) {
      if (!p.record) continue;
      const decision = await decide(state, p.record, limits);
      p.outcome = outcomeOf(decision);
      if (decision.outcome === 'accepted') {
        await effectWrites(decision.effects, writes, lists, p.m.seq);
        heads.set(decision.effects.head.manifest_id, { head: decision.effects.head, json: p.record.json });
        decided.push({ accepted: true });
      } else if (decision.outcome === 'duplicate') {
        decided.push({ duplicate: true });
      } else {
        decided.push({ refusedCode: decision.refusal.code });
        log.info({ origin: sourceOperatorOf(p.m), code: decision.refusal.code, seq: p.m.seq }, 'content manifest refused by a metadata rule');
      }
    }
    // Any node's snapshots (ours come back through the log too), in log order.
    const snapshots = pending.flatMap((p) => (p.snapshot ? [p.snapshot] : []));
    for (const [key, part] of await snapshotPartWrites(kv, snapshots)) writes.put(key, encodeJson(part));
    await countOrigins(pending, writes);
    lists.writeTo(writes);
    // Heads after every other effect (see the top of this file).
    for (const { head, json } of heads.values()) writes.put(KEYS.head(head.manifest_id), encodeHead(head, json));
    return { id, lastSeq: (batch.at(-1) as JsMsg).seq, writes, pending, decided, snapshots: snapshots.length };
  }

  /** A batch is stored: it counts, its listeners and waiters hear, its values leave the unsettled set. */
  function finish(d: DecidedBatch): void {
    position = d.lastSeq;
    state.settled(d.id);
    // Counted only once written: a failed batch is applied again from the start.
    for (const x of d.decided) {
      if (x.accepted) counts.accepted++;
      else if (x.duplicate) counts.duplicates++;
      else if (x.refusedCode) refused[x.refusedCode] = (refused[x.refusedCode] ?? 0) + 1;
    }
    counts.snapshots += d.snapshots;
    counts.batches++;
    for (const p of d.pending) {
      if (p.ignored) counts.ignored++;
      if (p.invalid) {
        invalidByReason[p.invalid.reason] = (invalidByReason[p.invalid.reason] ?? 0) + 1;
        invalidByOrigin[p.invalid.origin] = (invalidByOrigin[p.invalid.origin] ?? 0) + 1;
      }
    }
    for (const p of d.pending) {
      if (p.recordId && p.outcome) for (const listener of listeners) listener(p.recordId, p.outcome);
    }
    for (const w of waiters.filter((w) => w.seq <= position)) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve();
    }
  }

  /**
   * Applies a batch. Acknowledged (no connection given, or nothing written yet): every
   * write awaited, then `_pos`. Fast (store/batch-writes.ts), pipelined:
   *
   *   W(n)  →  await P(n-1), which proved W(n-1)  →  P(n) = `_pos` := n-1, sent, not awaited
   *
   * Each position write is sent only once the writes of the batch it names are proven,
   * and its own acknowledgement proves the writes published just before it (the next
   * batch's): it must land exactly `writes + 1` sequences after our previous
   * acknowledged write. So a batch's writes go out while the previous one's proof is on
   * its way, and a batch costs one round trip that overlaps the next batch's work. When
   * a proof fails, both unproven batches are written again, acknowledged, in order.
   */
  async function applyBatch(batch: JsMsg[], pending: Pending[]): Promise<void> {
    // Snapshot parts are decided against stored parts: nothing may be unproven then.
    if (pending.some((p) => p.snapshot)) await settle();
    const d = await decideBatch(batch, pending);
    if (!o.nc || lastWriteSeq === 0 || positionRevision === 0) {
      await settle();
      await d.writes.acknowledged(kv);
      await writePosition(d.lastSeq);
      finish(d);
      return;
    }
    d.writes.unacknowledged(o.nc, store.bucket);
    const previous = inflight;
    inflight = undefined;
    if (previous && !(await proven(previous))) {
      counts.rewrites++;
      await previous.covers?.writes.acknowledged(kv);
      await d.writes.acknowledged(kv);
      if (previous.covers) finish(previous.covers);
      await writePosition(d.lastSeq);
      finish(d);
      return;
    }
    if (previous?.covers) finish(previous.covers);
    inflight = sendPosition(d);
  }

  /** Proves and finishes what is in flight, and writes the position: nothing is left unproven. */
  async function settle(): Promise<void> {
    const previous = inflight;
    inflight = undefined;
    if (!previous) return;
    if (!(await proven(previous))) {
      counts.rewrites++;
      await previous.covers?.writes.acknowledged(kv);
    }
    if (previous.covers) {
      finish(previous.covers);
      await writePosition(position);
    }
  }

  /** Sends `_pos` := the last finished batch; its acknowledgement will prove `covers`' writes, published just before. */
  function sendPosition(covers: DecidedBatch): PositionWrite {
    const base = lastWriteSeq;
    // Our own lease renewal is the one write that may come in between: count it as a
    // failed proof, so a lost write can never be made up for by it.
    const renewals = lease?.renewals ?? 0;
    const write = kv.update(KEYS.position, encodeJson({ seq: position }), positionRevision);
    write.catch(() => undefined); // awaited by proven()
    return { write, covers, base, renewals };
  }

  /** Awaits a position write (a refused one throws: another writer, or a reset); whether it proved its batch. */
  async function proven(p: PositionWrite): Promise<boolean> {
    const seq = await p.write;
    positionRevision = seq;
    lastWriteSeq = seq;
    if (!p.covers) return true;
    return seq === p.base + p.covers.writes.size + 1 && (lease?.renewals ?? 0) === p.renewals;
  }

  /** Writes `_pos` (compare-and-set: a second writer, or a reset, makes it fail). */
  async function writePosition(seq: number): Promise<void> {
    const value = encodeJson({ seq });
    positionRevision = positionRevision === 0 ? await kv.create(KEYS.position, value) : await kv.update(KEYS.position, value, positionRevision);
    lastWriteSeq = positionRevision;
  }

  async function readPosition(): Promise<void> {
    const entry = await kv.get(KEYS.position);
    position = entry && entry.operation === 'PUT' ? (entry.json<{ seq: number }>().seq ?? 0) : 0;
    positionRevision = entry && entry.operation === 'PUT' ? entry.revision : 0;
    if (entry && entry.operation !== 'PUT') {
      // A deleted `_pos` (a reset): write it anew with its revision.
      positionRevision = await kv.update(KEYS.position, encodeJson({ seq: 0 }), entry.revision);
    }
  }

  /**
   * `dmf projections rebuild` asked for it (`_rebuild`): drop the projection's content and
   * apply the log again from sequence 1. The lease stays; `_rebuild` goes last, which is
   * how the requester learns that the rebuild has begun.
   */
  async function startOver(): Promise<void> {
    rebuildRequested = false;
    log.info('rebuilding the metadata projection from sequence 1');
    await purgeProjection(await o.js.jetstreamManager(), store.bucket);
    state.reset();
    signals.clear();
    state.markComplete();
    position = 0;
    const entry = await kv.get(KEYS.position);
    positionRevision = await kv.update(KEYS.position, encodeJson({ seq: 0 }), entry?.revision ?? 0);
    const request = await kv.get(KEYS.rebuild);
    if (request) await kv.purge(KEYS.rebuild);
  }

  async function watchRebuildRequests(): Promise<void> {
    const watcher = await kv.watch({ key: KEYS.rebuild, include: KvWatchInclude.UpdatesOnly });
    stopWatch = () => watcher.stop();
    void (async () => {
      for await (const entry of watcher) {
        if (entry.operation !== 'PUT') continue;
        rebuildRequested = true;
        stopConsumer?.();
      }
    })().catch((error: unknown) => log.warn({ err: (error as Error).message }, 'watching for rebuild requests stopped'));
    // A request made while no projector ran.
    if (decodeEntry(await kv.get(KEYS.rebuild)) !== undefined) rebuildRequested = true;
  }

  /**
   * One pass: an ordered consumer from `_pos + 1`, batches until stopped or failed.
   *
   * A batch is what has arrived when the previous one is done, up to `batchSize` (group
   * commit): under live load, records that came in while a batch was being written go
   * together in the next one, instead of each paying a whole batch of round trips. Two
   * batches are in the pipeline at a time: one verified on the threads while the one
   * before it is decided and written, always in log order.
   */
  async function runOnce(): Promise<'stopped' | 'reached'> {
    await readPosition();
    if (o.stopAt !== undefined && position >= o.stopAt) return 'reached';
    // From the start of the log on a bucket with no state in it, misses need no reads (cached-state.ts).
    if (position === 0 && !state.complete && !(await store.holdsAnyKey(STATE_PREFIXES))) state.markComplete();
    // A bounded queue (libs/bus ordered-feed.ts): a replay does not hold the stream in memory.
    const feed = new OrderedFeed(o.js, federatedStreamName(o.operator), position + 1, { high: batchSize * 8, low: batchSize * 2 });
    await feed.start();
    feedNow = feed;
    stopConsumer = () => feed.stop();
    // close() (or a rebuild request) may have come while the consumer was being created, with nothing to stop yet.
    if (stopping || rebuildRequested) feed.stop();
    let applying: Promise<void> | undefined;
    try {
      while (!stopping) {
        if (feed.size === 0) {
          if (feed.ended) break;
          // Nothing more has come: finish what is in flight rather than wait for the next record.
          if (applying) await applying;
          applying = undefined;
          if (feed.size === 0 && inflight) await serialized(settle);
          await feed.wait();
          continue;
        }
        if (o.stopAt !== undefined && (feed.peek() as JsMsg).seq > o.stopAt) break;
        const full = feed.take(batchSize);
        if (o.stopAt !== undefined) {
          // Messages beyond the stop are not applied (the feed is dropped with them).
          const beyond = full.findIndex((m) => m.seq > (o.stopAt as number));
          if (beyond > 0) full.length = beyond;
        }
        const reachedStop = o.stopAt !== undefined && (full.at(-1) as JsMsg).seq >= o.stopAt;
        const examined = examine(full);
        examined.catch(() => undefined); // awaited below; a failure before then must not go unhandled
        if (applying) await applying;
        applying = serialized(async () => applyBatch(full, await examined));
        if (reachedStop) {
          await applying;
          await serialized(settle);
          return 'reached';
        }
      }
      if (applying) await applying;
      await serialized(settle);
      if (feed.error && !stopping) throw feed.error;
    } finally {
      stopConsumer = undefined;
      maxQueued = Math.max(maxQueued, feed.maxQueued);
      feedNow = undefined;
      await applying?.catch(() => undefined);
      await feed.close();
    }
    return 'stopped';
  }

  async function loop(): Promise<void> {
    let failures = 0;
    while (!stopping) {
      try {
        if (rebuildRequested) await serialized(startOver);
        const result = await runOnce();
        if (result === 'reached') return;
        failures = 0;
      } catch (error) {
        if (stopping) return;
        failures++;
        // The cache may hold decisions whose writes failed: read the bucket again.
        state.reset();
        inflight = undefined;
        log.error({ err: (error as Error).message, failures }, 'metadata projection batch failed; resuming from the last written position');
        if (failures >= MAX_CONSECUTIVE_FAILURES) throw error;
        await new Promise((resolve) => setTimeout(resolve, RETRY_DELAY_MS));
      }
    }
  }

  let started = false;
  let closed: Promise<void> | undefined;
  return {
    async start() {
      if (started) return;
      started = true;
      verifier = o.verifier ?? createVerifyPool({ threads: o.verifyThreads, check: METADATA_PRECHECKS });
      try {
        lease =
          o.lease ??
          (await ProjectionLease.acquire(kv, store.bucket, o.holder ?? 'metadata projector', (error) => {
            log.error({ err: error.message }, 'metadata projector stops');
            stopping = true;
            stopConsumer?.();
            o.onFatal?.(error);
          }));
        await readPosition();
        await watchRebuildRequests();
        if (await store.holdsAnyKey(LEGACY_PREFIXES)) {
          // Written by an older DMF, in a layout this one does not read (domain/keys.ts).
          // Before start() returns, so that nobody is told a position the old layout claimed.
          log.warn('the metadata projection is in an older layout: rebuilding it from the log');
          await serialized(startOver);
        }
      } catch (error) {
        // Nothing runs: close() must not wait for a loop that never started.
        stopping = true;
        stopWatch?.();
        resolveDone();
        if (!o.lease) await lease?.release().catch(() => undefined);
        if (!o.verifier) await verifier.close();
        throw error;
      }
      void loop().then(
        () => {
          for (const w of waiters.splice(0)) w.resolve();
          resolveDone();
        },
        (error: Error) => {
          for (const w of waiters.splice(0)) w.resolve();
          o.onFatal?.(error);
          rejectDone(error);
        },
      );
    },
    close() {
      closed ??= (async () => {
        stopping = true;
        if (!started) return;
        stopWatch?.();
        stopConsumer?.();
        await done.catch(() => undefined);
        await lease?.release();
        if (!o.verifier) await verifier?.close();
      })();
      return closed;
    },
    stats: () => ({ position, ...counts, skippedReads: state.skippedReads, maxQueued: Math.max(maxQueued, feedNow?.maxQueued ?? 0), refused: { ...refused }, invalidByReason: { ...invalidByReason }, invalidByOrigin: { ...invalidByOrigin } }),
    reached(seq) {
      if (position >= seq || stopping) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ seq, resolve }));
    },
    onRecord(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    originSignals: () => new Map([...signals].map(([origin, value]) => [origin, { ...value }])),
    // Settled first, so that the task sees a position whose writes are all stored.
    exclusive: (task) =>
      serialized(async () => {
        await settle();
        return task(position);
      }),
    done,
  };
}
