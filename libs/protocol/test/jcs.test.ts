import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalBytes, canonicalize, ProtocolError } from '../src/mod.ts';
import { canonicalizeSigned } from '../src/jcs.ts';

/** JSON values inside the DMF value rules (safe integers, well-formed strings). */
const dmfValue = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.constant(null),
    fc.boolean(),
    fc.maxSafeInteger(),
    fc.string({ unit: 'grapheme' }),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.string({ unit: 'grapheme', maxLength: 6 }), tie('value'), { maxKeys: 5 }),
  ),
})).value;

/** Rebuilds a value with every object's members inserted in a shuffled order. */
function reorder(value: unknown, random: () => number): unknown {
  if (Array.isArray(value)) return value.map((item) => reorder(item, random));
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value);
    for (let i = entries.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [entries[i], entries[j]] = [entries[j]!, entries[i]!];
    }
    const out: Record<string, unknown> = {};
    for (const [key, item] of entries) out[key] = reorder(item, random);
    return out;
  }
  return value;
}

describe('canonicalize', () => {
  it('is idempotent: canonicalising the canonical text again changes nothing', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const once = canonicalize(value);
        expect(canonicalize(JSON.parse(once))).toBe(once);
      }),
      { numRuns: 300 },
    );
  });

  it('does not depend on member order', () => {
    fc.assert(
      fc.property(dmfValue, fc.integer(), (value, seed) => {
        let state = seed >>> 0;
        const random = (): number => ((state = (state * 1664525 + 1013904223) >>> 0) / 2 ** 32);
        expect(canonicalize(reorder(value, random))).toBe(canonicalize(value));
      }),
      { numRuns: 300 },
    );
  });

  it('has no whitespace and sorts by UTF-16 code units, not code points or locale', () => {
    // U+FF61 sorts after U+1F600 by code point, before it by UTF-16 code unit (0xD83D).
    expect(canonicalize({ '\uff61': 1, '\u{1f600}': 2, b: [1, { z: 1, a: 2 }], a: null })).toBe(
      '{"a":null,"b":[1,{"a":2,"z":1}],"😀":2,"｡":1}',
    );
  });

  it('throws ProtocolError for values JSON cannot hold', () => {
    expect(() => canonicalize(undefined)).toThrow(ProtocolError);
    expect(() => canonicalize(Number.NaN)).toThrow(ProtocolError);
  });
});

describe('canonicalBytes', () => {
  it('is the UTF-8 of canonicalize for DMF values', () => {
    fc.assert(
      fc.property(dmfValue, (value) => {
        expect(Buffer.from(canonicalBytes(value)).toString('utf8')).toBe(canonicalize(value));
      }),
      { numRuns: 200 },
    );
  });

  it('applies the value rules that the general canonicaliser does not', () => {
    expect(canonicalize({ a: 1.5 })).toBe('{"a":1.5}');
    expect(() => canonicalBytes({ a: 1.5 })).toThrow(expect.objectContaining({ code: 'json.non_integer', path: '$.a' }));
    expect(() => canonicalBytes({ a: 2 ** 53 })).toThrow(expect.objectContaining({ code: 'json.unsafe_integer' }));
  });
});

describe('canonicalizeSigned', () => {
  it('gives the JCS of the document with and without its signature in one pass', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string({ maxLength: 12 }), dmfValue, { maxKeys: 8 }), fc.string(), (members, signature) => {
        const document = { ...members, signature };
        const { signature: _dropped, ...unsigned } = document;
        const { payload, whole } = canonicalizeSigned(document);
        expect(payload).toBe(canonicalize(unsigned));
        expect(whole).toBe(canonicalize(document));
      }),
      { numRuns: 200 },
    );
  });
});
