/**
 * Reads of the metadata projection (the KV bucket the projector writes): manifest heads
 * and earlier versions, fingerprint claims, creator counts, and the paginated creator
 * and label indices. The adapter and the projector's state view read through here; only
 * the projector writes (./projection-writer.ts).
 *
 * Index lists (domain/index-list.ts): a page reads the list's own value (the count of
 * joins and the open chunk) and the full chunks from where the cursor points. A cursor
 * is a join number, so it stays valid while entries come and go: nothing before it
 * moves, nothing is skipped, nothing is returned twice.
 */
import type { JetStreamManager } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import type { ContentManifest } from '@dmf/protocol';
import { kvStreamName } from '@dmf/streams';
import type { FingerprintClaim, ManifestHead } from '../domain/decide.ts';
import { chunksFrom, entriesOf, openChunkOf, type ListEntry, type ListHead, type ListSlots } from '../domain/index-list.ts';
import { KEYS } from '../domain/keys.ts';
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

/** A cursor is the join number the next page starts from (always > 0), in base-36 (short, opaque enough). */
export function encodeCursor(join: number): string {
  return join.toString(36);
}

/** The join number a cursor stands for, or undefined when it is not one of ours. */
export function decodeCursor(cursor: string): number | undefined {
  if (!/^[0-9a-z]{1,11}$/.test(cursor)) return undefined;
  const join = Number.parseInt(cursor, 36);
  return Number.isSafeInteger(join) && join > 0 ? join : undefined;
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

  /** A list's own value (index-list.ts); `key` is a KEYS.creatorList or KEYS.labelList key. */
  async listHead(key: string): Promise<ListHead | undefined> {
    return decodeEntry<ListHead>(await this.kv.get(key));
  }

  /** A full chunk of a list (no slots if it was never written). */
  async listChunk(key: string, chunk: number): Promise<ListSlots> {
    return decodeEntry<ListSlots>(await this.kv.get(KEYS.listChunk(key, chunk))) ?? [];
  }

  /** Manifests the creator owns: the length of their list (a creator never loses one). */
  async creatorManifests(creator: string): Promise<number> {
    return (await this.listHead(KEYS.creatorList(creator)))?.joined ?? 0;
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
    return this.#list(KEYS.creatorList(creator), cursor ?? 0, limit);
  }

  /** The manifests under a (normalised) label, in the order they joined it. */
  listLabel(label: string, cursor: number | undefined, limit: number): Promise<IndexPage> {
    return this.#list(KEYS.labelList(label), cursor ?? 0, limit);
  }

  async #list(key: string, from: number, limit: number): Promise<IndexPage> {
    const list = await this.listHead(key);
    if (!list) return { heads: [], next: undefined };
    const { full, tail } = chunksFrom(list, from);
    // One entry beyond the page tells whether a next page exists.
    const entries: ListEntry[] = [];
    for (const chunk of full) {
      entries.push(...entriesOf(await this.listChunk(key, chunk), chunk, from));
      if (entries.length > limit) break;
    }
    if (tail && entries.length <= limit) entries.push(...entriesOf(list.tail, openChunkOf(list), from));
    const page = entries.slice(0, limit);
    const heads = await Promise.all(page.map(({ manifestId }) => this.head(manifestId)));
    const last = page.at(-1);
    return {
      // A head can only be missing if the projection is being rebuilt under us.
      heads: heads.filter((h): h is ManifestHead => h !== undefined),
      next: entries.length > limit && last ? encodeCursor(last.join + 1) : undefined,
    };
  }
}
