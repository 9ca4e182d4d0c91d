/**
 * The projector's view of the state: the KV bucket behind a write-through cache. The
 * projector is the only writer (it holds the lease), so what it wrote is what the bucket
 * holds, and the cache never goes stale; it is bounded (least recently used entries go)
 * and a miss reads the bucket.
 *
 * Pending values (decided in this batch, not yet written) live in the cache too, so a
 * second record about the same manifest in one batch sees the first.
 */
import type { FingerprintClaim, ManifestHead, StateView } from '../domain/decide.ts';
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

  constructor(store: MetadataStore, maxEntries = 50_000) {
    this.#store = store;
    this.#heads = new Lru(maxEntries);
    this.#claims = new Lru(maxEntries);
    this.#counts = new Lru(maxEntries);
  }

  async head(manifestId: string): Promise<ManifestHead | undefined> {
    let value = this.#heads.get(manifestId);
    if (value === undefined) {
      value = (await this.#store.head(manifestId)) ?? ABSENT;
      this.#heads.set(manifestId, value);
    }
    return value === ABSENT ? undefined : value;
  }

  async versionRecordId(manifestId: string, seq: number): Promise<string | undefined> {
    const key = `${manifestId}.${seq}`;
    // Rare (a repeated old version): versions archived in this batch are here, others in the bucket.
    return this.#versions.get(key) ?? (await this.#store.version(manifestId, seq))?.record_id;
  }

  async fingerprintClaim(fingerprint: string): Promise<FingerprintClaim | undefined> {
    let value = this.#claims.get(fingerprint);
    if (value === undefined) {
      value = (await this.#store.fingerprintClaim(fingerprint)) ?? ABSENT;
      this.#claims.set(fingerprint, value);
    }
    return value === ABSENT ? undefined : value;
  }

  async creatorManifests(creator: string): Promise<number> {
    let value = this.#counts.get(creator);
    if (value === undefined) {
      value = await this.#store.creatorManifests(creator);
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
  setHead(head: ManifestHead): void {
    this.#heads.set(head.manifest_id, head);
  }
  setClaim(fingerprint: string, claim: FingerprintClaim): void {
    this.#claims.set(fingerprint, claim);
  }
  setCount(creator: string, count: number): void {
    this.#counts.set(creator, count);
  }
  setVersion(manifestId: string, seq: number, recordId: string): void {
    this.#versions.set(`${manifestId}.${seq}`, recordId);
  }
  /** After a batch is written, archived versions are in the bucket: forget them here. */
  endBatch(): void {
    this.#versions.clear();
  }
  /** After a failed write the cache may hold what the bucket does not: start over from the bucket. */
  reset(): void {
    this.#heads.clear();
    this.#claims.clear();
    this.#counts.clear();
    this.#versions.clear();
  }
}
