/**
 * checkContentConsistency accepts a CID on a regular expression alone when it matches
 * (content-consistency.ts). These tests hold that fast path to multiformats: every
 * canonical CIDv1 raw sha2-256 matches, everything that matches decodes and spells back
 * the same, and anything else gets the refusal multiformats' decoding gives.
 */
import fc from 'fast-check';
import { CID } from 'multiformats/cid';
import * as raw from 'multiformats/codecs/raw';
import { create as createDigest } from 'multiformats/hashes/digest';
import { describe, expect, it } from 'vitest';
import { checkContentConsistency } from '../src/domain/content-consistency.ts';
import { outcomeOf } from '../src/domain/prechecks.ts';

const FAST_PATH = /^bafkrei[a-h][a-z2-7]{50}[aeimquy4]$/;

/** The check as it was before the fast path: multiformats decodes and re-encodes. */
function refusalByMultiformats(text: string, path: string): { code: string; path: string; reason: string } | null {
  let cid: CID;
  try {
    cid = CID.parse(text);
  } catch (error) {
    return { code: 'fingerprint.malformed', path, reason: `not a CID: ${(error as Error).message}` };
  }
  if (cid.version !== 1 || cid.code !== raw.code || cid.multihash.code !== 0x12 || cid.multihash.size !== 32) {
    return { code: 'fingerprint.malformed', path, reason: 'must be a CIDv1 with the raw codec and a sha2-256 multihash' };
  }
  if (cid.toString() !== text) return { code: 'fingerprint.malformed', path, reason: `not the canonical spelling (${cid.toString()})` };
  return null;
}


const cidOfDigest = (digest: Uint8Array) => CID.createV1(raw.code, createDigest(0x12, digest)).toString();
const validCid = cidOfDigest(new Uint8Array(32).fill(9));

/** A CID string as the chunk at index 1 and as the fingerprint of otherwise consistent content. */
function checkAsChunk(text: string) {
  return outcomeOf(() => checkContentConsistency({ fingerprint: validCid, chunks: [cidOfDigest(new Uint8Array(32)), text], size: 10 }));
}
function checkAsFingerprint(text: string) {
  return outcomeOf(() => checkContentConsistency({ fingerprint: text, chunks: [text], size: 10 }));
}

describe('CID fast path', () => {
  it('every CIDv1 raw sha2-256 is spelled as the fast path expects', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (digest) => {
        expect(cidOfDigest(digest)).toMatch(FAST_PATH);
      }),
      { numRuns: 1000 },
    );
  });

  it('every string the fast path accepts decodes to v1, raw, sha2-256, 32 bytes, and spells back the same', () => {
    fc.assert(
      fc.property(fc.stringMatching(FAST_PATH), (text) => {
        const cid = CID.parse(text);
        expect([cid.version, cid.code, cid.multihash.code, cid.multihash.size]).toEqual([1, raw.code, 0x12, 32]);
        expect(cid.toString()).toBe(text);
        expect(checkAsChunk(text)).toBeNull();
        expect(checkAsFingerprint(text)).toBeNull();
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses other strings exactly as multiformats decoding does', () => {
    const alphabet = 'abcdefghijklmnopqrstuvwxyz234567ABQmz01 ';
    const mutated = fc
      .tuple(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.nat({ max: 59 }), fc.constantFrom(...alphabet, ''))
      .map(([digest, at, char]) => {
        const text = cidOfDigest(digest);
        return text.slice(0, at) + char + text.slice(at + 1);
      });
    fc.assert(
      fc.property(fc.oneof(mutated, fc.string({ maxLength: 60 })), (text) => {
        expect(checkAsChunk(text)).toEqual(refusalByMultiformats(text, '$.chunks[1]'));
        expect(checkAsFingerprint(text)).toEqual(refusalByMultiformats(text, '$.fingerprint'));
      }),
      { numRuns: 3000 },
    );
  });

  it('names the reason multiformats gives', () => {
    const upper = validCid.toUpperCase();
    expect(checkAsChunk(upper)).toMatchObject({ path: '$.chunks[1]', reason: expect.stringMatching(/^not a CID: /) });
    const dagPb = CID.createV1(0x70, createDigest(0x12, new Uint8Array(32))).toString();
    expect(checkAsFingerprint(dagPb)).toEqual({
      code: 'fingerprint.malformed',
      path: '$.fingerprint',
      reason: 'must be a CIDv1 with the raw codec and a sha2-256 multihash',
    });
  });
});
