/**
 * verifyBytes trusts parseJson to have enforced the value rules and skips
 * assertProtocolValue (verify.ts). These tests hold that trust: whatever parseJson
 * accepts, assertProtocolValue accepts too.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assertProtocolValue, MAX_DEPTH, parseJson, ProtocolError } from '../src/mod.ts';

function parsed(text: string): { value: unknown } | undefined {
  try {
    return { value: parseJson(text) };
  } catch (error) {
    if (error instanceof ProtocolError) return undefined;
    throw error;
  }
}

/** JSON text with what the value rules refuse: floats, huge numbers, lone surrogates. */
const risky = fc.jsonValue({
  maxDepth: 4,
  depthSize: 'medium',
  stringUnit: 'binary',
}).map((value) => JSON.stringify(value));
const numbers = fc.oneof(fc.double(), fc.bigInt({ min: -(2n ** 60n), max: 2n ** 60n }).map(String), fc.constantFrom('-0', '1e2', '1E+2', '9007199254740991', '9007199254740992', '-9007199254740992'));
const surrogates = fc.constantFrom('"\\ud800"', '"\\udc00x"', '"\ud800"', '{"\\ud800":1}', '"\\ud83d\\ude00"', '{"a":1,"\\u0061":2}');

describe('parseJson and the value rules', () => {
  it('what parseJson accepts, assertProtocolValue accepts', () => {
    fc.assert(
      fc.property(fc.oneof(risky, numbers.map(String), surrogates, numbers.map((n) => `[${String(n)}]`)), (text) => {
        const result = parsed(text);
        if (result !== undefined) expect(() => assertProtocolValue(result.value)).not.toThrow();
      }),
      { numRuns: 3000 },
    );
  });

  it('both draw the depth limit at the same nesting', () => {
    const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);
    expect(parsed(nested(MAX_DEPTH))).toBeDefined();
    expect(() => assertProtocolValue(JSON.parse(nested(MAX_DEPTH)))).not.toThrow();
    expect(parsed(nested(MAX_DEPTH + 1))).toBeUndefined();
    expect(() => assertProtocolValue(JSON.parse(nested(MAX_DEPTH + 1)))).toThrow(ProtocolError);
  });
});

describe('parseJson and lone surrogates', () => {
  /** A string of any UTF-16 units, written raw or with each unit as a \u escape. */
  const member = fc.tuple(fc.string({ unit: fc.integer({ min: 0xd7f0, max: 0xe010 }).map((u) => String.fromCharCode(u)), maxLength: 3 }), fc.boolean());
  const spell = ([text, escaped]: [string, boolean]) =>
    escaped ? `"${[...Array(text.length).keys()].map((i) => `\\u${text.charCodeAt(i).toString(16).padStart(4, '0')}`).join('')}"` : `"${text}"`;

  it('refuses the first string with a lone surrogate, raw or escaped, and nothing else', () => {
    fc.assert(
      fc.property(member, member, member, (a, b, c) => {
        const text = `{"a":${spell(a)},"b":[${spell(b)},${spell(c)}]}`;
        const members: [string, string][] = [
          ['$.a', a[0]],
          ['$.b[0]', b[0]],
          ['$.b[1]', c[0]],
        ];
        const firstBad = members.find(([, value]) => !value.isWellFormed());
        let outcome: unknown = 'accepted';
        try {
          parseJson(text);
        } catch (error) {
          if (!(error instanceof ProtocolError)) throw error;
          outcome = { code: error.code, path: error.path };
        }
        expect(outcome).toEqual(firstBad === undefined ? 'accepted' : { code: 'json.lone_surrogate', path: firstBad[0] });
      }),
      { numRuns: 3000 },
    );
  });
});
