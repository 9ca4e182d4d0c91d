/**
 * The projector's view of the state: the KV bucket behind a write-through cache. The
 * projector is the only writer (it holds the lease), so what it wrote is what the bucket
 * holds, and the cache never goes stale; it is bounded (least recently used entries go)
 * and a miss reads the bucket.
 *
 * Pending values (decided in this batch, not yet written) live in the cache too, so a
 * second record about the same manifest in one batch sees the first.
 *
 * Known-absent keys: every key the projector decides to write also goes into a filter.
 * Once the projector knows the bucket held no data when it began (markComplete: a fresh
 * bucket, or a rebuild's purge), a key the filter has never seen is absent, and a miss
 * costs no read: on a replay, nearly every manifest is new, and its reads were a sixth
 * of the projector's time.
 */
import type { FingerprintClaim, ManifestHead, StateView } from '../domain/decide.ts';
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
  readonly #counts: Lru<number>;
  readonly #versions = new Map<string, string>();
  #written = new KeyFilter();
  #complete = false;
  /** Reads a known-absent key saved. */
  skippedReads = 0;

  constructor(store: MetadataStore, maxEntries = 50_000) {
    this.#store = store;
    this.#heads = new Lru(maxEntries);
    this.#claims = new Lru(maxEntries);
    this.#counts = new Lru(maxEntries);
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

  async head(manifestId: string): Promise<ManifestHead | undefined> {
    let value = this.#heads.get(manifestId);
    if (value === undefined) {
      value = this.#knownAbsent(KEYS.head(manifestId)) ? ABSENT : ((await this.#store.head(manifestId)) ?? ABSENT);
      this.#heads.set(manifestId, value);
    }
    return value === ABSENT ? undefined : value;
  }

  async versionRecordId(manifestId: string, seq: number): Promise<string | undefined> {
    const key = `${manifestId}.${seq}`;
    // Rare (a repeated old version): versions archived in this batch are here, others in the bucket.
    const archived = this.#versions.get(key);
    if (archived !== undefined || this.#knownAbsent(KEYS.version(manifestId, seq))) return archived;
    return (await this.#store.version(manifestId, seq))?.record_id;
  }

  async fingerprintClaim(fingerprint: string): Promise<FingerprintClaim | undefined> {
    let value = this.#claims.get(fingerprint);
    if (value === undefined) {
      value = this.#knownAbsent(KEYS.fingerprint(fingerprint)) ? ABSENT : ((await this.#store.fingerprintClaim(fingerprint)) ?? ABSENT);
      this.#claims.set(fingerprint, value);
    }
    return value === ABSENT ? undefined : value;
  }

  async creatorManifests(creator: string): Promise<number> {
    let value = this.#counts.get(creator);
    if (value === undefined) {
      value = this.#knownAbsent(KEYS.creatorCount(creator)) ? 0 : await this.#store.creatorManifests(creator);
      this.#counts.set(creator, value);
    }
    return value;
  }

  /** Reads what a batch will need at once, in parallel, instead of one round trip after another. */
  async prefetch(manifestIds: Iterable<string>, fingerprints: Iterable<string>, creators: Iterable<string>): Promise<void> {
    const reads: Promise<unknown>[] = [];
    for (const id of new Set(manifestIds)) if (!this.#heads.has(id)) reads.push(this.head(id));
    for (const fp of new Set(fingerprints)) if (!this.#claims.has(fp)) reads.push(this.fingerprintClaim(fp));
    for (const c of new Set(creators)) if (!this.#counts.has(c)) reads.push(this.creatorManifests(c));
    await Promise.all(reads);
  }

  // Write-through: the projector records each accepted effect here as it decides it.
  // Each also enters the filter: decided is enough (a key in the filter that was never
  // written only costs a read).
  setHead(head: ManifestHead): void {
    this.#heads.set(head.manifest_id, head);
    this.#written.add(KEYS.head(head.manifest_id));
  }
  setClaim(fingerprint: string, claim: FingerprintClaim): void {
    this.#claims.set(fingerprint, claim);
    this.#written.add(KEYS.fingerprint(fingerprint));
  }
  setCount(creator: string, count: number): void {
    this.#counts.set(creator, count);
    this.#written.add(KEYS.creatorCount(creator));
  }
  setVersion(manifestId: string, seq: number, recordId: string): void {
    this.#versions.set(`${manifestId}.${seq}`, recordId);
    this.#written.add(KEYS.version(manifestId, seq));
  }
  /** After a batch is written, archived versions are in the bucket: forget them here. */
  endBatch(): void {
    this.#versions.clear();
  }
  /**
   * After a failed write the cache may hold what the bucket does not: start over from the
   * bucket. The filter stays: what the bucket holds is still among what it saw.
   */
  reset(): void {
    this.#heads.clear();
    this.#claims.clear();
    this.#counts.clear();
    this.#versions.clear();
  }
}
