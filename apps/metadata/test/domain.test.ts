import { describe, expect, it } from 'vitest';
import { generateSigningKey } from '@dmf/protocol';
import { decide, type ContentRecord, type FingerprintClaim, type ManifestHead, type StateView } from '../src/domain/decide.ts';
import { checkContentConsistency, cidOfBytes, EMPTY_CONTENT_CID, MAX_CHUNK_BYTES } from '../src/domain/content-consistency.ts';
import { CreatorRate } from '../src/domain/creator-rate.ts';
import { labelsOf, normalizeLabel } from '../src/domain/labels.ts';
import { MetadataRefusal } from '../src/domain/refusal.ts';
import { checkMetadataText, DEFAULT_METADATA_LIMITS } from '../src/domain/spam.ts';
import precheckRecord, { precheckManifest } from '../src/domain/prechecks.ts';
import { content, manifest, nextVersion } from './fixtures.ts';

/** A state held in maps, applying accepted effects the way the projector does. */
class MapState implements StateView {
  heads = new Map<string, ManifestHead>();
  versions = new Map<string, string>();
  claims = new Map<string, FingerprintClaim>();
  counts = new Map<string, number>();
  head = (id: string) => this.heads.get(id);
  versionRecordId = (id: string, seq: number) => this.versions.get(`${id}.${seq}`);
  fingerprintClaim = (fp: string) => this.claims.get(fp);
  creatorManifests = (c: string) => this.counts.get(c) ?? 0;
  async apply(record: ContentRecord, limits = DEFAULT_METADATA_LIMITS) {
    const d = await decide(this, record, limits);
    if (d.outcome === 'accepted') {
      const { head, previous, claimFingerprint } = d.effects;
      if (previous) this.versions.set(`${head.manifest_id}.${previous.seq}`, previous.record_id);
      if (claimFingerprint) this.claims.set(head.fingerprint, claimFingerprint);
      this.counts.set(head.creator, d.effects.creatorManifests);
      this.heads.set(head.manifest_id, head);
    }
    return d;
  }
}

function refusalOf(fn: () => void): MetadataRefusal {
  try {
    fn();
  } catch (error) {
    if (error instanceof MetadataRefusal) return error;
    throw error;
  }
  throw new Error('no refusal');
}

const alice = generateSigningKey();
const bob = generateSigningKey();

describe('decide', () => {
  it('accepts a new manifest and records what changes', async () => {
    const state = new MapState();
    const v1 = manifest(alice, { category: ' Music ', tags: ['Folk', 'sea'] });
    const d = await state.apply(v1);
    expect(d.outcome).toBe('accepted');
    if (d.outcome !== 'accepted') return;
    expect(d.effects).toMatchObject({ newManifest: true, creatorManifests: 1, labelsAdded: ['folk', 'music', 'sea'], labelsRemoved: [] });
    expect(d.effects.head).toMatchObject({ creator: alice.did, seq: 1, record_id: v1.id, category: 'music', seqs: [1] });
    expect(d.effects.claimFingerprint).toEqual({ creator: alice.did, manifest_id: v1.document.manifest_id });
  });

  it('moves labels with a new version, keeps history, and calls a repeat a duplicate', async () => {
    const state = new MapState();
    const v1 = manifest(alice, { tags: ['folk'] });
    const v2 = nextVersion(alice, v1.document, { tags: ['jazz'] });
    await state.apply(v1);
    const d = await state.apply(v2);
    expect(d.outcome === 'accepted' && d.effects).toMatchObject({ newManifest: false, labelsAdded: ['jazz'], labelsRemoved: ['folk'], creatorManifests: 1 });
    expect(await state.apply(v2)).toMatchObject({ outcome: 'duplicate', seq: 2 });
    expect(await state.apply(v1)).toMatchObject({ outcome: 'duplicate', seq: 1 });
  });

  it('refuses a rollback, another version with the same seq, and a stranger', async () => {
    const state = new MapState();
    const v1 = manifest(alice);
    const v2 = nextVersion(alice, v1.document);
    await state.apply(v1);
    await state.apply(v2);
    const other1 = nextVersion(alice, v1.document, { title: 'another seq 2' });
    expect(await state.apply(other1)).toMatchObject({ outcome: 'refused', refusal: { code: 'seq.rollback', path: '$.seq' } });
    const stranger = nextVersion(bob, v2.document, { creator: bob.did });
    expect(await state.apply(stranger)).toMatchObject({ outcome: 'refused', refusal: { code: 'manifest.owned', path: '$.manifest_id' } });
    const strangerOld = manifest(bob, { manifest_id: v1.document.manifest_id, seq: 1 });
    expect(await state.apply(strangerOld)).toMatchObject({ outcome: 'refused', refusal: { code: 'manifest.owned' } });
  });

  it('lets a creator reuse their own fingerprint but refuses another creator', async () => {
    const state = new MapState();
    const same = content(2, 'shared');
    expect((await state.apply(manifest(alice, same))).outcome).toBe('accepted');
    expect((await state.apply(manifest(alice, same))).outcome).toBe('accepted');
    expect(await state.apply(manifest(bob, same))).toMatchObject({ outcome: 'refused', refusal: { code: 'fingerprint.duplicate_upload', path: '$.fingerprint' } });
  });

  it('enforces the quotas', async () => {
    const state = new MapState();
    const limits = { maxManifestsPerCreator: 2, maxVersionsPerManifest: 2 };
    const v1 = manifest(alice);
    await state.apply(v1, limits);
    await state.apply(manifest(alice), limits);
    expect(await state.apply(manifest(alice), limits)).toMatchObject({ outcome: 'refused', refusal: { code: 'spam.quota_manifests' } });
    const v2 = nextVersion(alice, v1.document);
    expect((await state.apply(v2, limits)).outcome).toBe('accepted');
    expect(await state.apply(nextVersion(alice, v2.document), limits)).toMatchObject({ outcome: 'refused', refusal: { code: 'spam.quota_versions' } });
  });
});

