/**
 * Fingerprint consistency (spec 6.3 "validate fingerprints", 6.4 "incorrect
 * fingerprints"): a node holds no content, so it cannot hash it, but it can refuse a
 * manifest whose `fingerprint`, `chunks` and `size` cannot all be true of the same bytes.
 *
 * - Every CID is a canonical CIDv1, raw codec, sha2-256 (the schema's pattern admits
 *   only that spelling; here the same spelling is checked again, and multiformats
 *   decodes whatever does not match it, to say what is wrong).
 * - Empty content is one empty chunk, and its fingerprint is that chunk's CID.
 * - Non-empty content has no empty chunk, at least one byte per chunk, and at most
 *   `MAX_CHUNK_BYTES` per chunk.
 * - One chunk is the whole content: the fingerprint is the chunk's CID. With more
 *   chunks, no chunk is the whole content, so the fingerprint is none of them.
 */
import { CID } from 'multiformats/cid';
import * as raw from 'multiformats/codecs/raw';
import { cidOfBytes, MAX_CHUNK_BYTES } from '@dmf/protocol';
import { MetadataRefusal } from './refusal.ts';

export { cidOfBytes, MAX_CHUNK_BYTES };

const SHA2_256 = 0x12;

/** CIDv1 raw sha2-256 of the empty byte string. */
export const EMPTY_CONTENT_CID = cidOfBytes(new Uint8Array(0));

/**
 * The canonical string of a CIDv1 raw sha2-256, as @dmf/protocol's CID_RAW_SHA256_PATTERN
 * (formats.ts) spells it: the bytes 01 55 12 20 ‖ 32-byte digest in base32 are `bafkrei`,
 * one character (a-h) whose two high bits are the 0x20 length byte's low bits, 50 free
 * characters, and one whose two padding bits are zero. So a string that matches is
 * exactly what multiformats would parse as v1/raw/sha2-256/32 and spell back the same
 * (a test checks both ways): checking the match skips the decoding and re-encoding,
 * most of this rule's time.
 */
const CANONICAL_RAW_SHA256_CID = /^bafkrei[a-h][a-z2-7]{50}[aeimquy4]$/;

/** Throws `fingerprint.malformed` unless `text` is a canonical CIDv1 raw sha2-256. */
function checkCid(text: string, path: string): void {
  if (!CANONICAL_RAW_SHA256_CID.test(text)) checkCidByDecoding(text, path);
}

/** The reference check, which also says what is wrong: multiformats decodes and re-encodes. */
function checkCidByDecoding(text: string, path: string): void {
  let cid: CID;
  try {
    cid = CID.parse(text);
  } catch (error) {
    throw new MetadataRefusal('fingerprint.malformed', path, `not a CID: ${(error as Error).message}`);
  }
  if (cid.version !== 1 || cid.code !== raw.code || cid.multihash.code !== SHA2_256 || cid.multihash.size !== 32) {
    throw new MetadataRefusal('fingerprint.malformed', path, 'must be a CIDv1 with the raw codec and a sha2-256 multihash');
  }
  if (cid.toString() !== text) throw new MetadataRefusal('fingerprint.malformed', path, `not the canonical spelling (${cid.toString()})`);
}

export interface ContentDescription {
  fingerprint: string;
  chunks: readonly string[];
  size: number;
}

/** Throws `MetadataRefusal` (`fingerprint.malformed` / `fingerprint.inconsistent`) naming the member at fault. */
export function checkContentConsistency(manifest: ContentDescription): void {
  checkCid(manifest.fingerprint, '$.fingerprint');
  manifest.chunks.forEach((chunk, i) => {
    // The path is spelled out only for a refusal: up to 4,096 chunks, nearly always fine.
    if (!CANONICAL_RAW_SHA256_CID.test(chunk)) checkCidByDecoding(chunk, `$.chunks[${i}]`);
  });
  const { chunks, size, fingerprint } = manifest;
  if (size === 0) {
    if (chunks.length !== 1 || chunks[0] !== EMPTY_CONTENT_CID) {
      throw new MetadataRefusal('fingerprint.inconsistent', '$.chunks', `empty content (size 0) is exactly one empty chunk, ${EMPTY_CONTENT_CID}`);
    }
    if (fingerprint !== EMPTY_CONTENT_CID) {
      throw new MetadataRefusal('fingerprint.inconsistent', '$.fingerprint', `empty content (size 0) has the fingerprint ${EMPTY_CONTENT_CID}`);
    }
    return;
  }
  const empty = chunks.indexOf(EMPTY_CONTENT_CID);
  if (empty >= 0) throw new MetadataRefusal('fingerprint.inconsistent', `$.chunks[${empty}]`, `an empty chunk in content of ${size} bytes`);
  if (chunks.length > size) {
    throw new MetadataRefusal('fingerprint.inconsistent', '$.size', `${chunks.length} chunks cannot hold only ${size} bytes (every chunk holds at least one)`);
  }
  if (size > chunks.length * MAX_CHUNK_BYTES) {
    throw new MetadataRefusal(
      'fingerprint.inconsistent',
      '$.size',
      `${size} bytes do not fit in ${chunks.length} chunks of at most ${MAX_CHUNK_BYTES} bytes`,
    );
  }
  if (chunks.length === 1 && fingerprint !== chunks[0]) {
    throw new MetadataRefusal('fingerprint.inconsistent', '$.fingerprint', 'content of one chunk has that chunk\'s CID as its fingerprint');
  }
  if (chunks.length > 1) {
    const same = chunks.indexOf(fingerprint);
    if (same >= 0) {
      throw new MetadataRefusal('fingerprint.inconsistent', '$.fingerprint', `equals chunks[${same}], but one chunk of several cannot be the whole content`);
    }
  }
}
