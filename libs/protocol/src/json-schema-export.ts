/**
 * The kinds' TypeBox schemas as plain JSON Schema (draft 2020-12) for implementations
 * in other languages: `libs/protocol/schemas/<kind>.schema.json`, written by
 * `scripts/export-schemas.ts` and checked against this output by a test, so that the
 * files never drift from the schemas the verifier runs.
 *
 * What changes on the way out: TypeBox's `errorMessage` (our message text, not a
 * standard keyword) is dropped; each `dmf-*` format gets a `$comment` stating what it
 * checks beyond its `pattern`; the root says what JSON Schema cannot express.
 */
import { FORMAT_RULES } from './formats.ts';
import { MAX_DEPTH } from './strict-json.ts';
import { SCHEMAS, type DocumentKind } from './schemas/kinds.ts';

export const JSON_SCHEMA_DIALECT = 'https://json-schema.org/draft/2020-12/schema';

/** Keywords of the TypeBox schemas that are ours, not JSON Schema's. */
const DROPPED = new Set(['errorMessage']);

/** Rules of each kind outside its schema, by error code (README: DMF v1 profile). */
const KIND_RULES: Record<DocumentKind, string> = {
  node_manifest:
    'expires_at.before_issued (expires_at <= issued_at), expires_at.too_far (expires_at - issued_at > 30 days), expires_at.expired (now >= expires_at); signer: operator if present, else node_id',
  service_manifest:
    'expires_at.before_issued, expires_at.too_far, expires_at.expired as for node manifests; signer: the public_key of the current node manifest of node_id (signer.unresolved when unknown)',
  content_manifest: 'signer: creator',
  node_attestation:
    'attestation.self (attester == subject), attestation.window (observed_until < observed_from, or observed_until > issued_at); expires_at rules as for node manifests; signer: attester',
  node_report: 'report.self (reporter == subject); signer: reporter',
  category_snapshot:
    'snapshot.part (part > parts), snapshot.order (categories[i].category not after categories[i-1].category in UTF-8 byte order: unsorted or repeated); signer: node',
  governance_report: 'governance.self (reporter == subject); signer: reporter',
  erasure_group:
    'group.lrc (scheme.type "lrc" and scheme.k not divisible by scheme.l), group.shards (the scheme\'s shard count, k+m for rs, k+l+r for lrc, copies for replication, above 255, or shards or holders not of that many items), group.holders (a did:key twice in holders); signer: coordinator',
  shard_report: 'signer: node',
  repair_task:
    'repair.duplicate (one shard number twice within read, or twice within rebuild), repair.overlap (a shard number in both read and rebuild); expires_at rules as for node manifests; signer: coordinator',
};

function rootComment(kind: DocumentKind): string {
  return [
    'Generated from libs/protocol/src/schemas by libs/protocol/scripts/export-schemas.ts; do not edit.',
    'DMF v1 profile (libs/protocol/README.md, "DMF v1 profile: rules beyond PROTOCOL.md"):',
    '(1) minLength and maxLength count UTF-16 code units, not code points as JSON Schema does: a character outside the Basic Multilingual Plane (an emoji) counts 2.',
    '(2) pattern is an ECMA-262 regular expression; $ matches only at the very end of the string.',
    '(3) each dmf-* format is an assertion; its $comment says what it checks beyond the pattern beside it.',
    `(4) checked outside this schema: the value rules on the raw JSON (member names unique after unescaping; numbers spelled as integers, no fraction or exponent, |n| <= 2^53-1; no lone surrogates; nesting <= ${MAX_DEPTH}; at most 524288 bytes of UTF-8);`,
    `issued_at.future (issued_at > now + 5 minutes); ${KIND_RULES[kind]}; then the detached JWS (PROTOCOL.md section 2).`,
  ].join(' ');
}

function convert(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(convert);
  if (node === null || typeof node !== 'object') return node;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) {
    if (DROPPED.has(key)) continue;
    // `properties` maps member names to schemas; every other object value is a schema.
    out[key] =
      key === 'properties'
        ? Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([name, schema]) => [name, convert(schema)]))
        : convert(value);
  }
  const format = out['format'];
  if (typeof format === 'string' && Object.hasOwn(FORMAT_RULES, format)) out['$comment'] = FORMAT_RULES[format];
  return out;
}

/** The JSON Schema of one kind, as a plain object (symbols and TypeBox keywords removed). */
export function exportJsonSchema(kind: DocumentKind): Record<string, unknown> {
  // JSON round trip: drops TypeBox's symbol-keyed metadata, keeps member order.
  const plain = convert(JSON.parse(JSON.stringify(SCHEMAS[kind]))) as Record<string, unknown>;
  return {
    $schema: JSON_SCHEMA_DIALECT,
    $id: `urn:dmf:protocol:v1:schema:${kind}`,
    title: kind,
    $comment: rootComment(kind),
    ...plain,
  };
}

/** The text of `schemas/<kind>.schema.json`: two-space indented JSON and a final newline. */
export function jsonSchemaFileText(kind: DocumentKind): string {
  return `${JSON.stringify(exportJsonSchema(kind), null, 2)}\n`;
}
