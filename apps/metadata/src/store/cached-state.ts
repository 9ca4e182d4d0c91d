/**
 * The projector's view of the state: the KV bucket behind a write-through cache. The
 * projector is the only writer (it holds the lease), so what it wrote is what the bucket
 * holds, and the cache never goes stale; it is bounded (least recently used entries go)
 * and a miss reads the bucket.
 *
 * Unsettled values (decided in a batch whose writes are not yet proven stored) are kept
 * apart from the bounded cache, never evicted, until the projector says that batch is
 * settled: a later record about the same manifest, in that batch or the next one (the
 * projector has two in flight), sees them, and never reads the bucket for a value that
 * may not be stored yet.
 *
 * Known-absent keys: every key the projector decides to write also goes into a filter.
 * Once the projector knows the bucket held no data when it began (markComplete: a fresh
 * bucket, or a rebuild's purge), a key the filter has never seen is absent, and a miss
 * costs no read: on a replay, nearly every manifest is new, and its reads were a sixth
 * of the projector's time.
 */
import type { FingerprintClaim, ManifestHead, StateView } from '../domain/decide.ts';
import type { ListHead, ListSlots } from '../domain/index-list.ts';
import { KEYS } from '../domain/keys.ts';
import { KeyFilter } from '../domain/key-filter.ts';
import type { MetadataStore } from './metadata-store.ts';

class Lru<V> {
  readonly #map = new Map<string, V>();
  constructor(readonly max: number) {}
  get(key: string): V | undefined {
    const value = this.#map.get(key);
    if (value !== undefined) {
      this.#map.delete(key);
      this.#map.set(key, value);
    }
    return value;
  }
  has(key: string): boolean {
    return this.#map.has(key);
  }
  set(key: string, value: V): void {
    this.#map.delete(key);
    this.#map.set(key, value);
    if (this.#map.size > this.max) this.#map.delete(this.#map.keys().next().value as string);
  }
  clear(): void {
    this.#map.clear();
  }
}

/** Marks "read, and absent" so a miss is not read twice. */
const ABSENT = Symbol('absent');
type Cached<V> = V | typeof ABSENT;

export class CachedState implements StateView {
  readonly #store: MetadataStore;
  readonly #heads: Lru<Cached<ManifestHead>>;
  readonly #claims: Lru<Cached<FingerprintClaim>>;
  /** Index lists' own values (index-list.ts), by key; the projector changes them in place. */
  readonly #lists: Lru<Cached<ListHead>>;
  /** Values of batches not settled yet, by KV key, with the batch that set them last. */
  readonly #unsettled = new Map<string, { value: unknown; batch: number }>();
  #batch = 0;
  #written = new KeyFilter();
  #complete = false;
  /** Reads a known-absent key saved. */
  skippedReads = 0;

  constructor(store: MetadataStore, maxEntries = 50_000) {
    this.#store = store;
    this.#heads = new Lru(maxEntries);
    this.#claims = new Lru(maxEntries);
    this.#lists = new Lru(maxEntries);
  }

  /** The bucket held none of the projection's data when the filter began: misses it never saw are absent. */
  markComplete(): void {
    this.#written = new KeyFilter();
    this.#complete = true;
  }

  get complete(): boolean {
    return this.#complete;
  }

  #knownAbsent(key: string): boolean {
    if (!this.#complete || this.#written.mightHold(key)) return false;
    this.skippedReads++;
    return true;
  }

  #fromUnsettled<V>(key: string): V | undefined {
    return this.#unsettled.get(key)?.value as V | undefined;
  }

