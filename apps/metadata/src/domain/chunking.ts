/**
 * Cutting content into chunks and naming them, the way a creator's tool prepares a
 * content manifest: fixed-size chunks (the last one shorter), each named by its CIDv1
 * (raw, sha2-256), and the fingerprint the CID of the whole content. Incremental, so a
 * file of many gigabytes passes through in constant memory.
 */
import { createHash, type Hash } from 'node:crypto';
import { CID } from 'multiformats/cid';
import * as raw from 'multiformats/codecs/raw';
import * as Digest from 'multiformats/hashes/digest';
import { EMPTY_CONTENT_CID, MAX_CHUNK_BYTES } from './content-consistency.ts';

/** Default chunk size: 1 MiB. */
export const DEFAULT_CHUNK_BYTES = 1024 * 1024;

function cidOfDigest(digest: Buffer): string {
  return CID.createV1(raw.code, Digest.create(0x12, digest)).toString();
}

export interface ContentDescription {
  chunks: string[];
  size: number;
  fingerprint: string;
}

export class ContentChunker {
  readonly #chunkBytes: number;
  readonly #whole: Hash = createHash('sha256');
  #chunk: Hash = createHash('sha256');
  #inChunk = 0;
  #size = 0;
  readonly #chunks: string[] = [];

  constructor(chunkBytes = DEFAULT_CHUNK_BYTES) {
    if (!Number.isSafeInteger(chunkBytes) || chunkBytes < 1 || chunkBytes > MAX_CHUNK_BYTES) {
      throw new RangeError(`chunk size: ${chunkBytes} must be 1 to ${MAX_CHUNK_BYTES} bytes`);
    }
    this.#chunkBytes = chunkBytes;
  }

  update(data: Uint8Array): void {
    this.#whole.update(data);
    this.#size += data.length;
    let offset = 0;
    while (offset < data.length) {
      const take = Math.min(this.#chunkBytes - this.#inChunk, data.length - offset);
      this.#chunk.update(data.subarray(offset, offset + take));
      this.#inChunk += take;
      offset += take;
      if (this.#inChunk === this.#chunkBytes) this.#cut();
    }
  }

  #cut(): void {
    this.#chunks.push(cidOfDigest(this.#chunk.digest()));
    this.#chunk = createHash('sha256');
    this.#inChunk = 0;
  }

  digest(): ContentDescription {
    if (this.#inChunk > 0) this.#cut();
    if (this.#size === 0) return { chunks: [EMPTY_CONTENT_CID], size: 0, fingerprint: EMPTY_CONTENT_CID };
    return { chunks: [...this.#chunks], size: this.#size, fingerprint: cidOfDigest(this.#whole.digest()) };
  }
}
