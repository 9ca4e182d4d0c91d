/**
 * The category_snapshot kind: its order helper, its cross-field rules (snapshot.part,
 * snapshot.order), its signer (`node`), and that it never expires.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  compareCategoryNames,
  EXPIRING_KINDS,
  ProtocolError,
  signDocument,
  verifyBytes,
  verifyDocument,
  type CategorySnapshot,
} from '../src/mod.ts';
import { signDetached } from '../src/jws.ts';
import { canonicalizeSigned } from '../src/jcs.ts';
import { categorySnapshot, categorySnapshotWithUnicodeNames, keys, NOW, UNICODE_CATEGORY_NAMES } from './fixtures.ts';
import type { SigningKey } from '../src/mod.ts';

const options = { now: NOW };
type Doc = Record<string, unknown>;

/** Signs without any check, so that the rule under test is the only fault. */
function rawSign(doc: Doc, key: SigningKey = keys.node): Doc {
  const unsigned = { ...doc };
  delete unsigned['signature'];
  return { ...unsigned, signature: signDetached(canonicalizeSigned(unsigned).payload, key) };
}

function refusal(doc: Doc): { code: string; path: string | undefined; reason: string } {
  try {
    verifyDocument(doc, options);
  } catch (error) {
    if (error instanceof ProtocolError) return { code: error.code, path: error.path, reason: error.reason };
    throw error;
  }
  throw new Error('expected a ProtocolError');
}

const named = (names: readonly string[]): Doc[] => names.map((category, i) => ({ category, count: i + 1, root: 'd'.repeat(64) }));
const withCategories = (names: readonly string[]): Doc => rawSign({ ...categorySnapshot(), categories: named(names) });
const utf8Compare = (a: string, b: string): number => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));

describe('compareCategoryNames', () => {
  it('orders well-formed strings exactly as their UTF-8 bytes', () => {
    // 'binary' units are whole code points (astral ones included), never lone surrogates.
    const name = fc.string({ unit: 'binary', maxLength: 8 });
    fc.assert(
      fc.property(name, name, (a, b) => {
        expect(Math.sign(compareCategoryNames(a, b))).toBe(Math.sign(utf8Compare(a, b)));
      }),
      { numRuns: 5000 },
    );
  });

  it('is 0 only for equal strings, and antisymmetric', () => {
    const name = fc.string({ unit: fc.constantFrom('a', 'A', 'é', '\ue000', '\uff61', '🎵', '😀'), maxLength: 4 });
    fc.assert(
      fc.property(name, name, (a, b) => {
        expect(compareCategoryNames(a, b) === 0).toBe(a === b);
        expect(Math.sign(compareCategoryNames(a, b)) + Math.sign(compareCategoryNames(b, a))).toBe(0);
      }),
      { numRuns: 2000 },
    );
  });

  it('differs from JavaScript\'s default (UTF-16) order where a surrogate pair meets U+E000-U+FFFF', () => {
    expect(['\uff61', '🎵', '\ue000'].sort(compareCategoryNames)).toEqual(['\ue000', '\uff61', '🎵']);
    expect(['\uff61', '🎵', '\ue000'].sort()).toEqual(['🎵', '\ue000', '\uff61']);
    // Prefixes first, uppercase before lowercase, no case folding.
    expect(['music', 'Music', 'musica', 'musi'].sort(compareCategoryNames)).toEqual(['Music', 'musi', 'music', 'musica']);
  });

  it('gives the fixture\'s Unicode names in the order they are listed', () => {
    expect([...UNICODE_CATEGORY_NAMES].reverse().sort(compareCategoryNames)).toEqual([...UNICODE_CATEGORY_NAMES]);
  });
});

