/**
 * The storage projection: reads the erasure_group, shard_report and repair_task records
 * of this operator's FEDERATED stream, verifies each one itself (records from peers
 * never passed our adapter), and keeps what chunk health needs in memory: every group
 * record per chunk, and the newest report per (chunk, node, shard). Chunk health is
 * computed from them (domain/storage-state.ts) by the chunk checker, which writes it to
 * KV for `GET /chunk_status` and queues repairs.
 *
 * Why memory and not KV for these inputs: health depends on the time and on which
 * holders are up (the prober), so it is recomputed anyway; the inputs are a few hundred
 * bytes per shard; and the projection is rebuilt from the log at every start, which is
 * what makes the repair queue a projection too (docs/decisions.md). One ordered
 * consumer reads the whole stream and skips other kinds by subject (nats-server 2.9.10
 * refuses a consumer filter like `dmf.origin.*.erasure_group` on this stream).
 */
import type { JetStreamClient, JetStreamManager, JsMsg } from '@nats-io/jetstream';
import type { Logger } from 'pino';
import { checkFreshness, ProtocolError, verifyBytes, type ErasureGroup, type RepairTask, type ShardReport } from '@dmf/protocol';
import { checkEnvelope, checkVerifiedEnvelope, OrderedFeed, sourceOperatorOf, type RecordEnvelope } from '@dmf/bus';
import { federatedStreamName, parseRecordMsgId } from '@dmf/streams';
import type { HealthPolicy, HolderStatus } from './domain/chunk-health.ts';
import { chunkState, currentGroups, isNewerReport, type ChunkState, type GroupRecord, type ReportRecord } from './domain/storage-state.ts';

export const STORAGE_KINDS = ['erasure_group', 'shard_report', 'repair_task'] as const;
const STORAGE_SUBJECT = new RegExp(`^dmf\\.origin\\.[^.]+\\.(?:${STORAGE_KINDS.join('|')})$`);

export interface TaskRecord {
  id: string;
  document: RepairTask;
}

export interface StorageProjectionOptions {
  js: JetStreamClient;
  jsm: JetStreamManager;
  operator: string;
  logger: Logger;
}

export interface StorageProjectionStats {
  groups: number;
  reports: number;
  tasks: number;
  duplicates: number;
  invalidByReason: Record<string, number>;
}

export class StorageProjection {
  readonly #o: StorageProjectionOptions;
  readonly #groups = new Map<string, GroupRecord>();
  readonly #groupsByChunk = new Map<string, GroupRecord[]>();
  /** chunk → "node shard" → newest report. */
  readonly #reports = new Map<string, Map<string, ReportRecord>>();
  readonly #reportIds = new Set<string>();
  readonly #tasks = new Map<string, TaskRecord>();
  /** The current group of each chunk, and the chunks each node holds a shard of in it. */
  readonly #current = new Map<string, GroupRecord>();
  readonly #held = new Map<string, Set<string>>();
  readonly #used = new Map<string, number>();
  /** Chunks whose records changed since the checker last took them. */
  #dirty = new Set<string>();
  readonly #waiters = new Map<string, (() => void)[]>();
  readonly #stats: StorageProjectionStats = { groups: 0, reports: 0, tasks: 0, duplicates: 0, invalidByReason: {} };
  #feed: OrderedFeed | undefined;
  #loop: Promise<void> | undefined;
  #closed = false;

  constructor(options: StorageProjectionOptions) {
    this.#o = options;
  }

