/**
 * Content identifiers of bytes: CIDv1, raw codec, sha2-256, in the canonical base32
 * spelling (formats.ts CID_RAW_SHA256_PATTERN). Content manifests name chunks by it,
 * erasure groups name shards by it, and storage nodes check what they store and serve
 * against it.
 */
import { createHash } from 'node:crypto';
import { CID } from 'multiformats/cid';
import * as raw from 'multiformats/codecs/raw';
import * as Digest from 'multiformats/hashes/digest';

/** Largest chunk a storage node handles (4 MiB): with 4,096 chunks, 16 GiB per manifest. */
export const MAX_CHUNK_BYTES = 4 * 1024 * 1024;

const SHA2_256 = 0x12;

/** The CIDv1 (raw, sha2-256) of some bytes, as the canonical string. */
export function cidOfBytes(bytes: Uint8Array): string {
  const digest = createHash('sha256').update(bytes).digest();
  return CID.createV1(raw.code, Digest.create(SHA2_256, digest)).toString();
}
