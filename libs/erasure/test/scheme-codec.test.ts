import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { encodeChunk, joinChunk, lrcScheme, rebuildShards, replicationScheme, rsScheme, schemeShardBytes, xorScheme, isRecoverable, type Scheme } from '../src/mod.ts';

const schemes: Scheme[] = [rsScheme(4, 2), lrcScheme(4, 2, 1), xorScheme(3), replicationScheme(3)];

describe('scheme codec', () => {
  for (const scheme of schemes) {
    it(`${scheme.kind}: rebuilds any recoverable loss and joins the chunk back`, () => {
      fc.assert(
        fc.property(fc.integer({ min: 1, max: 3000 }), fc.array(fc.boolean(), { minLength: 7, maxLength: 7 }), (size, lose) => {
          const chunk = randomBytes(size);
          const shards = encodeChunk(scheme, chunk);
          expect(shards.every((s) => s.length === schemeShardBytes(scheme, size))).toBe(true);
          const missing = shards.map((_, i) => i).filter((i) => lose[i]);
          const partial = shards.map((s, i) => (missing.includes(i) ? null : s));
          if (!isRecoverable(scheme, missing)) {
            expect(() => rebuildShards(scheme, partial)).toThrow(/too_few|shards/);
            return;
          }
          rebuildShards(scheme, partial);
          expect(partial.map((s) => Buffer.from(s as Uint8Array).toString('hex'))).toEqual(shards.map((s) => Buffer.from(s).toString('hex')));
          expect(Buffer.from(joinChunk(scheme, partial as Uint8Array[], size)).equals(chunk)).toBe(true);
        }),
        { numRuns: 60 },
      );
    });
  }

  it('refuses a shard list of the wrong length, naming it', () => {
    expect(() => rebuildShards(rsScheme(2, 1), [null, null])).toThrow(/shards.*2 entries.*3 shards/);
  });
});