  /** Starts reading; resolves once every record stored at start has been read. */
  async start(): Promise<void> {
    const stream = federatedStreamName(this.#o.operator);
    const lastAtStart = (await this.#o.jsm.streams.info(stream)).state.last_seq;
    this.#feed = new OrderedFeed(this.#o.js, stream, 1, { high: 4096, low: 1024 });
    let resolveReplayed!: () => void;
    const replayed = new Promise<void>((resolve) => (resolveReplayed = resolve));
    this.#loop = this.#read(this.#feed, lastAtStart, resolveReplayed);
    await this.#feed.start();
    await replayed;
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#feed?.close();
    await this.#loop?.catch(() => undefined);
    for (const list of this.#waiters.values()) for (const wake of list) wake();
  }

  /** Whether a record of a storage kind is held. */
  has(recordId: string): boolean {
    return this.#groups.has(recordId) || this.#reportIds.has(recordId) || this.#tasks.has(recordId);
  }

  /** Resolves when the record is held, or after `timeoutMs` (false). */
  async waitFor(recordId: string, timeoutMs: number): Promise<boolean> {
    if (this.has(recordId)) return true;
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(this.has(recordId)), timeoutMs);
      const list = this.#waiters.get(recordId) ?? [];
      list.push(() => {
        clearTimeout(timer);
        resolve(this.has(recordId));
      });
      this.#waiters.set(recordId, list);
    });
  }

  group(recordId: string): GroupRecord | undefined {
    return this.#groups.get(recordId);
  }

  /** The chunk's current erasure group (domain/storage-state.ts). */
  current(chunk: string): GroupRecord | undefined {
    return this.#current.get(chunk);
  }

