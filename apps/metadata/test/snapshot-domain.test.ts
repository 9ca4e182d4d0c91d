import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { canonicalBytes, generateSigningKey, MAX_DOCUMENT_BYTES, ProtocolError, signRecord, verifyDocument } from '@dmf/protocol';
import {
  categorySummaries,
  MAX_CATEGORIES_PER_PART,
  sameCategories,
  snapshotParts,
  SnapshotError,
  supersedes,
  type CategorySummary,
} from '../src/domain/snapshot.ts';

const A = '00'.repeat(32);
const B = '11'.repeat(32);
const C = 'ff'.repeat(32);

/** RFC 9162 by hand: leaf = SHA-256(0x00 || 32 id bytes), node = SHA-256(0x01 || left || right). */
const leaf = (id: string) => createHash('sha256').update(Buffer.from([0])).update(Buffer.from(id, 'hex')).digest();
const node = (l: Buffer, r: Buffer) => createHash('sha256').update(Buffer.from([1])).update(l).update(r).digest();

const entries = (category: string, ids: string[]) => ids.map((record_id) => ({ category, record_id }));

describe('categorySummaries', () => {
  it('gives no categories for no manifests', () => {
    expect(categorySummaries([])).toEqual([]);
  });

  it('roots of 1, 2 and 3 ids are the RFC 9162 tree heads over the sorted ids (hand-computed)', () => {
    const [one] = categorySummaries(entries('jazz', [B]));
    expect(one).toEqual({ category: 'jazz', count: 1, root: '4635e1fa62a599a7880a8d14a56f720a1d40f6e5448ab5a5e39bedc8bd87fa8e' });
    expect(one?.root).toBe(leaf(B).toString('hex'));

    // Given out of order: the root is over the ids sorted ascending.
    const [two] = categorySummaries(entries('jazz', [B, A]));
    expect(two).toEqual({ category: 'jazz', count: 2, root: '8ab671c69294e69917042ed794e5ea9dda18710ca307a65b986226344b87552a' });
    expect(two?.root).toBe(node(leaf(A), leaf(B)).toString('hex'));

    // Three leaves: the left subtree takes the largest power of two below 3 (2 leaves).
    const [three] = categorySummaries(entries('jazz', [C, A, B]));
    expect(three).toEqual({ category: 'jazz', count: 3, root: '0996484f8d85db196b220ab04b252ab810568e5c804695eea0b9f4380fcc3215' });
    expect(three?.root).toBe(node(node(leaf(A), leaf(B)), leaf(C)).toString('hex'));
  });

  it('groups by category, sorts categories by UTF-8 bytes and does not depend on the order of entries', () => {
    const input = [
      ...entries('\u{1F3B5}', [C]),
      ...entries('jazz', [B, A]),
      ...entries('\uE000', [A]),
      ...entries('film', [C, B]),
    ];
    const summaries = categorySummaries(input);
    // UTF-16 order would put U+1F3B5 (D83C DFB5) before U+E000.
    expect(summaries.map((s) => s.category)).toEqual(['film', 'jazz', '\uE000', '\u{1F3B5}']);
    expect(summaries.map((s) => s.count)).toEqual([2, 2, 1, 1]);
    expect(summaries[1]?.root).toBe(node(leaf(A), leaf(B)).toString('hex'));
    const reversed = categorySummaries([...input].reverse());
    expect(reversed).toEqual(summaries);
  });

  it('refuses a category the snapshot kind cannot carry and an id that is not a record id', () => {
    // "İ" lower-cases to two UTF-16 units: a 64-character category can normalise to 128.
    const long = 'i\u0307'.repeat(33);
    const thrown = (() => {
      try {
        categorySummaries(entries(long, [A]));
      } catch (error) {
        return error;
      }
      return undefined;
    })();
    expect(thrown).toBeInstanceOf(SnapshotError);
    expect(thrown).toMatchObject({ code: 'category.too_long', path: 'category' });
    expect(() => categorySummaries(entries('jazz', [A.toUpperCase().replace(/0/g, 'A')]))).toThrow(/^record_id\.invalid: /);
  });
});

