/**
 * normalizeLabel skips NFC and white-space collapsing for plain ASCII, and
 * checkMetadataText counts words only when a refusal is possible (labels.ts, spam.ts).
 * These tests hold both to the rules as they were written before.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { normalizeLabel } from '../src/domain/labels.ts';
import { MetadataRefusal } from '../src/domain/refusal.ts';
import { checkMetadataText, MAX_LABEL_LENGTH } from '../src/domain/spam.ts';

/** The label rule in full (labels.ts module comment). */
const normalizeFully = (text: string) => text.normalize('NFC').replace(/\s+/gu, ' ').trim().toLowerCase();

/** checkMetadataText before it reused the normalised title and skipped short descriptions. */
function checkTextAsBefore(manifest: { title: string; category: string; tags: readonly string[]; description?: string }): void {
  const words = (text: string) => normalizeFully(text).split(/[^\p{L}\p{N}]+/u).filter((w) => w.length >= 2);
  const mostFrequent = (list: readonly string[]) => {
    const counts = new Map<string, number>();
    let best: { word: string; count: number } | undefined;
    for (const w of list) {
      const count = (counts.get(w) ?? 0) + 1;
      counts.set(w, count);
      if (!best || count > best.count) best = { word: w, count };
    }
    return best;
  };
  if (normalizeFully(manifest.title) === '') throw new MetadataRefusal('spam.text', '$.title', 'is blank');
  const category = normalizeFully(manifest.category);
  if (category === '') throw new MetadataRefusal('spam.text', '$.category', 'is blank');
  if (category.length > MAX_LABEL_LENGTH) {
    throw new MetadataRefusal('spam.text', '$.category', `is ${category.length} characters once normalised (at most ${MAX_LABEL_LENGTH})`);
  }
  const seen = new Map<string, number>();
  manifest.tags.forEach((tag, i) => {
    const label = normalizeFully(tag);
    if (label === '') throw new MetadataRefusal('spam.tags', `$.tags[${i}]`, 'is blank');
    if (label.length > MAX_LABEL_LENGTH) {
      throw new MetadataRefusal('spam.tags', `$.tags[${i}]`, `is ${label.length} characters once normalised (at most ${MAX_LABEL_LENGTH})`);
    }
    const first = seen.get(label);
    if (first !== undefined) throw new MetadataRefusal('spam.tags', `$.tags[${i}]`, `repeats $.tags[${first}] (tags are compared ignoring case and spacing)`);
    seen.set(label, i);
  });
  const titleTop = mostFrequent(words(manifest.title));
  if (titleTop && titleTop.count > 4) throw new MetadataRefusal('spam.text', '$.title', `repeats "${titleTop.word}" ${titleTop.count} times (at most 4)`);
  if (manifest.description !== undefined) {
    const list = words(manifest.description);
    const top = mostFrequent(list);
    if (list.length >= 40 && top && top.count > list.length * 0.5) {
      throw new MetadataRefusal('spam.text', '$.description', `"${top.word}" is ${top.count} of its ${list.length} words`);
    }
  }
}

function outcome(check: () => void): unknown {
  try {
    check();
    return 'accepted';
  } catch (error) {
    if (!(error instanceof MetadataRefusal)) throw error;
    return { code: error.code, path: error.path, reason: error.reason };
  }
}

/** Text mostly of plain ASCII, with the characters the fast path must send to the full rule. */
const unit = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('a', 'B', 'z', '7', '-', '.', ' ') },
  { weight: 1, arbitrary: fc.constantFrom('\t', '\n', '\u00a0', '\u2003', 'É', 'İ', 'e\u0301', '\u212b', '\ufb01', '\u0000', '~', '\u007f') },
);
const text = fc.string({ unit, maxLength: 12 });
/** Words from a small vocabulary, so that repeats (and stuffing) happen. */
const wordy = (maxLength: number) =>
  fc.array(fc.constantFrom('sea', 'Sea', 'SEA ', 'song', 'a', 'folk', '\tsea', 'sea,'), { maxLength }).map((w) => w.join(' '));

describe('normalizeLabel', () => {
  it('gives what the full rule gives', () => {
    fc.assert(
      fc.property(fc.oneof(text, fc.string({ maxLength: 12 }), fc.string({ unit: 'binary', maxLength: 12 })), (value) => {
        expect(normalizeLabel(value)).toBe(normalizeFully(value));
      }),
      { numRuns: 5000 },
    );
    expect(normalizeLabel('Field Recording')).toBe('field recording');
    expect(normalizeLabel(' Jazz  Fusion\t')).toBe('jazz fusion');
  });
});

describe('checkMetadataText', () => {
  it('refuses exactly what the rules as written before refuse, with the same reasons', () => {
    const manifest = fc.record(
      {
        title: fc.oneof(text, wordy(8)),
        category: fc.oneof(text, fc.constant('Music')),
        tags: fc.array(fc.oneof(text, fc.constantFrom('Folk', 'folk ', 'sea')), { maxLength: 4 }),
        description: fc.oneof(text, wordy(60)),
      },
      { requiredKeys: ['title', 'category', 'tags'] },
    );
    fc.assert(
      fc.property(manifest, (m) => {
        expect(outcome(() => checkMetadataText(m))).toEqual(outcome(() => checkTextAsBefore(m)));
      }),
      { numRuns: 5000 },
    );
  });

  it('still refuses stuffed descriptions and titles', () => {
    const base = { title: 'Sea songs', category: 'Music', tags: [] };
    const stuffed = Array.from({ length: 40 }, (_, i) => (i % 3 === 0 ? 'song' : 'sea')).join(' ');
    expect(outcome(() => checkMetadataText({ ...base, description: stuffed }))).toEqual({
      code: 'spam.text',
      path: '$.description',
      reason: '"sea" is 26 of its 40 words',
    });
    expect(outcome(() => checkMetadataText({ ...base, title: 'Sea sea SEA sea sea song' }))).toEqual({
      code: 'spam.text',
      path: '$.title',
      reason: 'repeats "sea" 5 times (at most 4)',
    });
  });
});