  /** The highest seq among groups of `chunk` signed by `coordinator` (0: none). */
  highestGroupSeq(chunk: string, coordinator: string): number {
    let highest = 0;
    for (const g of this.#groupsByChunk.get(chunk) ?? []) if (g.document.coordinator === coordinator && g.document.seq > highest) highest = g.document.seq;
    return highest;
  }

  task(recordId: string): TaskRecord | undefined {
    return this.#tasks.get(recordId);
  }

  /** The repair tasks of a chunk, oldest first. */
  tasksOfChunk(chunk: string): TaskRecord[] {
    return [...this.#tasks.values()].filter((t) => t.document.chunk === chunk).sort((a, b) => a.document.issued_at.localeCompare(b.document.issued_at) || a.id.localeCompare(b.id));
  }

  /** The repair tasks of a group. */
  tasksOf(group: string): TaskRecord[] {
    return [...this.#tasks.values()].filter((t) => t.document.group === group);
  }

  /** The highest seq among repair tasks of `group` signed by `coordinator` (0: none). */
  highestTaskSeq(group: string, coordinator: string): number {
    let highest = 0;
    for (const t of this.#tasks.values()) if (t.document.group === group && t.document.coordinator === coordinator && t.document.seq > highest) highest = t.document.seq;
    return highest;
  }

  /** The chunk's state as of `now`, holders judged by `holders`. */
  state(chunk: string, holders: ReadonlyMap<string, HolderStatus>, now: number, policy?: HealthPolicy): ChunkState | undefined {
    const group = this.#current.get(chunk);
    if (!group) return undefined;
    return chunkState(group, this.#reports.get(chunk)?.values() ?? [], holders, now, policy);
  }

  /** Every chunk with a group. */
  chunks(): IterableIterator<string> {
    return this.#current.keys();
  }

  /** Chunks whose current group gives `node` a shard. */
  chunksHeldBy(node: string): ReadonlySet<string> {
    return this.#held.get(node) ?? new Set();
  }

  /** Shard bytes each node is assigned by current groups. */
  usedBytes(): ReadonlyMap<string, number> {
    return this.#used;
  }

  /** The chunks whose records changed since the last call (every chunk after the replay at start). */
  takeDirty(): Set<string> {
    const dirty = this.#dirty;
    this.#dirty = new Set();
    return dirty;
  }

  stats(): StorageProjectionStats {
    return structuredClone(this.#stats);
  }

  async #read(feed: OrderedFeed, lastAtStart: number, replayed: () => void): Promise<void> {
    let caughtUp = lastAtStart === 0;
    if (caughtUp) replayed();
    while (!this.#closed) {
      await feed.wait();
      if (feed.ended) {
        if (feed.error && !this.#closed) this.#o.logger.error({ err: feed.error.message }, 'storage feed ended');
        replayed();
        return;
      }
      for (const m of feed.take(1024)) {
        if (STORAGE_SUBJECT.test(m.subject)) this.#apply(m);
        if (!caughtUp && m.seq >= lastAtStart) {
          caughtUp = true;
          replayed();
        }
      }
    }
  }

  #apply(m: JsMsg): void {
    const msgId = m.headers?.get('Nats-Msg-Id');
    const parsedId = msgId ? parseRecordMsgId(msgId) : undefined;
    const envelope: RecordEnvelope = { subject: m.subject, sourceOperator: sourceOperatorOf(m), recordId: parsedId?.id, msgIdOperator: parsedId?.operator };
    const checked = checkEnvelope(envelope);
    if (!checked.ok) return this.#invalid(checked.reason);
    try {
      const verified = verifyBytes(m.data, { freshness: false, reportCanonical: true });
      // A repair task's lifetime rules hold whenever it is read (judged as of its own
      // issued_at); whether it is still in force is the executor's question.
      const issued = (verified.document as { issued_at: string }).issued_at;
      checkFreshness(verified.document as { issued_at: string; expires_at?: string }, new Date(Date.parse(issued)));
      const mismatch = checkVerifiedEnvelope(envelope, checked.origin, checked.kind, verified);
      if (mismatch) return this.#invalid(mismatch);
      if (verified.canonical === false) return this.#invalid('not_canonical');
      if (this.has(verified.id)) {
        this.#stats.duplicates++;
        return;
      }
      if (verified.kind === 'erasure_group') this.#addGroup({ id: verified.id, document: verified.document as ErasureGroup });
      else if (verified.kind === 'shard_report') this.#addReport({ id: verified.id, document: verified.document as ShardReport });
      else if (verified.kind === 'repair_task') {
        this.#tasks.set(verified.id, { id: verified.id, document: verified.document as RepairTask });
        this.#stats.tasks++;
      } else return this.#invalid('kind_mismatch');
      this.#wake(verified.id);
    } catch (error) {
      if (error instanceof ProtocolError) return this.#invalid(error.code);
      this.#o.logger.error({ err: (error as Error).message, seq: m.seq }, 'storage record could not be checked');
      return this.#invalid('error');
    }
  }

  #addGroup(record: GroupRecord): void {
    const { chunk } = record.document;
    this.#groups.set(record.id, record);
    this.#stats.groups++;
    const list = this.#groupsByChunk.get(chunk) ?? [];
    list.push(record);
    this.#groupsByChunk.set(chunk, list);
    const before = this.#current.get(chunk);
    const after = currentGroups(list).get(chunk) as GroupRecord;
    if (before?.id === after.id) return;
    if (before) this.#account(before.document, -1);
    this.#account(after.document, 1);
    this.#current.set(chunk, after);
    this.#dirty.add(chunk);
  }

  /** Adds (sign 1) or removes (-1) a current group's shards from the per-node indices. */
  #account(group: ErasureGroup, sign: 1 | -1): void {
    for (const node of group.holders) {
      this.#used.set(node, (this.#used.get(node) ?? 0) + sign * group.shard_bytes);
      let held = this.#held.get(node);
      if (!held) this.#held.set(node, (held = new Set()));
      if (sign > 0) held.add(group.chunk);
      else held.delete(group.chunk);
    }
  }

  #addReport(record: ReportRecord): void {
    const { chunk, node, shard } = record.document;
    this.#reportIds.add(record.id);
    this.#stats.reports++;
    let byKey = this.#reports.get(chunk);
    if (!byKey) this.#reports.set(chunk, (byKey = new Map()));
    const key = `${node} ${shard}`;
    const seen = byKey.get(key);
    if (seen && !isNewerReport(record, seen)) return;
    byKey.set(key, record);
    this.#dirty.add(chunk);
  }

  #wake(recordId: string): void {
    const list = this.#waiters.get(recordId);
    if (!list) return;
    this.#waiters.delete(recordId);
    for (const wake of list) wake();
  }

  #invalid(reason: string): void {
    this.#stats.invalidByReason[reason] = (this.#stats.invalidByReason[reason] ?? 0) + 1;
  }
}