describe('decide with the record-only rules run elsewhere (prechecks)', () => {
  it('decides exactly as when it runs them itself, in the same order', async () => {
    const v1 = manifest(alice, { tags: ['folk'] });
    const claimed = { fingerprint: v1.document.fingerprint, chunks: v1.document.chunks, size: v1.document.size };
    const cases = [
      v1,
      nextVersion(alice, v1.document, { tags: ['Folk', 'folk '] }), // spam.tags
      manifest(alice, { ...content(2, 'x'), size: 10 * MAX_CHUNK_BYTES }), // fingerprint.inconsistent
      manifest(bob, { manifest_id: v1.document.manifest_id, title: '   ' }), // ownership comes before text
      manifest(bob, { ...claimed, title: ' ' }), // duplicate upload comes before text
      manifest(alice, { title: ' ' }), // spam.text
    ];
    const plain = new MapState();
    const prechecked = new MapState();
    const codes: string[] = [];
    for (const r of cases) {
      const expected = await plain.apply(r);
      const got = await prechecked.apply({ ...r, prechecked: precheckManifest(r.document) });
      expect(got).toEqual(expected);
      codes.push(expected.outcome === 'refused' ? expected.refusal.code : expected.outcome);
    }
    expect(codes).toEqual(['accepted', 'spam.tags', 'fingerprint.inconsistent', 'manifest.owned', 'fingerprint.duplicate_upload', 'spam.text']);
    // The thread's check gives plain data (it crosses a structured clone), and only for content manifests.
    const checked = precheckRecord({ kind: 'content_manifest', id: v1.id, signer: alice.did, document: { ...v1.document, title: ' ' } } as never);
    expect(structuredClone(checked)).toEqual({ consistency: null, text: { code: 'spam.text', path: '$.title', reason: expect.any(String) } });
    expect(precheckRecord({ kind: 'node_report' } as never)).toBeUndefined();
  });
});

