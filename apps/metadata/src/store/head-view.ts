/**
 * The current heads, in the serving process: for every manifest it holds, the KV
 * revision of `man.<manifest_id>` and the ready-to-send bytes of `GET /manifest/<id>`
 * (the current version). A hit is a Map lookup: no NATS round trip, no JSON work. With
 * nats-server 2.9.10, a KV get among millions of keys is slow (nats-server#4221) and a
 * round trip per request costs more than the HTTP answer itself (docs/benchmarks.md).
 *
 * How it stays current:
 *
 * - A KV watch on `man.>` (nats.js `kv.watch`: the last value of every key, then every
 *   change) fills and updates it. A delete or purge marker drops the entry.
 * - A second watch on `_pos` notices the projection starting over. A rebuild purges the
 *   data prefixes with a filtered stream purge (`purgeProjection`), which leaves no
 *   marker a watch could see; it then writes `_pos` back to 0 (or deletes it). A
 *   position going backwards, or a deleted `_pos`, clears the view, and from then on
 *   anything at or below that revision (written before the purge) is ignored. (The
 *   bucket keeps one value a key: a watch that lagged so far behind that the replay
 *   passed the old position before it saw `_pos` go back would miss the reset.)
 * - A miss (not loaded yet, evicted, or not held) reads KV as the route did before and
 *   keeps the answer. Concurrent misses of one id share one read.
 * - The newer revision wins, always: a watch entry or a read older than what is held is
 *   ignored, and a read is not kept when the watch saw that key change (or go) while the
 *   read was under way, even if the change was evicted since.
 * - When the watch stops (error, end, the NATS connection lost), nothing is served from
 *   memory: the view logs, clears, every read goes to KV, and it watches again (backoff
 *   250 ms to 5 s) and reloads. It never answers from data it can no longer keep current.
 *
 * Bounded by bytes (answer bytes plus an estimate of the per-entry overhead),
 * least-recently-used entries evicted first. Budget: `maxBytes`, else
 * `DMF_METADATA_HEAD_CACHE_MB`, else min(2 GiB, a quarter of the machine's memory);
 * 0 disables the view (no watch; the routes read KV as before).
 *
 * Keys are manifest ids; nothing here holds or logs a creator, an address or anything
 * else about who asks.
 */
