/** Real signed content manifests for metadata tests. */
import { randomUUID } from 'node:crypto';
import { canonicalBytes, generateSigningKey, signRecord, type ContentManifest, type SigningKey } from '@dmf/protocol';
import { cidOfBytes } from '../src/domain/content-consistency.ts';

export interface SignedManifest {
  id: string;
  bytes: Uint8Array;
  document: ContentManifest;
}

let counter = 0;

/** Content of `chunkCount` chunks with a matching fingerprint, different on every call unless `seed` is given. */
export function content(chunkCount = 3, seed = `content ${++counter} ${randomUUID()}`): Pick<ContentManifest, 'chunks' | 'size' | 'fingerprint'> {
  const parts = Array.from({ length: chunkCount }, (_, i) => Buffer.from(`${seed} part ${i}`));
  return {
    chunks: parts.map((p) => cidOfBytes(p)),
    size: parts.reduce((n, p) => n + p.length, 0),
    fingerprint: cidOfBytes(Buffer.concat(parts)),
  };
}

export function manifest(key: SigningKey, fields: Partial<ContentManifest> = {}, options: { now?: Date } = {}): SignedManifest {
  const document = {
    kind: 'content_manifest',
    manifest_id: randomUUID(),
    creator: key.did,
    title: 'A song about the sea',
    tags: ['folk', 'sea'],
    category: 'Music',
    ...content(),
    version: '1.0.0',
    ...fields,
  };
  const record = signRecord(document, key, { now: options.now });
  return { id: record.id, bytes: canonicalBytes(record.document), document: record.document as ContentManifest };
}

/** The next version of a manifest: same id and creator, `seq` + 1, other fields changed. */
export function nextVersion(key: SigningKey, previous: ContentManifest, fields: Partial<ContentManifest> = {}): SignedManifest {
  const { signature: _s, issued_at: _i, ...rest } = previous;
  return manifest(key, { ...rest, seq: previous.seq + 1, ...fields });
}

export { generateSigningKey };
