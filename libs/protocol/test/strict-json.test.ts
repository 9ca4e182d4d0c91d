import { describe, expect, it } from 'vitest';
import { assertProtocolValue, MAX_DEPTH, parseJson, ProtocolError } from '../src/mod.ts';

function errorOf(run: () => unknown): ProtocolError {
  try {
    run();
  } catch (error) {
    if (error instanceof ProtocolError) return error;
    throw error;
  }
  throw new Error('expected a ProtocolError');
}

describe('parseJson', () => {
  it('returns what JSON.parse returns for valid input, from text or bytes', () => {
    const text = '{"a":[1,-2,{"b":null,"c":true}],"d":"é\\n","e":9007199254740991,"f":-9007199254740991}';
    expect(parseJson(text)).toEqual(JSON.parse(text));
    expect(parseJson(Buffer.from(text, 'utf8'))).toEqual(JSON.parse(text));
  });

  it.each([
    ['{"a":1,"a":2}', '$.a'],
    ['{"x":{"region":"a","region":"b"}}', '$.x.region'],
    ['{"chunks":[{"a":1},{"a":1,"b":2,"a":3}]}', '$.chunks[1].a'],
    ['{"a":1,"\\u0061":2}', '$.a'],
    ['{"odd key":1,"odd key":2}', '$["odd key"]'],
    ['{"a\\"b":1,"a\\"b":2}', '$["a\\"b"]'],
  ])('rejects duplicate keys: %s', (text, path) => {
    expect(errorOf(() => parseJson(text))).toMatchObject({ code: 'json.duplicate_key', path });
  });

  it('keeps equal keys in different objects apart', () => {
    expect(parseJson('{"a":{"a":1},"b":{"a":2},"c":[{"a":1},{"a":2}]}')).toBeTruthy();
  });

  it('is not fooled by quotes, brackets and digits inside strings', () => {
    const text = '{"a":"\\"}],1.5e3,\\\\","b":"{\\"a\\":1,\\"a\\":2}","c":"1.0"}';
    expect(parseJson(text)).toEqual(JSON.parse(text));
  });

  it.each([
    ['{"size":1.0}', '$.size'],
    ['{"size":1e2}', '$.size'],
    ['{"size":1E+2}', '$.size'],
    ['{"chunks":[1,2,-0.5]}', '$.chunks[2]'],
    ['[0.1]', '$[0]'],
  ])('rejects non-integers: %s', (text, path) => {
    expect(errorOf(() => parseJson(text))).toMatchObject({ code: 'json.non_integer', path });
  });

  it.each([
    ['{"n":9007199254740992}', '$.n'],
    ['{"n":-9007199254740992}', '$.n'],
    ['{"n":[12345678901234567890]}', '$.n[0]'],
  ])('rejects unsafe integers: %s', (text, path) => {
    expect(errorOf(() => parseJson(text))).toMatchObject({ code: 'json.unsafe_integer', path });
  });

  it('names the reason and the path in one line', () => {
    const error = errorOf(() => parseJson('{"capabilities":{"cpu":{"load":0.5}}}'));
    expect(error.message).toBe('json.non_integer: $.capabilities.cpu.load: number 0.5 is not an integer (no fraction or exponent allowed)');
  });

  it('rejects syntax errors, bad UTF-8, a byte-order mark and oversized input', () => {
    expect(errorOf(() => parseJson('{"a":1'))).toMatchObject({ code: 'json.syntax' });
    expect(errorOf(() => parseJson(Buffer.from([0x7b, 0x22, 0xc3, 0x28, 0x22, 0x3a, 0x31, 0x7d])))).toMatchObject({ code: 'json.encoding' });
    expect(errorOf(() => parseJson(Buffer.from('\ufeff{}', 'utf8')))).toMatchObject({ code: 'json.syntax' });
    expect(errorOf(() => parseJson('{"a":"x"}', { maxBytes: 8 }))).toMatchObject({ code: 'json.too_large' });
    expect(errorOf(() => parseJson(Buffer.from('{"a":"x"}'), { maxBytes: 8 }))).toMatchObject({ code: 'json.too_large' });
    // The limit is in UTF-8 bytes, not characters.
    expect(errorOf(() => parseJson('"éééé"', { maxBytes: 8 }))).toMatchObject({ code: 'json.too_large' });
    expect(parseJson('"éé"', { maxBytes: 8 })).toBe('éé');
  });

  it('rejects lone surrogates in values and keys', () => {
    expect(errorOf(() => parseJson('{"a":["ok","\\udc00"]}'))).toMatchObject({ code: 'json.lone_surrogate', path: '$.a[1]' });
    expect(errorOf(() => parseJson('{"\\ud800":1}'))).toMatchObject({ code: 'json.lone_surrogate' });
    expect(parseJson('"\\ud83d\\ude00"')).toBe('😀');
  });

  it(`rejects nesting deeper than ${MAX_DEPTH}`, () => {
    expect(parseJson('['.repeat(MAX_DEPTH) + ']'.repeat(MAX_DEPTH))).toBeTruthy();
    expect(errorOf(() => parseJson('['.repeat(MAX_DEPTH + 1) + ']'.repeat(MAX_DEPTH + 1)))).toMatchObject({ code: 'json.too_deep' });
  });
});

describe('assertProtocolValue', () => {
  class Thing {
    a = 1;
  }
  it.each([
    ['a float', { a: { b: 1.5 } }, 'json.non_integer', '$.a.b'],
    ['an unsafe integer', { list: [2 ** 53] }, 'json.unsafe_integer', '$.list[0]'],
    ['NaN', { n: Number.NaN }, 'json.unsupported_type', '$.n'],
    ['Infinity', [Number.POSITIVE_INFINITY], 'json.unsupported_type', '$[0]'],
    ['undefined member', { u: undefined }, 'json.unsupported_type', '$.u'],
    ['a function', { f: () => 1 }, 'json.unsupported_type', '$.f'],
    ['a bigint', { b: 1n }, 'json.unsupported_type', '$.b'],
    ['a symbol', { s: Symbol('x') }, 'json.unsupported_type', '$.s'],
    ['a Date', { d: new Date(0) }, 'json.unsupported_type', '$.d'],
    ['a Map', { m: new Map() }, 'json.unsupported_type', '$.m'],
    ['a class instance', { t: new Thing() }, 'json.unsupported_type', '$.t'],
    ['an array hole', { a: [1, , 3] }, 'json.unsupported_type', '$.a[1]'],
    ['a lone surrogate', { s: 'a\ud800' }, 'json.lone_surrogate', '$.s'],
  ])('rejects %s', (_name, value, code, path) => {
    expect(errorOf(() => assertProtocolValue(value))).toMatchObject({ code, path });
  });

  it('accepts JSON values, null-prototype objects and safe integers', () => {
    const bare = Object.create(null) as Record<string, unknown>;
    bare['x'] = [null, true, 's', Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, 0];
    expect(() => assertProtocolValue({ bare, nested: { list: [] } })).not.toThrow();
  });

  it('rejects deep nesting without overflowing the stack', () => {
    let deep: unknown = [];
    for (let i = 0; i < 10_000; i++) deep = [deep];
    expect(errorOf(() => assertProtocolValue(deep))).toMatchObject({ code: 'json.too_deep' });
  });
});
