/**
 * The committed language-neutral schemas (libs/protocol/schemas/*.schema.json) must be
 * exactly what the TypeBox schemas export, and must decide the test vectors as the
 * verifier does when read by the rules of JSON Schema plus the profile notes they carry.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { describe, expect, it } from 'vitest';
import { DOCUMENT_KINDS, PROTOCOL_FORMATS, type DocumentKind } from '../src/mod.ts';
import { FORMAT_RULES } from '../src/formats.ts';
import { JSON_SCHEMA_DIALECT, jsonSchemaFileText } from '../src/json-schema-export.ts';

const folder = new URL('../schemas/', import.meta.url);
const committed = (kind: DocumentKind): string => readFileSync(new URL(`${kind}.schema.json`, folder), 'utf8');
const schemaOf = (kind: DocumentKind): Schema => JSON.parse(committed(kind)) as Schema;

type Schema = Record<string, unknown>;

/** Every sub-schema of a schema, with its JSON pointer. */
function* walk(schema: Schema, at = ''): Generator<[string, Schema]> {
  yield [at, schema];
  for (const [name, sub] of Object.entries((schema['properties'] as Record<string, Schema> | undefined) ?? {})) {
    yield* walk(sub, `${at}/properties/${name}`);
  }
  if (schema['items'] !== undefined) yield* walk(schema['items'] as Schema, `${at}/items`);
  for (const [i, sub] of ((schema['anyOf'] as Schema[] | undefined) ?? []).entries()) yield* walk(sub, `${at}/anyOf/${i}`);
}

describe('exported JSON Schema files', () => {
  it('are exactly what the TypeBox schemas export (run scripts/export-schemas.ts after a change)', () => {
    expect(readdirSync(folder).sort()).toEqual(DOCUMENT_KINDS.map((kind) => `${kind}.schema.json`).sort());
    for (const kind of DOCUMENT_KINDS) expect([kind, committed(kind)]).toEqual([kind, jsonSchemaFileText(kind)]);
  });

  it('use only standard keywords, and say what each dmf-* format checks', () => {
    expect(Object.keys(FORMAT_RULES).sort()).toEqual(Object.keys(PROTOCOL_FORMATS).sort());
    for (const kind of DOCUMENT_KINDS) {
      const schema = schemaOf(kind);
      expect(schema['$schema']).toBe(JSON_SCHEMA_DIALECT);
      expect(schema['$comment']).toContain('UTF-16 code units');
      for (const [at, sub] of walk(schema)) {
        for (const keyword of Object.keys(sub)) expect([kind, at, keyword, KEYWORDS.has(keyword) || ANNOTATIONS.has(keyword)]).toEqual([kind, at, keyword, true]);
        if (sub['format'] !== undefined) {
          expect([kind, at, sub['$comment']]).toEqual([kind, at, FORMAT_RULES[sub['format'] as string]]);
          // Every format also carries the regular-expression part of its rule.
          expect([kind, at, typeof sub['pattern']]).toEqual([kind, at, 'string']);
        }
        // Patterns are ECMA-262: they must compile in Unicode mode too (as Ajv compiles them).
        if (sub['pattern'] !== undefined) expect(() => new RegExp(sub['pattern'] as string, 'u')).not.toThrow();
      }
    }
  });
});

const KEYWORDS = new Set([
  'type', 'const', 'anyOf', 'properties', 'required', 'additionalProperties', 'maxProperties', 'items', 'minItems',
  'maxItems', 'uniqueItems', 'minLength', 'maxLength', 'pattern', 'format', 'minimum', 'maximum',
]);
const ANNOTATIONS = new Set(['$schema', '$id', 'title', 'description', '$comment']);

/**
 * A validator for the keywords above, written from the JSON Schema 2020-12 text.
 * `lengths` chooses how string length is counted: 'code-points' as JSON Schema says,
 * 'utf16' as the DMF profile says. `formats` chooses whether `format` asserts.
 */