describe('snapshotParts', () => {
  const key = generateSigningKey();
  const base = { node: key.did, stream: 'FEDERATED_opa', last_seq: 42, seq: 7 };

  it('an empty projection is one part with no categories, and it signs (the schema allows it)', () => {
    const parts = snapshotParts({ ...base, categories: [] });
    expect(parts).toEqual([{ kind: 'category_snapshot', ...base, part: 1, parts: 1, categories: [] }]);
    const signed = signRecord(parts[0] as object, key);
    expect(signed.kind).toBe('category_snapshot');
    expect(signed.document).toMatchObject({ categories: [], seq: 7, last_seq: 42 });
  });

  it('splits at 2048 categories, keeping order, and every part signs', () => {
    const categories: CategorySummary[] = Array.from({ length: MAX_CATEGORIES_PER_PART + 1 }, (_, i) => ({
      category: `c${String(i).padStart(5, '0')}`,
      count: 1,
      root: leaf(A).toString('hex'),
    }));
    const parts = snapshotParts({ ...base, categories });
    expect(parts.map((p) => [p.part, p.parts, p.categories.length])).toEqual([
      [1, 2, 2048],
      [2, 2, 1],
    ]);
    expect(parts.flatMap((p) => p.categories)).toEqual(categories);
    for (const p of parts) expect(signRecord(p, key).document).toMatchObject({ part: p.part, parts: 2 });
  });

  it('splits by size before 2048 long names exceed the document limit', () => {
    // 64 characters of 3 UTF-8 bytes each: 2048 of these would be about 630 KB.
    const categories: CategorySummary[] = Array.from({ length: 2048 }, (_, i) => ({
      category: `${String(i).padStart(4, '0')}${'\u3042'.repeat(60)}`,
      count: 2 ** 40,
      root: leaf(B).toString('hex'),
    }));
    const parts = snapshotParts({ ...base, categories });
    expect(parts.length).toBe(2);
    expect(parts.flatMap((p) => p.categories)).toEqual(categories);
    for (const p of parts) {
      const signed = signRecord(p, key);
      expect(canonicalBytes(signed.document).length).toBeLessThanOrEqual(MAX_DOCUMENT_BYTES);
      expect(verifyDocument(signed.document).id).toBe(signed.id);
    }
  });

  it('a part out of order would be refused by the protocol: parts keep the sorted order', () => {
    const parts = snapshotParts({ ...base, categories: categorySummaries([...entries('b', [A]), ...entries('a', [B])]) });
    expect(parts[0]?.categories.map((c) => c.category)).toEqual(['a', 'b']);
    const swapped = { ...parts[0], categories: [...(parts[0]?.categories ?? [])].reverse() };
    expect(() => signRecord(swapped, key)).toThrow(ProtocolError);
  });
});

describe('supersedes and sameCategories', () => {
  it('a part replaces the stored one unless its seq is lower', () => {
    expect(supersedes(undefined, { seq: 1 })).toBe(true);
    expect(supersedes({ seq: 3 }, { seq: 2 })).toBe(false);
    expect(supersedes({ seq: 3 }, { seq: 3 })).toBe(true);
    expect(supersedes({ seq: 3 }, { seq: 4 })).toBe(true);
  });

  it('compares names, counts and roots in order', () => {
    const x = categorySummaries([...entries('a', [A]), ...entries('b', [B, C])]);
    expect(sameCategories(x, categorySummaries([...entries('b', [C, B]), ...entries('a', [A])]))).toBe(true);
    expect(sameCategories(x, categorySummaries([...entries('a', [A]), ...entries('b', [B])]))).toBe(false);
    expect(sameCategories(x, categorySummaries([...entries('a', [B]), ...entries('b', [A, C])]))).toBe(false);
    expect(sameCategories(x, x.slice(1))).toBe(false);
  });
});
