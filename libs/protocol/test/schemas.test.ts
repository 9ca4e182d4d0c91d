import fc from 'fast-check';
import { CID } from 'multiformats/cid';
import * as raw from 'multiformats/codecs/raw';
import { create as createDigest } from 'multiformats/hashes/digest';
import { base32 } from 'multiformats/bases/base32';
import { describe, expect, it } from 'vitest';
import {
  checkSchema,
  ERASURE_SCHEME_TYPES,
  GOVERNANCE_GROUNDS,
  isHttpsUrl,
  isTimestamp,
  POPULARITY_TIERS,
  ProtocolError,
  REPORT_REASONS,
  SCHEMAS,
  SHARD_STATES,
} from '../src/mod.ts';
import { CID_RAW_SHA256_PATTERN, HTTPS_URL_PATTERN } from '../src/formats.ts';
import {
  categorySnapshot,
  contentManifest,
  erasureGroup,
  erasureGroupLrc,
  erasureGroupReplicated,
  governanceReport,
  governanceReportOfEquivocation,
  keys,
  nodeManifest,
  nodeReport,
  repairTask,
  serviceManifest,
  shardReport,
} from './fixtures.ts';

/** The definition the pattern must match: multiformats' parser plus the DMF constraints. */
function isRawSha256CidByMultiformats(text: string): boolean {
  try {
    const cid = CID.parse(text);
    return cid.version === 1 && cid.code === raw.code && cid.multihash.code === 0x12 && cid.multihash.size === 32 && cid.toString() === text;
  } catch {
    return false;
  }
}

const cidPattern = new RegExp(CID_RAW_SHA256_PATTERN);

function schemaError(kind: Parameters<typeof checkSchema>[0], doc: Record<string, unknown>): string {
  try {
    checkSchema(kind, { ...doc, signature: 'x' });
  } catch (error) {
    if (error instanceof ProtocolError) return error.message;
    throw error;
  }
  return 'valid';
}

