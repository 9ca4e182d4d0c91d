import { describe, expect, it } from 'vitest';
import { canonicalBytes } from '@dmf/protocol';
import type { ManifestHead } from '../src/domain/decide.ts';
import { decodeJson, encodeHead } from '../src/store/codec.ts';
import { generateSigningKey, manifest } from './fixtures.ts';

describe('encodeHead', () => {
  const signed = manifest(generateSigningKey(), { title: 'Ünïcödé title', tags: ['sea', 'folk'] });
  const head: ManifestHead = {
    manifest_id: signed.document.manifest_id,
    creator: signed.document.creator,
    seq: 1,
    record_id: signed.id,
    fingerprint: signed.document.fingerprint,
    category: 'music',
    labels: ['folk', 'music', 'sea'],
    seqs: [1],
    joins: { folk: 0, music: 3, sea: 1 },
    record: signed.document,
  };

  it('splices the record text in: the same value as stringifying the head, record last', () => {
    const bytes = encodeHead(head, canonicalBytes(signed.document));
    expect(decodeJson<ManifestHead>(bytes)).toEqual(head);
    expect(Object.keys(decodeJson<object>(bytes)).at(-1)).toBe('record');
    expect(new TextDecoder().decode(bytes)).toContain(`,"record":${new TextDecoder().decode(canonicalBytes(signed.document))}}`);
  });

  it('keeps the text as it came (another valid spelling stays that spelling) and stringifies without one', () => {
    const spaced = new TextEncoder().encode(` ${JSON.stringify(signed.document, null, 1)} `);
    const bytes = encodeHead(head, spaced);
    expect(decodeJson<ManifestHead>(bytes)).toEqual(head);
    expect(new TextDecoder().decode(bytes).endsWith(`${new TextDecoder().decode(spaced)}}`)).toBe(true);
    expect(decodeJson<ManifestHead>(encodeHead(head))).toEqual(head);
  });
});
