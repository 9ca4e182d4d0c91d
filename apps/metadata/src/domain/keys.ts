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
 * | `cnt.<creator>` | how many manifests a creator owns |
 * | `cre.<creator>.<manifest_id>` | (empty) the creator's manifests, in order of first publication |
 * | `idx.<hex label>.<manifest_id>` | (empty) the manifests under a label, in order of joining it |
 * | `snap.<node>.<stream>.<part>` | a node's newest categorisation snapshot of a stream, one key per part |
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
  creatorCount: (creator: string) => `cnt.${didKeyToken(creator)}`,
  creatorEntry: (creator: string, manifestId: string) => `cre.${didKeyToken(creator)}.${manifestId}`,
  creatorPrefix: (creator: string) => `cre.${didKeyToken(creator)}`,
  labelEntry: (label: string, manifestId: string) => `idx.${labelToken(label)}.${manifestId}`,
  labelPrefix: (label: string) => `idx.${labelToken(label)}`,
  snapshot: (node: string) => `snap.${didKeyToken(node)}`,
  snapshotPart: (node: string, stream: string, part: number) => `snap.${didKeyToken(node)}.${stream}.${part}`,
  position: '_pos',
  lease: '_lease',
  rebuild: '_rebuild',
  snapshotRequest: '_snapshot',
} as const;

/** Key prefixes of the projection's content (everything a rebuild drops). */
export const DATA_PREFIXES = ['man', 'ver', 'fp', 'cnt', 'cre', 'idx', 'snap'] as const;

/** Prefixes of the keys the projector's decisions read (cached-state.ts). */
export const STATE_PREFIXES = ['man', 'ver', 'fp', 'cnt'] as const;

/** Keys that say how far the projection got and who writes it, not what it holds: left out of digests. */
export function isBookkeepingKey(key: string): boolean {
  return key.startsWith('_');
}

/** The manifest id at the end of a `cre.` or `idx.` entry key. */
export function manifestIdOfEntry(key: string): string {
  return key.slice(key.lastIndexOf('.') + 1);
}