describe('CID pattern', () => {
  it('accepts exactly the CIDv1 raw sha2-256 strings that multiformats accepts', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (digest) => {
        const text = CID.createV1(raw.code, createDigest(0x12, digest)).toString();
        expect(cidPattern.test(text)).toBe(true);
        expect(isRawSha256CidByMultiformats(text)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('agrees with multiformats on mutated strings', () => {
    const alphabet = 'abcdefghijklmnopqrstuvwxyz234567ABQmz01';
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.nat({ max: 58 }),
        fc.constantFrom(...alphabet),
        (digest, at, char) => {
          const text = CID.createV1(raw.code, createDigest(0x12, digest)).toString();
          const mutated = text.slice(0, at) + char + text.slice(at + 1);
          expect(cidPattern.test(mutated)).toBe(isRawSha256CidByMultiformats(mutated));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('refuses other codecs, hashes, versions and encodings', () => {
    const digest = createDigest(0x12, new Uint8Array(32).fill(7));
    const others = [
      CID.createV1(0x70, digest).toString(), // dag-pb
      CID.createV0(digest).toString(), // CIDv0
      CID.createV1(raw.code, digest).toString(base32.encoder).toUpperCase(),
      CID.createV1(raw.code, createDigest(0x13, new Uint8Array(64))).toString(), // sha2-512
    ];
    for (const text of others) {
      expect(cidPattern.test(text)).toBe(false);
      expect(isRawSha256CidByMultiformats(text)).toBe(false);
    }
  });
});

describe('string formats', () => {
  it('timestamps: RFC 3339 UTC with milliseconds, real dates only', () => {
    expect(isTimestamp('2026-11-28T17:00:00.000Z')).toBe(true);
    expect(isTimestamp('2028-02-29T00:00:00.000Z')).toBe(true);
    for (const bad of ['2026-02-29T00:00:00.000Z', '2026-11-28T17:00:00Z', '2026-11-28T17:00:00.000+00:00', '2026-11-28 17:00:00.000Z', '2026-11-28T24:00:00.000Z', '2026-11-28T17:00:60.000Z']) {
      expect([bad, isTimestamp(bad)]).toEqual([bad, false]);
    }
  });

  it('https URLs without credentials or hidden whitespace', () => {
    expect(isHttpsUrl('https://node.example.org/api')).toBe(true);
    for (const bad of ['http://node.example.org/', 'https://user:pw@node.example.org/', 'https://node.example.org/\n', 'https:///path', 'ftp://x', 'https://node example.org/']) {
      expect([bad, isHttpsUrl(bad)]).toEqual([bad, false]);
    }
  });

  it('https URL pattern: one regular expression equal to the two checks it replaced', () => {
    const pattern = new RegExp(HTTPS_URL_PATTERN);
    const unicodePattern = new RegExp(HTTPS_URL_PATTERN, 'u');
    const before = (s: string): boolean => /^https:\/\/[^/?#\\]/.test(s) && !/[\u0000-\u0020\u007f\\]/.test(s);
    const tail = fc.string({ unit: fc.constantFrom('a', '/', '?', '#', '\\', ' ', '\t', '\n', '\u007f', '\u0000', 'é', '@', ':', '.'), maxLength: 8 });
    fc.assert(
      fc.property(fc.constantFrom('https://', 'http://', 'https:/', ''), tail, (prefix, rest) => {
        const url = prefix + rest;
        expect([url, pattern.test(url), unicodePattern.test(url)]).toEqual([url, before(url), before(url)]);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('schemas', () => {
  it('accept the fixtures', () => {
    expect(schemaError('content_manifest', contentManifest())).toBe('valid');
    expect(schemaError('node_manifest', nodeManifest())).toBe('valid');
    expect(schemaError('service_manifest', serviceManifest())).toBe('valid');
    expect(schemaError('node_report', nodeReport())).toBe('valid');
    expect(schemaError('category_snapshot', categorySnapshot())).toBe('valid');
    expect(schemaError('governance_report', governanceReport())).toBe('valid');
    expect(schemaError('governance_report', governanceReportOfEquivocation())).toBe('valid');
    for (const group of [erasureGroup(), erasureGroupLrc(), erasureGroupReplicated()]) expect(schemaError('erasure_group', group)).toBe('valid');
    expect(schemaError('shard_report', shardReport())).toBe('valid');
    expect(schemaError('repair_task', repairTask())).toBe('valid');
  });

  it('list the same report reasons and governance grounds as the exported constants', () => {
    const constsOf = (schema: unknown): unknown[] => (schema as { anyOf: { const: unknown }[] }).anyOf.map((option) => option.const);
    expect(constsOf(SCHEMAS.node_report.properties.reason)).toEqual([...REPORT_REASONS]);
    expect(constsOf(SCHEMAS.governance_report.properties.grounds)).toEqual([...GOVERNANCE_GROUNDS]);
  });

  it('list the same tiers, scheme types and shard states as the exported constants', () => {
    const constsOf = (schema: unknown): unknown[] => (schema as { anyOf: { const: unknown }[] }).anyOf.map((option) => option.const);
    expect(constsOf(SCHEMAS.erasure_group.properties.tier)).toEqual([...POPULARITY_TIERS]);
    expect(constsOf(SCHEMAS.shard_report.properties.state)).toEqual([...SHARD_STATES]);
    const types = (SCHEMAS.erasure_group.properties.scheme as unknown as { anyOf: { properties: { type: { const: unknown } } }[] }).anyOf.map(
      (option) => option.properties.type.const,
    );
    expect(types).toEqual([...ERASURE_SCHEME_TYPES]);
  });

  it('keep capabilities open but require region', () => {
    const doc = nodeManifest();
    doc['capabilities'] = { region: 'eu', storage: { bytes: 10 }, anything: ['goes'] };
    expect(schemaError('node_manifest', doc)).toBe('valid');
    doc['capabilities'] = { region: 'eu', jetstream_domain: 'has.dot' };
    expect(schemaError('node_manifest', doc)).toBe('schema: $.capabilities.jetstream_domain: not a JetStream domain name');
  });

  it('accept unknown service types of the right form only', () => {
    expect(schemaError('service_manifest', { ...serviceManifest(), type: 'fingerprint_similarity' })).toBe('valid');
    expect(schemaError('service_manifest', { ...serviceManifest(), type: 'Bad-Type' })).toBe(
      'schema: $.type: not a name of the form [a-z][a-z0-9_]{1,31}',
    );
  });

  it('name the field and the reason', () => {
    expect(schemaError('content_manifest', { ...contentManifest(), creator: keys.creator.did.slice(0, -1) })).toMatch(
      /^schema: \$\.creator: not an Ed25519 did:key/,
    );
    expect(schemaError('content_manifest', { ...contentManifest(), language: 'english language' })).toBe(
      'schema: $.language: not a BCP 47 language tag',
    );
    expect(schemaError('content_manifest', { ...contentManifest(), mime: 'Audio/OGG' })).toBe(
      'schema: $.mime: not a media type (type/subtype, lowercase)',
    );
    expect(schemaError('content_manifest', { ...contentManifest(), description: 'line\r\nbreak' })).toBe(
      'schema: $.description: holds control characters other than tab and line feed',
    );
    expect(schemaError('service_manifest', { ...serviceManifest(), schema: { url: 'https://x.example/', sha256: 'a'.repeat(64), extra: 1 } })).toBe(
      'schema: $.schema.extra: member is not allowed here',
    );
  });
});
