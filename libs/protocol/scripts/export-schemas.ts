/**
 * Writes libs/protocol/schemas/<kind>.schema.json from the TypeBox schemas. Run after
 * any change to src/schemas or src/formats.ts (a test fails until you do):
 * npx tsx libs/protocol/scripts/export-schemas.ts
 */
import { writeFileSync } from 'node:fs';
import { DOCUMENT_KINDS } from '../src/mod.ts';
import { jsonSchemaFileText } from '../src/json-schema-export.ts';

for (const kind of DOCUMENT_KINDS) {
  const file = new URL(`../schemas/${kind}.schema.json`, import.meta.url);
  writeFileSync(file, jsonSchemaFileText(kind));
  console.log(`wrote ${file.pathname}`);
}