  #setUnsettled(key: string, value: unknown): void {
    this.#unsettled.set(key, { value, batch: this.#batch });
    this.#written.add(key);
  }

  /** Numbers the batch whose decisions follow (see settled()). */
  beginBatch(): number {
    return ++this.#batch;
  }

  /** The writes of batch `batch` and every earlier one are stored: their values may go to the bounded cache alone. */
  settled(batch: number): void {
    for (const [key, entry] of this.#unsettled) if (entry.batch <= batch) this.#unsettled.delete(key);
  }

  /**
   * A value from the unsettled set or the cache, synchronously (nearly every call: a
   * promise per lookup showed in the projector's profile), else read from the bucket
   * and cached, absent included.
   */
  #lookup<V>(key: string, cache: Lru<Cached<V>>, cacheKey: string, read: () => Promise<V | undefined>): V | undefined | Promise<V | undefined> {
    const unsettled = this.#fromUnsettled<V>(key);
    if (unsettled !== undefined) return unsettled;
    const cached = cache.get(cacheKey);
    if (cached !== undefined) return cached === ABSENT ? undefined : cached;
    if (this.#knownAbsent(key)) {
      cache.set(cacheKey, ABSENT);
      return undefined;
    }
    return read().then((value) => {
      cache.set(cacheKey, value ?? ABSENT);
      return value;
    });
  }

  head(manifestId: string): ManifestHead | undefined | Promise<ManifestHead | undefined> {
    return this.#lookup(KEYS.head(manifestId), this.#heads, manifestId, () => this.#store.head(manifestId));
  }

  async versionRecordId(manifestId: string, seq: number): Promise<string | undefined> {
    // Rare (a repeated old version): versions archived in this batch are here, others in the bucket.
    const archived = this.#fromUnsettled<string>(KEYS.version(manifestId, seq));
    if (archived !== undefined || this.#knownAbsent(KEYS.version(manifestId, seq))) return archived;
    return (await this.#store.version(manifestId, seq))?.record_id;
  }

  fingerprintClaim(fingerprint: string): FingerprintClaim | undefined | Promise<FingerprintClaim | undefined> {
    return this.#lookup(KEYS.fingerprint(fingerprint), this.#claims, fingerprint, () => this.#store.fingerprintClaim(fingerprint));
  }

  creatorManifests(creator: string): number | Promise<number> {
    const list = this.listHead(KEYS.creatorList(creator));
    return list instanceof Promise ? list.then((l) => l?.joined ?? 0) : (list?.joined ?? 0);
  }

  /** A list's own value; the projector may change the object it gets, then calls setList. */
  listHead(key: string): ListHead | undefined | Promise<ListHead | undefined> {
    return this.#lookup(key, this.#lists, key, () => this.#store.listHead(key));
  }

  /** A full chunk of a list (rare: a manifest leaving a label); not cached once settled. */
  async listChunk(list: string, chunk: number): Promise<ListSlots> {
    const key = KEYS.listChunk(list, chunk);
    const unsettled = this.#fromUnsettled<ListSlots>(key);
    if (unsettled !== undefined) return unsettled;
    return this.#knownAbsent(key) ? [] : this.#store.listChunk(list, chunk);
  }

  /** Reads what a batch will need at once, in parallel, instead of one round trip after another. */
  async prefetch(manifestIds: Iterable<string>, fingerprints: Iterable<string>, lists: Iterable<string>): Promise<void> {
    // Lookups answer at once from the cache (and for known-absent keys); only reads wait.
    const reads: unknown[] = [];
    const known = (key: string) => this.#unsettled.has(key);
    for (const id of new Set(manifestIds)) if (!this.#heads.has(id) && !known(KEYS.head(id))) reads.push(this.head(id));
    for (const fp of new Set(fingerprints)) if (!this.#claims.has(fp) && !known(KEYS.fingerprint(fp))) reads.push(this.fingerprintClaim(fp));
    for (const key of new Set(lists)) if (!this.#lists.has(key) && !known(key)) reads.push(this.listHead(key));
    await Promise.all(reads.filter((read) => read instanceof Promise));
  }

  // Write-through: the projector records each accepted effect here as it decides it.
  // Each also enters the filter: decided is enough (a key in the filter that was never
  // written only costs a read).
  setHead(head: ManifestHead): void {
    this.#heads.set(head.manifest_id, head);
    this.#setUnsettled(KEYS.head(head.manifest_id), head);
  }
  setClaim(fingerprint: string, claim: FingerprintClaim): void {
    this.#claims.set(fingerprint, claim);
    this.#setUnsettled(KEYS.fingerprint(fingerprint), claim);
  }
  setList(key: string, list: ListHead): void {
    this.#lists.set(key, list);
    this.#setUnsettled(key, list);
  }
  /** A full chunk: only until settled, like versions (read again when a manifest leaves a label). */
  setListChunk(list: string, chunk: number, slots: ListSlots): void {
    this.#setUnsettled(KEYS.listChunk(list, chunk), slots);
  }
  /** An archived version: only until settled (a repeat of an old version is rare; then it reads the bucket). */
  setVersion(manifestId: string, seq: number, recordId: string): void {
    this.#setUnsettled(KEYS.version(manifestId, seq), recordId);
  }
  /**
   * After a failed write the cache may hold what the bucket does not: start over from the
   * bucket. The filter stays: what the bucket holds is still among what it saw.
   */
  reset(): void {
    this.#heads.clear();
    this.#claims.clear();
    this.#lists.clear();
    this.#unsettled.clear();
  }
}
