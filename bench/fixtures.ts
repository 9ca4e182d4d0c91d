import { createHash, randomUUID } from 'node:crypto';
import { CID } from 'multiformats/cid';
import * as raw from 'multiformats/codecs/raw';
import { create as createDigest } from 'multiformats/hashes/digest';
import { signDocument, type SigningKey } from '@dmf/protocol';

/** CIDv1, raw codec, sha2-256 of `bytes`, the form PROTOCOL.md requires for chunks. */
export function rawCid(bytes: Uint8Array): string {
  const digest = createDigest(0x12, createHash('sha256').update(bytes).digest());
  return CID.createV1(raw.code, digest).toString();
}

/**
 * The text members of the benchmarks' typical content manifest (all but chunks, size
 * and fingerprint): the same in every benchmark, so their documents are the same size.
 */
export function manifestText(key: SigningKey, n: number) {
  return {
    kind: 'content_manifest',
    manifest_id: randomUUID(),
    creator: key.did,
    title: `Field recordings from the river delta, volume ${n}`,
    description: 'Ambient recordings made at dawn along the delta; released under a free licence for remixing.',
    tags: ['ambient', 'field-recording', 'nature', 'river'],
    category: 'music',
    version: '1.0.0',
    language: 'en',
    license: 'CC-BY-4.0',
    mime: 'audio/flac',
  };
}

/**
 * A typical content manifest of about 1 KB once signed: a title, a description, a
 * few tags and eight chunk CIDs. `n` varies the content so every record differs.
 */
export function typicalManifest(key: SigningKey, n: number, now: Date): Record<string, unknown> {
  const chunks = Array.from({ length: 8 }, (_, i) => rawCid(new TextEncoder().encode(`record ${n} chunk ${i}`)));
  return signDocument(
    {
      ...manifestText(key, n),
      chunks,
      size: 8 * 262_144,
      fingerprint: rawCid(new TextEncoder().encode(`record ${n} whole`)),
    },
    key,
    { now },
  ) as Record<string, unknown>;
}