describe('category_snapshot documents', () => {
  it('verify when signed by node, and never get expires_at', () => {
    expect(EXPIRING_KINDS.has('category_snapshot')).toBe(false);
    const signed = signDocument(categorySnapshot(), keys.node, { ...options, expiresInMs: 60_000 });
    expect(signed['expires_at']).toBeUndefined();
    const record = verifyBytes(JSON.stringify(signed), options);
    expect(record.kind).toBe('category_snapshot');
    expect(record.signer).toBe(keys.node.did);
    const snapshot = record.document as CategorySnapshot;
    expect(snapshot.categories.map((c) => c.category)).toEqual(['books', 'film', 'music']);
    expect(verifyDocument(signDocument(categorySnapshotWithUnicodeNames(), keys.node, options), options).kind).toBe('category_snapshot');
  });

  it('are refused when signed by any key but node, naming $.node', () => {
    for (const key of [keys.peer, keys.nodeService, keys.operator]) {
      const { code, reason } = refusal(rawSign(categorySnapshot(), key));
      expect(code).toBe('signature.wrong_signer');
      expect(reason).toBe(`signed by ${key.did}, but the signer must be $.node (${keys.node.did})`);
    }
  });

  it('accept an empty log: last_seq 0 and no categories', () => {
    expect(verifyDocument(rawSign({ ...categorySnapshot(), last_seq: 0, categories: [] }), options).kind).toBe('category_snapshot');
  });

  it('snapshot.part: part may equal parts, never exceed it', () => {
    expect(verifyDocument(rawSign({ ...categorySnapshot(), part: 3, parts: 3 }), options).kind).toBe('category_snapshot');
    expect(refusal(rawSign({ ...categorySnapshot(), part: 4, parts: 3 }))).toEqual({
      code: 'snapshot.part',
      path: '$.part',
      reason: 'part 4 of 3: part must not exceed parts',
    });
  });

  it('snapshot.order: names the first category that is not after the one before it', () => {
    expect(refusal(withCategories(['books', 'music', 'film']))).toEqual({
      code: 'snapshot.order',
      path: '$.categories[2].category',
      reason: 'sorts before the category before it (order: UTF-8 bytes)',
    });
    expect(refusal(withCategories(['books', 'film', 'film', 'music']))).toEqual({
      code: 'snapshot.order',
      path: '$.categories[2].category',
      reason: 'repeats the category before it',
    });
    // JavaScript's default sort is not the snapshot order.
    expect(refusal(withCategories([...UNICODE_CATEGORY_NAMES].sort()))).toMatchObject({ code: 'snapshot.order', path: '$.categories[7].category' });
    expect(refusal(withCategories(['b', 'a']))).toMatchObject({ path: '$.categories[1].category' });
  });

  it('accept any set of distinct names sorted with compareCategoryNames', () => {
    const names = fc.uniqueArray(
      fc.string({ unit: 'binary', minLength: 1, maxLength: 16 }).filter((s) => !/[\u0000-\u001f\u007f]/.test(s) && s.length <= 64),
      { maxLength: 40 },
    );
    fc.assert(
      fc.property(names, (list) => {
        const sorted = [...list].sort(compareCategoryNames);
        const signed = signDocument({ ...categorySnapshot(), categories: named(sorted) }, keys.node, options);
        expect(verifyBytes(JSON.stringify(signed), options).kind).toBe('category_snapshot');
        if (list.length >= 2) {
          // Swapping two neighbours always breaks the order at the second of them.
          const swapped = [...sorted];
          [swapped[0], swapped[1]] = [swapped[1]!, swapped[0]!];
          expect(refusal(withCategories(swapped))).toMatchObject({ code: 'snapshot.order', path: '$.categories[1].category' });
        }
      }),
      { numRuns: 150 },
    );
  });

  it('schema bounds: at most 2048 categories, counts from 1, closed category objects, a stream name', () => {
    const many = Array.from({ length: 2049 }, (_, i) => `c${String(i).padStart(5, '0')}`);
    expect(verifyDocument(withCategories(many.slice(0, 2048)), options).kind).toBe('category_snapshot');
    expect(refusal(withCategories(many))).toEqual({ code: 'schema', path: '$.categories', reason: 'more than 2048 items' });
    const doc = categorySnapshot();
    const categories = doc['categories'] as Doc[];
    expect(refusal(rawSign({ ...doc, categories: [{ ...categories[0], count: 0 }] }))).toEqual({
      code: 'schema',
      path: '$.categories[0].count',
      reason: 'must be at least 1',
    });
    expect(refusal(rawSign({ ...doc, categories: [{ ...categories[0], extra: 1 }] }))).toMatchObject({
      code: 'schema',
      path: '$.categories[0].extra',
    });
    expect(refusal(rawSign({ ...doc, categories: [{ ...categories[0], category: 'x'.repeat(65) }] }))).toMatchObject({
      code: 'schema',
      path: '$.categories[0].category',
    });
    expect(refusal(rawSign({ ...doc, stream: 'FEDERATED opa' }))).toEqual({
      code: 'schema',
      path: '$.stream',
      reason: 'not a stream name ([A-Za-z0-9_-]{1,64})',
    });
    expect(refusal(rawSign({ ...doc, last_seq: -1 }))).toMatchObject({ code: 'schema', path: '$.last_seq' });
    expect(refusal(rawSign({ ...doc, parts: 0 }))).toMatchObject({ code: 'schema', path: '$.parts' });
  });

  it('rules run in order: schema, then snapshot.part, then snapshot.order, then freshness', () => {
    const broken = { ...categorySnapshot(), part: 5, parts: 2, categories: named(['b', 'a']) };
    expect(refusal(rawSign({ ...broken, stream: 'a.b' })).code).toBe('schema');
    expect(refusal(rawSign(broken)).code).toBe('snapshot.part');
    expect(refusal(rawSign({ ...broken, part: 1, issued_at: '2026-11-28T18:00:00.000Z' })).code).toBe('snapshot.order');
    expect(refusal(rawSign({ ...broken, part: 1, categories: [], issued_at: '2026-11-28T18:00:00.000Z' })).code).toBe('issued_at.future');
  });
});