describe('content consistency', () => {
  const one = Buffer.from('hello');
  it('accepts consistent descriptions', () => {
    expect(() => checkContentConsistency({ size: 5, chunks: [cidOfBytes(one)], fingerprint: cidOfBytes(one) })).not.toThrow();
    expect(() => checkContentConsistency({ size: 0, chunks: [EMPTY_CONTENT_CID], fingerprint: EMPTY_CONTENT_CID })).not.toThrow();
    expect(() => checkContentConsistency(content(4))).not.toThrow();
  });
  it.each([
    ['one chunk, other fingerprint', { size: 5, chunks: [cidOfBytes(one)], fingerprint: cidOfBytes(Buffer.from('x')) }, '$.fingerprint'],
    ['empty content with a real chunk', { size: 0, chunks: [cidOfBytes(one)], fingerprint: EMPTY_CONTENT_CID }, '$.chunks'],
    ['empty chunk in content', { size: 9, chunks: [cidOfBytes(one), EMPTY_CONTENT_CID], fingerprint: cidOfBytes(one) }, '$.chunks[1]'],
    ['more chunks than bytes', { size: 1, chunks: [cidOfBytes(one), cidOfBytes(Buffer.from('y'))], fingerprint: cidOfBytes(Buffer.from('z')) }, '$.size'],
    ['chunks too large', { size: MAX_CHUNK_BYTES + 1, chunks: [cidOfBytes(one)], fingerprint: cidOfBytes(one) }, '$.size'],
    ['fingerprint equal to one of several chunks', { size: 9, chunks: [cidOfBytes(one), cidOfBytes(Buffer.from('y'))], fingerprint: cidOfBytes(one) }, '$.fingerprint'],
  ])('refuses %s', (_name, description, path) => {
    expect(refusalOf(() => checkContentConsistency(description))).toMatchObject({ code: 'fingerprint.inconsistent', path });
  });
  it('refuses a CID that is not canonical or not raw sha2-256', () => {
    const good = cidOfBytes(one);
    // Same pattern, but the last character's unused bits are not zero.
    const padded = `${good.slice(0, -1)}b`;
    expect(refusalOf(() => checkContentConsistency({ size: 5, chunks: [padded], fingerprint: good }))).toMatchObject({ code: 'fingerprint.malformed', path: '$.chunks[0]' });
    expect(refusalOf(() => checkContentConsistency({ size: 5, chunks: [good], fingerprint: 'QmNotACidv1' }))).toMatchObject({ code: 'fingerprint.malformed', path: '$.fingerprint' });
  });
});

describe('metadata text', () => {
  const base = { title: 'A title', category: 'Music', tags: ['a', 'b'] };
  it.each([
    [{ ...base, title: '   ' }, 'spam.text', '$.title'],
    [{ ...base, category: ' \t' }, 'spam.text', '$.category'],
    [{ ...base, category: 'İ'.repeat(64) }, 'spam.text', '$.category'],
    [{ ...base, tags: ['Folk', ' folk'] }, 'spam.tags', '$.tags[1]'],
    [{ ...base, tags: ['ok', ' '] }, 'spam.tags', '$.tags[1]'],
    [{ ...base, title: 'buy buy buy buy buy now' }, 'spam.text', '$.title'],
    [{ ...base, description: `${'cheap '.repeat(30)}${'word'.repeat(1)} ${Array.from({ length: 15 }, (_, i) => `w${i}`).join(' ')}` }, 'spam.text', '$.description'],
  ])('refuses %o', (m, code, path) => {
    expect(refusalOf(() => checkMetadataText(m))).toMatchObject({ code, path });
  });
  it('accepts ordinary text', () => {
    expect(() => checkMetadataText({ ...base, description: 'A calm piece recorded by the sea in the summer of 2025.' })).not.toThrow();
  });
});

describe('labels', () => {
  it('normalises case, spacing and composition', () => {
    expect(normalizeLabel('  Jazz\t Fusion ')).toBe('jazz fusion');
    expect(normalizeLabel('Cafe\u0301')).toBe('café');
    expect(labelsOf({ category: 'Music', tags: ['music', 'Sea', 'sea '] })).toEqual(['music', 'sea']);
  });
});

describe('creator rate', () => {
  it('allows a burst, then one publish per interval, per creator', () => {
    const rate = new CreatorRate({ perMinute: 60, burst: 2, maxCreators: 10 });
    expect(rate.take('a', 0)).toBe(0);
    expect(rate.take('a', 0)).toBe(0);
    expect(rate.take('a', 0)).toBe(1);
    expect(rate.take('b', 0)).toBe(0);
    expect(rate.take('a', 1000)).toBe(0);
    expect(rate.take('a', 1000)).toBeGreaterThanOrEqual(1);
  });
  it('forgets the least recently seen creator beyond its bound', () => {
    const rate = new CreatorRate({ perMinute: 60, burst: 1, maxCreators: 2 });
    rate.take('a', 0);
    rate.take('b', 0);
    rate.take('c', 0);
    expect(rate.size).toBe(2);
    expect(rate.take('a', 0)).toBe(0);
  });
});
