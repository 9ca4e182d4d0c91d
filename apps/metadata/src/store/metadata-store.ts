/**
 * Reads of the metadata projection (the KV bucket the projector writes): manifest heads
 * and earlier versions, fingerprint claims, creator counts, and the paginated creator
 * and label indices. The adapter and the projector's state view read through here; only
 * the projector writes (./projection-writer.ts).
 *
 * Index pages: an index entry (`cre.…` / `idx.…`) is written once when a manifest joins
 * the index and deleted when it leaves (the bucket keeps one message per key, so the
 * delete marker replaces the entry). Listing walks the bucket's stream in sequence order
 * with direct gets (`next_by_subj`), so the order is the order of joining, and a cursor
 * (the stream sequence of the last entry returned) stays valid while entries come and
 * go: nothing before it moves, nothing is skipped, nothing is returned twice.
 */
import type { JetStreamManager } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import type { ContentManifest } from '@dmf/protocol';
import { kvStreamName } from '@dmf/streams';
import type { FingerprintClaim, ManifestHead } from '../domain/decide.ts';
import { KEYS, manifestIdOfEntry } from '../domain/keys.ts';
import { decodeEntry } from './codec.ts';

/** An earlier version as stored under `ver.<id>.<seq>`. */
export interface StoredVersion {
  record_id: string;
  record: ContentManifest;
}

export interface IndexPage {
  heads: ManifestHead[];
  /** Opaque cursor of the next page; absent on the last page. */
  next: string | undefined;
}

export interface ProjectionPosition {
  /** Last FEDERATED stream sequence applied (0: nothing yet). */
  seq: number;
}

/** Cursors are the stream sequence of the last entry returned, in base-36 (short, opaque enough). */
export function encodeCursor(seq: number): string {
  return seq.toString(36);
}

/** The sequence a cursor stands for, or undefined when it is not one of ours. */
export function decodeCursor(cursor: string): number | undefined {
  if (!/^[0-9a-z]{1,11}$/.test(cursor)) return undefined;
  const seq = Number.parseInt(cursor, 36);
  return Number.isSafeInteger(seq) && seq > 0 ? seq : undefined;
}

export class MetadataStore {
  readonly kv: KV;
  readonly #jsm: JetStreamManager;
  readonly #bucket: string;
  readonly #stream: string;

  constructor(kv: KV, jsm: JetStreamManager, bucket: string) {
    this.kv = kv;
    this.#jsm = jsm;
    this.#bucket = bucket;
    this.#stream = kvStreamName(bucket);
  }

  get bucket(): string {
    return this.#bucket;
  }

  async head(manifestId: string): Promise<ManifestHead | undefined> {
    return decodeEntry<ManifestHead>(await this.kv.get(KEYS.head(manifestId)));
  }

  /** The raw JSON bytes of a head, for answers that pass it through without re-encoding. */
  async headBytes(manifestId: string): Promise<Uint8Array | undefined> {
    const entry = await this.kv.get(KEYS.head(manifestId));
    return entry && entry.operation === 'PUT' ? entry.value : undefined;
  }

  async version(manifestId: string, seq: number): Promise<StoredVersion | undefined> {
    return decodeEntry<StoredVersion>(await this.kv.get(KEYS.version(manifestId, seq)));
  }

  async fingerprintClaim(fingerprint: string): Promise<FingerprintClaim | undefined> {
    return decodeEntry<FingerprintClaim>(await this.kv.get(KEYS.fingerprint(fingerprint)));
  }

  async creatorManifests(creator: string): Promise<number> {
    return decodeEntry<number>(await this.kv.get(KEYS.creatorCount(creator))) ?? 0;
  }

  /** Whether any key (a delete marker too) exists under one of these prefixes. */
  async holdsAnyKey(prefixes: readonly string[]): Promise<boolean> {
    for (const prefix of prefixes) {
      const message = await this.#jsm.direct.getMessage(this.#stream, { seq: 1, next_by_subj: `$KV.${this.#bucket}.${prefix}.>` });
      if (message) return true;
    }
    return false;
  }

  async position(): Promise<ProjectionPosition> {
    return decodeEntry<ProjectionPosition>(await this.kv.get(KEYS.position)) ?? { seq: 0 };
  }

  /** A creator's manifests, in the order they first published them. */
  listCreator(creator: string, cursor: number | undefined, limit: number): Promise<IndexPage> {
    return this.#list(KEYS.creatorPrefix(creator), cursor, limit);
  }

  /** The manifests under a (normalised) label, in the order they joined it. */
  listLabel(label: string, cursor: number | undefined, limit: number): Promise<IndexPage> {
    return this.#list(KEYS.labelPrefix(label), cursor, limit);
  }

  async #list(prefix: string, cursor: number | undefined, limit: number): Promise<IndexPage> {
    const filter = `$KV.${this.#bucket}.${prefix}.*`;
    const ids: { id: string; seq: number }[] = [];
    let seq = (cursor ?? 0) + 1;
    let more = false;
    // One entry beyond the page tells whether a next page exists.
    while (ids.length <= limit) {
      const message = await this.#jsm.direct.getMessage(this.#stream, { seq, next_by_subj: filter });
      if (!message) break;
      seq = message.seq + 1;
      const operation = message.header?.get('KV-Operation');
      if (operation === 'DEL' || operation === 'PURGE') continue;
      if (ids.length === limit) {
        more = true;
        break;
      }
      ids.push({ id: manifestIdOfEntry(message.subject), seq: message.seq });
    }
    const heads = await Promise.all(ids.map(({ id }) => this.head(id)));
    const last = ids.at(-1);
    return {
      // A head can only be missing if the projection is being rebuilt under us.
      heads: heads.filter((h): h is ManifestHead => h !== undefined),
      next: more && last ? encodeCursor(last.seq) : undefined,
    };
  }
}
