/**
 * The client's memory of the newest version of each signed subject it has seen, for
 * rollback and equivocation checks (./domain/version-judgement.ts). Injectable: a node
 * keeps it in its own store so that a restart does not forget; the default lives in
 * memory for the life of the client.
 */
import type { KnownVersion } from './domain/version-judgement.ts';

export interface KnownVersions {
  /** The newest version remembered under `key`, if any. */
  get(key: string): KnownVersion | undefined | Promise<KnownVersion | undefined>;
  /**
   * Remembers `version` under `key`. Must never replace a higher `seq` with a lower
   * one: two concurrent verifications may finish in either order.
   */
  remember(key: string, version: KnownVersion): void | Promise<void>;
}

export interface MemoryKnownVersionsOptions {
  /**
   * Most keys kept; past it the least recently updated key is forgotten (its subject
   * then starts afresh). Default 100,000 (a few MB).
   */
  maxKeys?: number;
}

/** An in-memory KnownVersions. */
export function createMemoryKnownVersions(options: MemoryKnownVersionsOptions = {}): KnownVersions {
  const maxKeys = options.maxKeys ?? 100_000;
  if (!Number.isSafeInteger(maxKeys) || maxKeys < 1) throw new RangeError(`maxKeys: must be a positive integer, got ${String(maxKeys)}`);
  const versions = new Map<string, KnownVersion>();
  return {
    get: (key) => versions.get(key),
    remember(key, version) {
      const current = versions.get(key);
      if (current !== undefined && current.seq > version.seq) return;
      // Delete then set: a Map iterates in insertion order, so the first key is the stalest.
      versions.delete(key);
      versions.set(key, { seq: version.seq, recordId: version.recordId });
      if (versions.size > maxKeys) {
        const [stalest] = versions.keys();
        if (stalest !== undefined) versions.delete(stalest);
      }
    },
  };
}
