/**
 * The schema check decides `uniqueItems` on arrays of strings itself (schema-unique-items.ts);
 * these tests hold it to TypeBox's own answer, collisions of TypeBox's hash included.
 */
import { KindGuard, Type } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { Hash } from '@sinclair/typebox/value';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkSchema, ContentManifestSchema, NodeManifestSchema, ProtocolError } from '../src/mod.ts';
import { stringItemsUnique, typeBoxStringHash, withoutStringUniqueItems } from '../src/schema-unique-items.ts';
import { contentManifest } from './fixtures.ts';

/** TypeBox's 64-bit hash in the four-unit spelling of typeBoxStringHash. */
function typeBoxHash(text: string): string {
  const hex = Hash(text).toString(16).padStart(16, '0');
  return String.fromCharCode(...[0, 4, 8, 12].map((at) => parseInt(hex.slice(at, at + 4), 16)));
}

/** Any UTF-16 units, lone surrogates and control characters included. */
const anyUnits = fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((unit) => String.fromCharCode(unit)) });

/** Few distinct strings, among them pairs TypeBox hashes alike ("AB" and U+4142). */
const collisionProne = fc.array(fc.constantFrom('AB', '\u4142', 'a', 'b', '\u0100', 'Ā', 'x\u4142', 'xAB', '', 'ab'), { maxLength: 6 });

const uniqueStrings = TypeCompiler.Compile(Type.Array(Type.String(), { uniqueItems: true }));

function schemaOutcome(document: Record<string, unknown>): string {
  try {
    checkSchema('content_manifest', document);
    return 'accepted';
  } catch (error) {
    if (error instanceof ProtocolError) return error.message;
    throw error;
  }
}

describe('typeBoxStringHash', () => {
  it('is TypeBox Value Hash for every single UTF-16 unit', () => {
    for (let unit = 0; unit <= 0xffff; unit++) {
      const text = String.fromCharCode(unit);
      if (typeBoxStringHash(text) !== typeBoxHash(text)) expect.fail(`differs for U+${unit.toString(16)}`);
    }
  });

  it('is TypeBox Value Hash for any string', () => {
    fc.assert(
      fc.property(anyUnits, (text) => {
        expect(typeBoxStringHash(text)).toBe(typeBoxHash(text));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('stringItemsUnique', () => {
  it('agrees with TypeBox uniqueItems, hash collisions included', () => {
    expect(uniqueStrings.Check(['AB', '\u4142'])).toBe(false);
    expect(stringItemsUnique(['AB', '\u4142'])).toBe(false);
    fc.assert(
      fc.property(fc.oneof(collisionProne, fc.array(anyUnits, { maxLength: 8 })), (items) => {
        expect(stringItemsUnique(items)).toBe(uniqueStrings.Check(items));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('withoutStringUniqueItems', () => {
  it('drops uniqueItems from the arrays of strings only, keeping their other limits', () => {
    const { schema, members } = withoutStringUniqueItems(NodeManifestSchema);
    expect(members).toEqual(['services', 'mirrors']);
    const services = schema.properties['services']!;
    expect(KindGuard.IsArray(services)).toBe(true);
    expect(services).not.toHaveProperty('uniqueItems');
    const { uniqueItems: _, ...original } = NodeManifestSchema.properties.services;
    expect(services).toEqual(original);
    expect(withoutStringUniqueItems(ContentManifestSchema).members).toEqual(['tags']);
    expect(TypeCompiler.Compile(withoutStringUniqueItems(ContentManifestSchema).schema).Check({ ...contentManifest(), signature: 'x', tags: Array(33).fill('t') })).toBe(false);
  });
});

describe('checkSchema with tags', () => {
  const full = TypeCompiler.Compile(ContentManifestSchema);

  it('refuses tags that TypeBox hashes alike, as before', () => {
    expect(schemaOutcome({ ...contentManifest(), signature: 'x', tags: ['AB', '\u4142'] })).toBe('schema: $.tags: items must be unique');
  });

  it('accepts exactly the documents the published schema accepts', () => {
    fc.assert(
      fc.property(fc.oneof(collisionProne, fc.array(anyUnits, { maxLength: 4 })), (tags) => {
        const document = { ...contentManifest(), signature: 'x', tags };
        expect(schemaOutcome(document) === 'accepted').toBe(full.Check(document));
      }),
      { numRuns: 1000 },
    );
  });
});
