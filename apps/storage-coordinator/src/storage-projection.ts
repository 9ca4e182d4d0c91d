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
 * what makes the repair queue a projection too (docs/decisions.md). Read and checked
 * by @dmf/bus FederatedReader.
 */
import type { JetStreamClient, JetStreamManager, JsMsg } from '@nats-io/jetstream';
import type { Logger } from 'pino';
import type { ErasureGroup, RepairTask, ShardReport } from '@dmf/protocol';
import { checkRecordMessage, FederatedReader } from '@dmf/bus';
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
  readonly #reader: FederatedReader;

  constructor(options: StorageProjectionOptions) {
    this.#o = options;
    this.#reader = new FederatedReader({
      js: options.js,
      jsm: options.jsm,
      operator: options.operator,
      subjects: STORAGE_SUBJECT,
      apply: (m) => this.#apply(m),
      name: 'storage',
      logger: options.logger,
    });
  }

  /** Starts reading; resolves once every record stored at start has been read. */
  async start(): Promise<void> {
    await this.#reader.start();
  }

  async close(): Promise<void> {
    await this.#reader.close();
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

  /** Checks and keeps one record; true when the projection changed. */
  #apply(m: JsMsg): boolean {
    const checked = checkRecordMessage(m, { kinds: STORAGE_KINDS });
    if (!checked.ok) {
      if (checked.reason.startsWith('error')) this.#o.logger.error({ err: checked.reason, seq: m.seq }, 'storage record could not be checked');
      return this.#invalid(checked.reason);
    }
    const { record } = checked;
    if (this.has(record.id)) {
      this.#stats.duplicates++;
      return false;
    }
    if (record.kind === 'erasure_group') this.#addGroup({ id: record.id, document: record.document as ErasureGroup });
    else if (record.kind === 'shard_report') this.#addReport({ id: record.id, document: record.document as ShardReport });
    else {
      this.#tasks.set(record.id, { id: record.id, document: record.document as RepairTask });
      this.#stats.tasks++;
    }
    this.#wake(record.id);
    return true;
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

  #invalid(reason: string): false {
    const key = reason.startsWith('error') ? 'error' : reason;
    this.#stats.invalidByReason[key] = (this.#stats.invalidByReason[key] ?? 0) + 1;
    return false;
  }
}
