import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ContentChunker } from '../src/domain/chunking.ts';
import { checkContentConsistency, cidOfBytes, EMPTY_CONTENT_CID } from '../src/domain/content-consistency.ts';

describe('ContentChunker', () => {
  it('names fixed-size chunks and the whole, however the bytes arrive', () => {
    const content = randomBytes(10_000);
    const chunker = new ContentChunker(4096);
    // Pieces that do not line up with chunk boundaries.
    for (let at = 0; at < content.length; at += 777) chunker.update(content.subarray(at, at + 777));
    const described = chunker.digest();
    expect(described).toEqual({
      chunks: [content.subarray(0, 4096), content.subarray(4096, 8192), content.subarray(8192)].map((c) => cidOfBytes(c)),
      size: 10_000,
      fingerprint: cidOfBytes(content),
    });
    expect(() => checkContentConsistency(described)).not.toThrow();
  });

  it('describes one-chunk and empty content the way the consistency rules expect', () => {
    const small = new ContentChunker(4096);
    small.update(Buffer.from('tiny'));
    const one = small.digest();
    expect(one.fingerprint).toBe(one.chunks[0]);
    expect(() => checkContentConsistency(one)).not.toThrow();
    expect(new ContentChunker().digest()).toEqual({ chunks: [EMPTY_CONTENT_CID], size: 0, fingerprint: EMPTY_CONTENT_CID });
  });

  it('refuses chunk sizes a storage node would not take', () => {
    expect(() => new ContentChunker(0)).toThrow(/chunk size/);
    expect(() => new ContentChunker(4 * 1024 * 1024 + 1)).toThrow(/chunk size/);
  });
});
