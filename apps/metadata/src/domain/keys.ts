/**
 * The keys of the metadata projection's KV bucket. One place, so that the projector,
 * the adapter's reads and the digest agree. NATS KV keys allow `[-/_=.A-Za-z0-9]`, so
 * free text (labels) is hex-encoded and a did:key is keyed by its multibase part.
 *
 * | key | value |
 * |---|---|
 * | `man.<manifest_id>` | head: the current version and its signed record |
 * | `ver.<manifest_id>.<seq>` | an earlier version's signed record |
 * | `fp.<fingerprint>` | the creator and manifest that first claimed a fingerprint |
 * | `cre.<creator>` | the creator's list: how many manifests they own, and the open chunk (index-list.ts) |
 * | `cre.<creator>.<n>` | chunk `n` of the creator's manifests, in order of first publication |
 * | `idx.<hex label>` | a label's list: joins so far, and the open chunk |
 * | `idx.<hex label>.<n>` | chunk `n` of the manifests under a label, in order of joining it |
 * | `snap.<node>.<stream>.<part>` | a node's newest categorisation snapshot of a stream, one key per part |
 * | `sig.<origin>` | what an operator's ORIGIN carried: records, invalid ones, bad fingerprints (origin-signals.ts) |
 * | `_pos` | the last FEDERATED stream sequence applied |
 * | `_lease` | which process may write (one projector per operator) |
 * | `_rebuild` | a request (from `dmf projections rebuild`) that the writer start over from sequence 1 |
 * | `_snapshot` | a request that the node publish a categorisation snapshot now |
 */

const DID_KEY_PREFIX = 'did:key:';

/** The key-safe part of a did:key (`z6Mk…`: base58btc, only letters and digits). */
export function didKeyToken(did: string): string {
  if (!did.startsWith(DID_KEY_PREFIX)) throw new TypeError(`not a did:key: ${did}`);
  return did.slice(DID_KEY_PREFIX.length);
}

/** Hex of a label's UTF-8 bytes. */
export function labelToken(label: string): string {
  return Buffer.from(label, 'utf8').toString('hex');
}

export function labelFromToken(token: string): string {
  return Buffer.from(token, 'hex').toString('utf8');
}

export const KEYS = {
  head: (manifestId: string) => `man.${manifestId}`,
  version: (manifestId: string, seq: number) => `ver.${manifestId}.${seq}`,
  fingerprint: (cid: string) => `fp.${cid}`,
  creatorList: (creator: string) => `cre.${didKeyToken(creator)}`,
  labelList: (label: string) => `idx.${labelToken(label)}`,
  /** Chunk `n` of a list (`list` is a creatorList or labelList key). */
  listChunk: (list: string, n: number) => `${list}.${n}`,
  snapshot: (node: string) => `snap.${didKeyToken(node)}`,
  snapshotPart: (node: string, stream: string, part: number) => `snap.${didKeyToken(node)}.${stream}.${part}`,
  signals: (origin: string) => `sig.${origin}`,
  position: '_pos',
  lease: '_lease',
  rebuild: '_rebuild',
  snapshotRequest: '_snapshot',
} as const;

/**
 * Prefixes of an older layout of the projection (before 2026-11-29: `cnt.<creator>`,
 * and one `cre.`/`idx.` key per entry). The projector rebuilds a projection that holds
 * them (projector.ts).
 */
export const LEGACY_PREFIXES = ['cnt'] as const;

/** Key prefixes of the projection's content (everything a rebuild drops). */
export const DATA_PREFIXES = ['man', 'ver', 'fp', 'cre', 'idx', 'snap', 'sig', ...LEGACY_PREFIXES] as const;

/** Prefixes of the keys the projector's decisions read (cached-state.ts). */
export const STATE_PREFIXES = ['man', 'ver', 'fp', 'cre', 'idx'] as const;

/** Keys that say how far the projection got and who writes it, not what it holds: left out of digests. */
export function isBookkeepingKey(key: string): boolean {
  return key.startsWith('_');
}
