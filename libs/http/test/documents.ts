// Signed DMF documents and a route that verifies them, for the tests of protocol
// problems and body limits. Tests may use @dmf/protocol; libs/http's code does not.
import { randomUUID } from 'node:crypto';
import { checkSeq, generateSigningKey, signDocument, verifyBytes } from '@dmf/protocol';
import { rawBodyOf } from '../src/raw-body.ts';
import type { DmfHttpServer } from '../src/server.ts';

/** CIDv1 (raw, sha2-256) of `chunk 0`, `chunk 1` and of both together. */
export const CHUNK_CIDS = [
  'bafkreibyq7sp6tfrc6mdxet732o2bqebraj2hvmhwbj5wqh6nwkr62r7i4',
  'bafkreiazsor4mm6phzh5rgf6vtf7k3aviqrvzwhzoolohs7dbfjfaksrm4',
] as const;
export const FINGERPRINT_CID = 'bafkreigxlhxkwwc7sc4icjspz6zglwzvrjyj7v3apev6t6ms6y6too6zee';

export const creator = generateSigningKey();
export const stranger = generateSigningKey();

/** An unsigned content manifest by {@link creator}. */
export function contentManifest(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    kind: 'content_manifest',
    manifest_id: randomUUID(),
    creator: creator.did,
    title: 'A song about the sea',
    tags: ['music', 'sea'],
    category: 'music',
    chunks: [...CHUNK_CIDS],
    size: 14,
    fingerprint: FINGERPRINT_CID,
    version: '1.0.0',
    ...overrides,
  };
}

/** A content manifest signed by {@link creator} (issued now, seq 1 unless given). */
export function signedManifest(overrides: Record<string, unknown> = {}, now?: Date): Record<string, unknown> {
  return signDocument(contentManifest(overrides), creator, now === undefined ? {} : { now });
}

/**
 * The largest content manifest the schema allows, in bytes: 4,096 chunks and every
 * optional text at its longest, in a 3-byte UTF-8 character.
 */
export function largestContentManifest(): Record<string, unknown> {
  const wide = (length: number, prefix = ''): string => prefix + '€'.repeat(length - prefix.length);
  return signDocument(
    contentManifest({
      title: wide(256),
      tags: Array.from({ length: 32 }, (_, i) => wide(64, String(i))),
      category: wide(64),
      chunks: Array.from({ length: 4096 }, (_, i) => CHUNK_CIDS[i % 2]),
      description: wide(4096),
      language: 'en',
      license: wide(128),
      mime: 'audio/ogg',
    }),
    creator,
  );
}

/** Routes an adapter would have: verify the exact bytes, answer 201 with the record id. */
export function documentRoutes(app: DmfHttpServer): void {
  app.post('/documents', { config: { rawBody: true } }, async (request, reply) => {
    const record = verifyBytes(rawBodyOf(request));
    reply.code(201);
    return { id: record.id, kind: record.kind, bytes: rawBodyOf(request).length };
  });
  // As a projection would check it: the stored manifest is at seq 5.
  app.post('/documents/after-seq-5', { config: { rawBody: true } }, async (request, reply) => {
    const record = verifyBytes(rawBodyOf(request));
    checkSeq(5, (record.document as { seq: number }).seq);
    reply.code(201);
    return { id: record.id };
  });
}