function validate(schema: Schema, value: unknown, mode: { lengths: 'code-points' | 'utf16'; formats: boolean }): boolean {
  const is = (type: string): boolean => {
    switch (type) {
      case 'object':
        return value !== null && typeof value === 'object' && !Array.isArray(value);
      case 'array':
        return Array.isArray(value);
      case 'integer':
        return typeof value === 'number' && Number.isInteger(value);
      default:
        return typeof value === type;
    }
  };
  for (const [keyword, arg] of Object.entries(schema)) {
    if (ANNOTATIONS.has(keyword)) continue;
    const length = typeof value === 'string' ? (mode.lengths === 'utf16' ? value.length : [...value].length) : 0;
    const object = value as Record<string, unknown>;
    const ok = ((): boolean => {
      switch (keyword) {
        case 'type':
          return is(arg as string);
        case 'const':
          return isDeepStrictEqual(value, arg);
        case 'anyOf':
          return (arg as Schema[]).some((sub) => validate(sub, value, mode));
        case 'properties':
          return !is('object') || Object.entries(arg as Record<string, Schema>).every(([name, sub]) => !Object.hasOwn(object, name) || validate(sub, object[name], mode));
        case 'required':
          return !is('object') || (arg as string[]).every((name) => Object.hasOwn(object, name));
        case 'additionalProperties':
          return !is('object') || arg === true || Object.keys(object).every((name) => Object.hasOwn((schema['properties'] as object | undefined) ?? {}, name));
        case 'maxProperties':
          return !is('object') || Object.keys(object).length <= (arg as number);
        case 'items':
          return !is('array') || (value as unknown[]).every((item) => validate(arg as Schema, item, mode));
        case 'minItems':
          return !is('array') || (value as unknown[]).length >= (arg as number);
        case 'maxItems':
          return !is('array') || (value as unknown[]).length <= (arg as number);
        case 'uniqueItems':
          return !is('array') || arg !== true || (value as unknown[]).every((a, i, all) => all.findIndex((b) => isDeepStrictEqual(a, b)) === i);
        case 'minLength':
          return !is('string') || length >= (arg as number);
        case 'maxLength':
          return !is('string') || length <= (arg as number);
        case 'pattern':
          return !is('string') || new RegExp(arg as string, 'u').test(value as string);
        case 'format':
          return !is('string') || !mode.formats || PROTOCOL_FORMATS[arg as string]!(value as string);
        case 'minimum':
          return typeof value !== 'number' || value >= (arg as number);
        case 'maximum':
          return typeof value !== 'number' || value <= (arg as number);
        default:
          throw new Error(`keyword ${keyword} is not handled by this test's validator`);
      }
    })();
    if (!ok) return false;
  }
  return true;
}

interface Vectors {
  valid: { name: string; kind: DocumentKind; document: Record<string, unknown> }[];
  invalid: { name: string; code: string; input?: string }[];
}
const vectors = JSON.parse(readFileSync(new URL('./vectors/dmf-documents.json', import.meta.url), 'utf8')) as Vectors;
const schemaVectors = vectors.invalid.filter((v) => v.code === 'schema');

/** What a plain JSON Schema validator misses without the profile notes, by vector name. */
const NEEDS_FORMATS = ['issued_at on 30 February'];
const NEEDS_UTF16_LENGTHS = ['title of 129 emoji (258 UTF-16 code units)'];

describe('the exported schemas decide the vectors as the verifier does', () => {
  const accepts = (doc: Record<string, unknown>, mode: Parameters<typeof validate>[2]): boolean => {
    const kind = doc['kind'] as DocumentKind;
    return DOCUMENT_KINDS.includes(kind) && validate(schemaOf(kind), doc, mode);
  };

  it('with the dmf-* formats and UTF-16 lengths: accept every valid vector, refuse every schema vector', () => {
    const mode = { lengths: 'utf16', formats: true } as const;
    for (const v of vectors.valid) expect([v.name, accepts(v.document, mode)]).toEqual([v.name, true]);
    expect(schemaVectors.length).toBeGreaterThan(20);
    for (const v of schemaVectors) expect([v.name, accepts(JSON.parse(v.input!), mode)]).toEqual([v.name, false]);
  });

  it('read as plain JSON Schema (formats as annotations, code-point lengths), miss only the documented cases', () => {
    const mode = { lengths: 'code-points', formats: false } as const;
    for (const v of vectors.valid) expect([v.name, accepts(v.document, mode)]).toEqual([v.name, true]);
    const missed = schemaVectors.filter((v) => accepts(JSON.parse(v.input!), mode)).map((v) => v.name);
    expect(missed.sort()).toEqual([...NEEDS_FORMATS, ...NEEDS_UTF16_LENGTHS].sort());
  });
});