import { totalmem } from 'node:os';
import fastJson from 'fast-json-stringify';
import { jetstream, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { KV, KvEntry, KvWatchEntry } from '@nats-io/kv';
import type { Logger } from 'pino';
import { kvStreamName } from '@dmf/streams';
import type { ManifestHead } from '../domain/decide.ts';
import { KEYS } from '../domain/keys.ts';
import { ManifestAnswer } from '../schemas.ts';
import { decodeJson } from './codec.ts';
import { openBucket } from '@dmf/bus';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

/** Environment variable of the byte budget, in MiB (0 disables the view). */
export const HEAD_CACHE_ENV = 'DMF_METADATA_HEAD_CACHE_MB';

/**
 * Memory an entry costs besides its answer bytes and its key: the Map slot, the entry
 * object, the key string's header, and the Buffer with its own ArrayBuffer. Measured on
 * Node 20 with 100,000 entries of 1,463-byte answers (process.memoryUsage after a full
 * GC, before and after loading): 1,846 bytes an entry in all, so about 350 besides the
 * answer and the 36-byte key; rounded up, so the budget errs on the safe side.
 */
export const ENTRY_OVERHEAD_BYTES = 400;

/** The `Content-Type` a hit is sent with: what Fastify sets when it serialises an object. */
export const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

const HEAD_PREFIX = KEYS.head('');
const RETRY_MIN_MS = 250;
const RETRY_MAX_MS = 5_000;

/**
 * The serialiser Fastify compiles for the route's `ManifestAnswer` response schema:
 * fast-json-stringify with libs/http's `serializerOpts` (formats not validated). Members
 * come out in the schema's order, not the stored record's; using the same compiler
 * keeps a view answer byte-for-byte the route's (test/head-view.test.ts compares them).
 */
const serializeAnswer = fastJson(ManifestAnswer, { ajv: { validateFormats: false } }) as (answer: unknown) => string;

/** The bytes of `GET /manifest/<id>` (current version) for a head. */
export function manifestAnswerBytes(head: ManifestHead): Buffer {
  const json = serializeAnswer({
    manifest_id: head.manifest_id,
    creator: head.creator,
    seq: head.seq,
    seqs: head.seqs,
    record_id: head.record_id,
    record: head.record,
  });
  // Unpooled: a pooled slice would keep its whole 8 KiB slab alive after eviction.
  const bytes = Buffer.allocUnsafeSlow(Buffer.byteLength(json));
  bytes.write(json);
  return bytes;
}

/** min(2 GiB, a quarter of the machine's memory). */
export function defaultHeadCacheBytes(machineBytes = totalmem()): number {
  return Math.min(2 * GiB, Math.floor(machineBytes / 4));
}

/** The byte budget: the option, else the environment variable (MiB), else the default. */
export function headCacheBytes(option?: number, env: NodeJS.ProcessEnv = process.env): number {
  if (option !== undefined) {
    if (!Number.isSafeInteger(option) || option < 0) throw new RangeError(`headCacheBytes: must be a whole number of bytes ≥ 0 (0 disables the head view), got ${option}`);
    return option;
  }
  const raw = env[HEAD_CACHE_ENV]?.trim();
  if (raw === undefined || raw === '') return defaultHeadCacheBytes();
  if (!/^[0-9]{1,7}$/.test(raw)) throw new RangeError(`${HEAD_CACHE_ENV}: must be a whole number of MiB (0 disables the head view), got ${JSON.stringify(raw)}`);
  return Number(raw) * MiB;
}

export interface HeadViewOptions {
  /** The metadata bucket (opened with openBucket, so misses use direct gets). */
  kv: KV;
  /** Tells whether the bucket holds any head at start (kv.watch sends nothing for an empty prefix). */
  jsm: JetStreamManager;
  bucket: string;
  /** Byte budget; default from {@link headCacheBytes}. 0 disables the view. */
  maxBytes?: number;
  /**
   * The connection under `kv`: when it is lost, updates may be missed, so the view
   * clears and watches again once it is back. Without it, only a stopped watch does that.
   */
  nc?: { status(): AsyncIterable<{ type: string }> };
  /**
   * The same bucket on a JetStream context with a long API timeout (openWatchBucket),
   * for setting up the watches: at a million manifests nats-server 2.9 takes longer
   * than the default 5 s to create a last-value-per-key consumer over `man.>`, and a
   * retry only starts that work again. Default: `kv`.
   */
  watchKv?: KV;
  logger?: Logger;
}

/** How long the watches' consumers may take to be created (see HeadViewOptions.watchKv). */
export const WATCH_SETUP_TIMEOUT_MS = 180_000;

/** The bucket, opened for the view's watches: API requests may take WATCH_SETUP_TIMEOUT_MS. */
export function openWatchBucket(nc: NatsConnection, bucket: string): Promise<KV> {
  return openBucket(jetstream(nc, { timeout: WATCH_SETUP_TIMEOUT_MS }), bucket);
}

export interface HeadViewStats {
  /** False when the budget is 0: the routes read KV. */
  enabled: boolean;
  /** Watching: hits are served from memory. False before start, while re-watching, after stop. */
  serving: boolean;
  /** The current watch has delivered every head the bucket held when it began. */
  loaded: boolean;
  /** How long the last initial load took (ms), once loaded. */
  loadMs: number | undefined;
  entries: number;
  /** Bytes counted against the budget (answer bytes, keys, per-entry overhead). */
  bytes: number;
  maxBytes: number;
  hits: number;
  /** Reads that went to KV (not held, or not serving). */
  misses: number;
  evictions: number;
  /** Times the view was cleared: watch stopped, connection lost, projection started over. */
  clears: number;
}

interface Entry {
  revision: number;
  bytes: Buffer;
  cost: number;
}

/** A read of KV under way for one id; `seen` is the newest revision the watch saw for it meanwhile. */
interface Inflight {
  promise: Promise<Buffer | undefined>;
  seen: number;
}

interface Session {
  watchers: { stop(): void }[];
  loaded: boolean;
  startedAt: number;
  /** Entries at or below this revision predate a purge of the projection. */
  floor: number;
  /** Last `_pos` seen; a smaller one means the projection started over. */
  position: number | undefined;
}

export class HeadView {
  readonly enabled: boolean;
  readonly maxBytes: number;
  readonly #kv: KV;
  readonly #watchKv: KV;
  readonly #jsm: JetStreamManager;
  readonly #bucket: string;
  readonly #nc: HeadViewOptions['nc'];
  readonly #log: Logger | undefined;
  readonly #entries = new Map<string, Entry>();
  readonly #inflight = new Map<string, Inflight>();
  #bytes = 0;
  #session: Session | undefined;
  /** Changes whenever the view is cleared: a read begun before is not kept. */
  #generation = 0;
  #started = false;
  #stopped = false;
  #retry: { timer: NodeJS.Timeout; run: () => void } | undefined;
  #retryMs = RETRY_MIN_MS;
  #statuses: { stop?: () => void } | undefined;
  #loadMs: number | undefined;
  #loadWaiters: (() => void)[] = [];
  #hits = 0;
  #misses = 0;
  #evictions = 0;
  #clears = 0;

  constructor(options: HeadViewOptions) {
    this.maxBytes = headCacheBytes(options.maxBytes);
    this.enabled = this.maxBytes > 0;
    this.#kv = options.kv;
    this.#watchKv = options.watchKv ?? options.kv;
    this.#jsm = options.jsm;
    this.#bucket = options.bucket;
    this.#nc = options.nc;
    this.#log = options.logger?.child({ sub: 'head-view' });
  }

  /**
   * Starts watching (resolves once the watch runs, not once loaded: see {@link loaded}).
   * Does not throw: if the watch cannot be set up, reads go to KV and it tries again.
   */
  async start(): Promise<void> {
    if (!this.enabled || this.#started || this.#stopped) return;
    this.#started = true;
    this.#followConnection();
    await this.#watch();
  }

  /** Resolves when the current watch has delivered every head the bucket held when it began. */
  loaded(): Promise<void> {
    if (this.#session?.loaded || !this.enabled || this.#stopped) return Promise.resolve();
    return new Promise((resolve) => this.#loadWaiters.push(resolve));
  }

  /** The answer bytes of a held head (counted as a hit), or undefined. Never reads KV. */
  get(manifestId: string): Buffer | undefined {
    if (this.#session === undefined) return undefined;
    const entry = this.#entries.get(manifestId);
    if (entry === undefined) return undefined;
    // Most recently used last: eviction takes from the front.
    this.#entries.delete(manifestId);
    this.#entries.set(manifestId, entry);
    this.#hits++;
    return entry.bytes;
  }

  /** The answer bytes of the current version: from memory, or read from KV (and kept). Undefined: no such manifest. */
  answer(manifestId: string): Promise<Buffer | undefined> {
    const held = this.get(manifestId);
    if (held !== undefined) return Promise.resolve(held);
    const under = this.#inflight.get(manifestId);
    this.#misses++;
    if (under !== undefined) return under.promise;
    const inflight: Inflight = { promise: Promise.resolve(undefined), seen: 0 };
    inflight.promise = this.#readThrough(manifestId, inflight).finally(() => this.#inflight.delete(manifestId));
    this.#inflight.set(manifestId, inflight);
    return inflight.promise;
  }

  stats(): HeadViewStats {
    return {
      enabled: this.enabled,
      serving: this.#session !== undefined,
      loaded: this.#session?.loaded ?? false,
      loadMs: this.#loadMs,
      entries: this.#entries.size,
      bytes: this.#bytes,
      maxBytes: this.maxBytes,
      hits: this.#hits,
      misses: this.#misses,
      evictions: this.#evictions,
      clears: this.#clears,
    };
  }

  /** Stops watching and drops everything; reads go to KV from now on. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#retry) clearTimeout(this.#retry.timer);
    this.#retry = undefined;
    this.#statuses?.stop?.();
    this.#endSession();
    this.#clear(false);
    for (const resolve of this.#loadWaiters.splice(0)) resolve();
  }

  async #readThrough(manifestId: string, inflight: Inflight): Promise<Buffer | undefined> {
    // Kept only if the watch ran for the whole read and nothing was cleared meanwhile.
    const generation = this.#generation;
    const watched = this.#session !== undefined;
    const entry = await this.#kv.get(KEYS.head(manifestId));
    if (entry === null || entry.operation !== 'PUT') return undefined;
    const held = this.#entries.get(manifestId);
    // The watch already brought something newer: answer with it.
    if (held !== undefined && held.revision >= entry.revision) return held.bytes;
    const bytes = manifestAnswerBytes(decodeJson<ManifestHead>(entry.value));
    const session = this.#session;
    if (watched && session !== undefined && generation === this.#generation && entry.revision > inflight.seen && entry.revision > session.floor) {
      this.#put(manifestId, entry.revision, bytes);
    }
    return bytes;
  }

  /** Sets up both watches; on failure, tries again later. */
  async #watch(): Promise<void> {
    if (this.#stopped) return;
    const session: Session = { watchers: [], loaded: false, startedAt: performance.now(), floor: 0, position: undefined };
    try {
      // `_pos` first: a purge between the two is then seen either as `_pos` going back
      // or not at all by the head watch, which starts after it.
      const position = await this.#watchKv.watch({ key: KEYS.position });
      session.watchers.push(position);
      const heads = await this.#watchKv.watch({ key: `${HEAD_PREFIX}>` });
      session.watchers.push(heads);
      if (this.#stopped) throw new Error('stopped');
      this.#session = session;
      this.#generation++;
      void this.#follow(session, position, (e) => this.#applyPosition(session, e));
      void this.#follow(session, heads, (e) => this.#applyHead(session, e));
      this.#retryMs = RETRY_MIN_MS;
      // An empty prefix delivers nothing, so nothing would say the load is complete.
      if (!(await this.#anyHead()) && this.#session === session) this.#markLoaded(session);
    } catch (error) {
      for (const w of session.watchers) w.stop();
      if (this.#session === session) this.#session = undefined;
      if (this.#stopped) return;
      if ((error as Error).name === 'ClosedConnectionError') {
        this.#log?.warn('head view: the NATS connection is closed; reads go to the store');
        return;
      }
      this.#log?.warn({ err: (error as Error).message, retryInMs: this.#retryMs }, 'head view: cannot watch the heads; reads go to the store');
      this.#scheduleWatch();
    }
  }

  #scheduleWatch(): void {
    if (this.#stopped || this.#retry) return;
    const run = () => {
      if (this.#retry) clearTimeout(this.#retry.timer);
      this.#retry = undefined;
      void this.#watch();
    };
    const timer = setTimeout(run, this.#retryMs);
    timer.unref();
    this.#retry = { timer, run };
    this.#retryMs = Math.min(this.#retryMs * 2, RETRY_MAX_MS);
  }

  async #anyHead(): Promise<boolean> {
    try {
      const first = await this.#jsm.direct.getMessage(kvStreamName(this.#bucket), { seq: 1, next_by_subj: `$KV.${this.#bucket}.${HEAD_PREFIX}>` });
      return first !== null;
    } catch {
      return true; // Unknown: the load is then complete at the first head.
    }
  }

  async #follow(session: Session, watcher: AsyncIterable<KvWatchEntry>, apply: (entry: KvWatchEntry) => void): Promise<void> {
    let reason = 'the watch ended';
    try {
      for await (const entry of watcher) {
        if (this.#session !== session) return;
        apply(entry);
      }
    } catch (error) {
      reason = (error as Error).message;
    }
    if (this.#session !== session || this.#stopped) return;
    this.#restart(reason);
  }

  /** Forget everything and watch again: nothing served from memory until then. */
  #restart(reason: string): void {
    this.#log?.warn({ err: reason, entries: this.#entries.size }, 'head view: watch stopped; cleared, reads go to the store until it is watched again');
    this.#endSession();
    this.#clear();
    this.#scheduleWatch();
  }

  #endSession(): void {
    const session = this.#session;
    this.#session = undefined;
    this.#generation++;
    for (const w of session?.watchers ?? []) w.stop();
  }

  #followConnection(): void {
    if (!this.#nc) return;
    const statuses = this.#nc.status();
    this.#statuses = statuses as { stop?: () => void };
    void (async () => {
      for await (const status of statuses) {
        if (this.#stopped) return;
        if (status.type === 'disconnect' && this.#session !== undefined) this.#restart('the NATS connection was lost');
        // Back: try now rather than at the end of the backoff.
        if (status.type === 'reconnect') this.#retry?.run();
      }
    })().catch(() => undefined);
  }

  #applyHead(session: Session, e: KvWatchEntry): void {
    if (e.revision > session.floor) {
      const id = e.key.slice(HEAD_PREFIX.length);
      const inflight = this.#inflight.get(id);
      if (inflight !== undefined && e.revision > inflight.seen) inflight.seen = e.revision;
      if (e.operation === 'PUT') this.#applyPut(id, e);
      else this.#drop(id);
    }
    if (!session.loaded && e.isUpdate) this.#markLoaded(session);
  }

  #applyPut(id: string, e: KvEntry): void {
    const held = this.#entries.get(id);
    if (held !== undefined && held.revision >= e.revision) return;
    let bytes: Buffer;
    try {
      bytes = manifestAnswerBytes(decodeJson<ManifestHead>(e.value));
    } catch (error) {
      // Not a head this code can answer with: leave it to the KV path (which fails the same way, visibly).
      this.#drop(id);
      this.#log?.error({ err: (error as Error).message, revision: e.revision }, 'head view: a head could not be read');
      return;
    }
    this.#put(id, e.revision, bytes);
  }

  #applyPosition(session: Session, e: KvWatchEntry): void {
    let position: number | undefined;
    if (e.operation === 'PUT') {
      try {
        position = decodeJson<{ seq: number }>(e.value).seq;
      } catch {
        position = undefined;
      }
    }
    const startedOver = position === undefined || (session.position !== undefined && position < session.position);
    session.position = position;
    if (!startedOver || e.revision <= session.floor) return;
    this.#log?.info({ revision: e.revision, entries: this.#entries.size }, 'head view: the projection started over; cleared');
    session.floor = e.revision;
    this.#generation++;
    this.#clear();
  }

  #markLoaded(session: Session): void {
    session.loaded = true;
    this.#loadMs = performance.now() - session.startedAt;
    this.#log?.info({ entries: this.#entries.size, bytes: this.#bytes, ms: Math.round(this.#loadMs) }, 'head view: loaded');
    for (const resolve of this.#loadWaiters.splice(0)) resolve();
  }

  #put(id: string, revision: number, bytes: Buffer): void {
    this.#drop(id);
    const cost = bytes.byteLength + id.length + ENTRY_OVERHEAD_BYTES;
    if (cost > this.maxBytes) return;
    this.#entries.set(id, { revision, bytes, cost });
    this.#bytes += cost;
    while (this.#bytes > this.maxBytes) {
      const oldest = this.#entries.keys().next();
      if (oldest.done) break;
      this.#drop(oldest.value);
      this.#evictions++;
    }
  }

  #drop(id: string): void {
    const held = this.#entries.get(id);
    if (held === undefined) return;
    this.#entries.delete(id);
    this.#bytes -= held.cost;
  }

  #clear(counted = true): void {
    if (counted) this.#clears++;
    this.#entries.clear();
    this.#bytes = 0;
  }
}

/** A view over the metadata bucket; call start(). */
export function createHeadView(options: HeadViewOptions): HeadView {
  return new HeadView(options);
}
