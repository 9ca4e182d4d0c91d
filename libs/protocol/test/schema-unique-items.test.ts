/**
 * The schema check decides `uniqueItems` on arrays of strings by string equality, as
 * JSON Schema (and the published schema) means it, not by TypeBox's hash, whose
 * collisions refused distinct strings (schema-unique-items.ts).
 */
import { KindGuard, Type } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkSchema, ContentManifestSchema, NodeManifestSchema, ProtocolError } from '../src/mod.ts';
import { SCHEMAS } from '../src/schemas/kinds.ts';
import { firstRepeated, withoutStringUniqueItems } from '../src/schema-unique-items.ts';
import { contentManifest } from './fixtures.ts';

/** Any UTF-16 units, lone surrogates and control characters included. */
const anyUnits = fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((unit) => String.fromCharCode(unit)) });

function schemaOutcome(document: Record<string, unknown>): string {
  try {
    checkSchema('content_manifest', document);
    return 'accepted';
  } catch (error) {
    if (error instanceof ProtocolError) return error.message;
    throw error;
  }
}

describe('firstRepeated', () => {
  it('finds the first item equal to an earlier one, by string equality', () => {
    expect(firstRepeated([])).toBe(-1);
    expect(firstRepeated(['a', 'b', 'a', 'b'])).toBe(2);
    expect(firstRepeated(['AB', '\u4142'])).toBe(-1);
    fc.assert(
      fc.property(fc.array(anyUnits, { maxLength: 8 }), (items) => {
        const expected = items.findIndex((item, i) => items.indexOf(item) !== i);
        expect(firstRepeated(items)).toBe(expected);
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

  it('leaves no uniqueItems anywhere in any kind (every one is on a top-level array of strings)', () => {
    for (const schema of Object.values(SCHEMAS)) {
      expect(JSON.stringify(withoutStringUniqueItems(schema as never).schema)).not.toContain('uniqueItems');
    }
  });
});

describe('checkSchema with tags', () => {
  it('accepts distinct tags that TypeBox hashed alike, and refuses equal ones naming the member', () => {
    expect(TypeCompiler.Compile(Type.Array(Type.String(), { uniqueItems: true })).Check(['AB', '\u4142'])).toBe(false); // TypeBox's collision
    expect(schemaOutcome({ ...contentManifest(), signature: 'x', tags: ['AB', '\u4142'] })).toBe('accepted');
    expect(schemaOutcome({ ...contentManifest(), signature: 'x', tags: ['sea', 'folk', 'sea'] })).toBe('schema: $.tags: items must be unique');
  });

  it('accepts a document exactly when its tags are distinct strings (other members valid)', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom('AB', '\u4142', 'a', 'b', 'Ā', '\u0100', 'x'), { maxLength: 6 }), (tags) => {
        const distinct = new Set(tags).size === tags.length;
        expect(schemaOutcome({ ...contentManifest(), signature: 'x', tags })).toBe(distinct ? 'accepted' : 'schema: $.tags: items must be unique');
      }),
      { numRuns: 500 },
    );
  });
});
