/**
 * Content manifests for the metadata benchmarks: the shape of bench/fixtures.ts's
 * typical manifest (title, description, 4 tags, a category, 8 chunks, licence,
 * language, MIME; about 1.3 KB signed), but with chunks, size and fingerprint that
 * describe the same bytes, so the metadata node's consistency rule accepts them. Every
 * manifest has its own content (fingerprints are never shared: no duplicate uploads).
 *
 * Creators are deterministic (creator `c` is the key of a seed derived from `c`), so
 * signing workers and the main thread agree on who signed what without passing keys.
 */
import { createHash } from 'node:crypto';
import { canonicalBytes, signRecord, signingKeyFromSeed, type SigningKey } from '@dmf/protocol';
import { manifestText, rawCid } from './fixtures.ts';

/** A signed manifest as the benchmarks send it: record id, manifest id, canonical bytes. */
export interface BenchManifest {
  id: string;
  manifestId: string;
  bytes: Uint8Array;
}

/** Creator number `c`'s key (the same in every thread and run). */
export function creatorKey(c: number): SigningKey {
  return signingKeyFromSeed(createHash('sha256').update(`dmf bench creator ${c}`).digest());
}

/** Manifest number `n` of `key`, signed now: about 1.3 KB of canonical JSON. */
export function benchManifest(key: SigningKey, n: number, now: Date, salt: string): BenchManifest {
  const parts = Array.from({ length: 8 }, (_, i) => Buffer.from(`${salt} record ${n} chunk ${i}`));
  const record = signRecord(
    {
      ...manifestText(key, n),
      chunks: parts.map(rawCid),
      size: parts.reduce((total, p) => total + p.length, 0),
      fingerprint: rawCid(Buffer.concat(parts)),
    },
    key,
    { now },
  );
  return { id: record.id, manifestId: (record.document as { manifest_id: string }).manifest_id, bytes: canonicalBytes(record.document) };
}
