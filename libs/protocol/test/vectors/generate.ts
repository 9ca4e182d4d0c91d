/**
 * Writes dmf-documents.json: the DMF test vectors. Run after a deliberate change of
 * the wire format only: npx tsx libs/protocol/test/vectors/generate.ts
 *
 * Valid vectors are signed with signDocument. Invalid ones are built by breaking one
 * rule of a valid document and (where the signature matters) re-signing it with the
 * raw signer, so that the broken rule is the only fault.
 */
import { writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { base58btc } from 'multiformats/bases/base58';
import { compareCategoryNames, protectedHeader, signDocument, type DocumentKind, type SigningKey } from '../../src/mod.ts';
import { canonicalizeSigned } from '../../src/jcs.ts';
import { signDetached } from '../../src/jws.ts';
import {
  categorySnapshot,
  categorySnapshotWithUnicodeNames,
  contentManifest,
  contentManifestWithText,
  CHUNK,
  erasureGroup,
  erasureGroupLrc,
  erasureGroupReplicated,
  EXPIRES_AT,
  governanceReport,
  governanceReportOfEquivocation,
  ISSUED_AT,
  KEY_LABELS,
  keys,
  nodeAttestation,
  nodeManifest,
  nodeManifestWithUnicodeCapabilities,
  nodeReport,
  NOW,
  holderDid,
  rawCid,
  REPAIR_EXPIRES_AT,
  repairTask,
  seedOf,
  serviceManifest,
  shardReport,
  SIGNER_OF,
  type KeyName,
} from '../fixtures.ts';

type Doc = Record<string, unknown>;

const NODE_KEYS = { [keys.node.did]: keys.nodeService.did };

/** Signs without any validation: only for building invalid vectors. */
function rawSign(doc: Doc, key: SigningKey): Doc {
  const unsigned = { ...doc };
  delete unsigned['signature'];
  return { ...unsigned, signature: signDetached(canonicalizeSigned(unsigned).payload, key) };
}

/** A signature string with an arbitrary header text (the 64 bytes are a real signature of something else). */
function withHeader(doc: Doc, headerText: string): Doc {
  const fake = rawSign(doc, keys.creator)['signature'] as string;
  const sig = fake.split('..')[1]!;
  return { ...doc, signature: `${Buffer.from(headerText, 'utf8').toString('base64url')}..${sig}` };
}

function b64(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64url');
}

const base = {
  content_manifest: contentManifest,
  node_manifest: nodeManifest,
  service_manifest: serviceManifest,
  node_attestation: nodeAttestation,
  node_report: nodeReport,
};

// ---- valid vectors --------------------------------------------------------------
function validVector(kind: DocumentKind, make: () => Doc, name: string, note?: string) {
  const signer = keys[SIGNER_OF[kind] as KeyName];
  const document = signDocument(make(), signer, { now: NOW, nodePublicKey: (id) => NODE_KEYS[id] });
  const { payload, whole } = canonicalizeSigned(document);
  const header = protectedHeader(signer.did);
  return {
    name,
    ...(note === undefined ? {} : { note }),
    kind,
    now: NOW.toISOString(),
    node_public_keys: kind === 'service_manifest' ? NODE_KEYS : {},
    signer: signer.did,
    document,
    payload_jcs: payload,
    protected_header_jcs: header,
    signing_input: `${b64(header)}.${b64(payload)}`,
    signature: document.signature,
    whole_jcs: whole,
    record_id: createHash('sha256').update(whole, 'utf8').digest('hex'),
  };
}

const valid = [
  ...Object.entries(base).map(([kind, make]) => validVector(kind as keyof typeof base, make, `valid ${kind}`)),
  // Vectors that tell a JCS implementation from a look-alike (README.md says what each catches).
  validVector(
    'content_manifest',
    contentManifestWithText,
    'valid content_manifest: text JCS copies as is',
    'title and description hold & < > / " \\ tab, line feed, é, CJK, an astral-plane emoji, U+2028, U+2029 and U+0085: ' +
      'JCS escapes only " \\ and control characters, so HTML-escaping (Go json.Marshal), ASCII-only (Python ensure_ascii) or ' +
      '"\\/" serialisers fail; the 32-emoji tag is 64 UTF-16 code units, exactly the tag limit, so counting UTF-8 bytes fails.',
  ),
  validVector(
    'node_manifest',
    nodeManifestWithUnicodeCapabilities,
    'valid node_manifest: capabilities in UTF-16 order, control characters escaped',
    'capability names sort by UTF-16 code units: U+1F600 (D83D DE00) before U+E000 before U+FF61, where code-point or UTF-8 ' +
      'order puts U+1F600 last; "Zone" sorts before "controls"; "controls" holds U+0000 U+0008 U+000C U+000D U+000B U+001F U+007F, which JCS writes ' +
      '\\u0000 \\b \\f \\r \\u000b \\u001f and a literal DEL.',
  ),
];

// ---- invalid vectors ------------------------------------------------------------
interface Invalid {
  name: string;
  code: string;
  path: string | null;
  input?: string;
  input_hex?: string;
  now?: string;
  node_public_keys?: Record<string, string>;
  max_bytes?: number;
  current_seq?: number;
}
const invalid: Invalid[] = [];

function add(name: string, code: string, path: string | null, input: Doc | string, extra: Partial<Invalid> = {}): void {
  invalid.push({ name, code, path, input: typeof input === 'string' ? input : JSON.stringify(input), ...extra });
}

const content = (): Doc => rawSign(contentManifest(), keys.creator);
const contentText = (): string => JSON.stringify(content());
const signedWith = (doc: Doc, signer: SigningKey = keys.creator): Doc => rawSign(doc, signer);
const change = (make: () => Doc, changes: Doc, signer: SigningKey = keys.creator): Doc => signedWith({ ...make(), ...changes }, signer);
const without = (make: () => Doc, member: string, signer: SigningKey = keys.creator): Doc => {
  const doc = make();
  delete doc[member];
  return signedWith(doc, signer);
};

// Raw input and value rules.
add('truncated JSON', 'json.syntax', null, contentText().slice(0, -1));
add('trailing comma', 'json.syntax', null, contentText().replace(/}$/, ',}'));
{
  const bytes = Buffer.from(contentText(), 'utf8');
  bytes[bytes.indexOf('A song')] = 0xff;
  invalid.push({ name: 'invalid UTF-8 byte in a string', code: 'json.encoding', path: null, input_hex: bytes.toString('hex') });
}
add('larger than max_bytes', 'json.too_large', null, contentText(), { max_bytes: 512 });
{
  let deep: unknown = [];
  for (let i = 0; i < 40; i++) deep = [deep];
  const doc = nodeManifest();
  doc['capabilities'] = { region: 'eu-west', x: deep };
  add('nesting deeper than 32', 'json.too_deep', `$.capabilities.x${'[0]'.repeat(30)}`, signedWith(doc, keys.operator));
}
add('duplicate top-level member', 'json.duplicate_key', '$.title', contentText().replace('"title":', '"title":"first","title":'));
add(
  'duplicate member spelled with an escape',
  'json.duplicate_key',
  '$.title',
  contentText().replace('"title":', '"title":"first","\\u0074itle":'),
);
add(
  'duplicate nested member',
  'json.duplicate_key',
  '$.capabilities.region',
  JSON.stringify(signedWith(nodeManifest(), keys.operator)).replace('"region":', '"region":"x","region":'),
);
add('number with a fraction', 'json.non_integer', '$.size', contentText().replace('"size":8123456', '"size":8123456.0'));
add('number with an exponent', 'json.non_integer', '$.seq', contentText().replace('"seq":1', '"seq":1E0'));
add('integer above 2^53 - 1', 'json.unsafe_integer', '$.size', contentText().replace('"size":8123456', '"size":9007199254740992'));
add('lone surrogate escape', 'json.lone_surrogate', '$.tags[1]', contentText().replace('"folk"', '"\\ud800"'));

// Envelope.
add('array instead of object', 'document.not_object', '$', '[]');
add('no kind member', 'kind.missing', '$.kind', without(contentManifest, 'kind'));
add('kind is not a string', 'kind.missing', '$.kind', change(contentManifest, { kind: 5 }));
add('unknown kind', 'kind.unknown', '$.kind', change(contentManifest, { kind: 'storage_receipt' }));

// Schema.
add('missing required member', 'schema', '$.chunks', without(contentManifest, 'chunks'));
add('member not in the schema', 'schema', '$.rating', change(contentManifest, { rating: 5 }));
add('expires_at on a content manifest', 'schema', '$.expires_at', change(contentManifest, { expires_at: EXPIRES_AT }));
{
  const cidV0 = base58btc.encode(Buffer.concat([Buffer.from([0x12, 0x20]), createHash('sha256').update('x').digest()])).slice(1);
  const chunks = (contentManifest()['chunks'] as string[]).slice();
  chunks[1] = cidV0;
  add('CIDv0 chunk', 'schema', '$.chunks[1]', change(contentManifest, { chunks }));
}
{
  // CIDv1 dag-pb (0x70) instead of raw: same digest, other codec.
  const chunks = (contentManifest()['chunks'] as string[]).slice();
  chunks[2] = 'bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi';
  add('dag-pb chunk', 'schema', '$.chunks[2]', change(contentManifest, { chunks }));
}
add('fingerprint in base58 CIDv1 form', 'schema', '$.fingerprint', change(contentManifest, { fingerprint: `z${rawCid('x').slice(1)}` }));
add('empty chunks', 'schema', '$.chunks', change(contentManifest, { chunks: [] }));
add('creator is not a did:key', 'schema', '$.creator', change(contentManifest, { creator: 'did:web:example.org' }));
add(
  'creator is an X25519 did:key',
  'schema',
  '$.creator',
  change(contentManifest, { creator: 'did:key:z6LSj72tK8brWgZja8NLRwPigth2T9QRiG1uH9oKZuKjdh9p' }),
);
add('uppercase UUID', 'schema', '$.manifest_id', change(contentManifest, { manifest_id: '5F0C6A3E-8A3B-4C2D-9E1F-0123456789AB' }));
add('issued_at without milliseconds', 'schema', '$.issued_at', change(contentManifest, { issued_at: '2026-11-28T17:00:00Z' }));
add('issued_at with an offset', 'schema', '$.issued_at', change(contentManifest, { issued_at: '2026-11-28T18:00:00.000+01:00' }));
add('issued_at on 30 February', 'schema', '$.issued_at', change(contentManifest, { issued_at: '2026-02-30T17:00:00.000Z' }));
add('seq 0', 'schema', '$.seq', change(contentManifest, { seq: 0 }));
add('negative size', 'schema', '$.size', change(contentManifest, { size: -1 }));
add('size as a string', 'schema', '$.size', change(contentManifest, { size: '8123456' }));
add('version not semver', 'schema', '$.version', change(contentManifest, { version: 'v1' }));
add('33 tags', 'schema', '$.tags', change(contentManifest, { tags: Array.from({ length: 33 }, (_, i) => `tag${i}`) }));
add('duplicate tags', 'schema', '$.tags', change(contentManifest, { tags: ['music', 'music'] }));
add('control character in title', 'schema', '$.title', change(contentManifest, { title: 'bell\u0007' }));
add('title too long', 'schema', '$.title', change(contentManifest, { title: 'x'.repeat(257) }));
// 129 code points but 258 UTF-16 code units: lengths count UTF-16 code units.
add('title of 129 emoji (258 UTF-16 code units)', 'schema', '$.title', change(contentManifest, { title: '🎵'.repeat(129) }));
add(
  'http entrypoint',
  'schema',
  '$.entrypoints[0]',
  change(serviceManifest, { entrypoints: ['http://node-a.example.org/'] }, keys.nodeService),
  { node_public_keys: NODE_KEYS },
);
add(
  'schema digest not hex',
  'schema',
  '$.schema.sha256',
  change(serviceManifest, { schema: { url: 'https://node-a.example.org/openapi.json', sha256: 'XYZ' } }, keys.nodeService),
  { node_public_keys: NODE_KEYS },
);
add(
  'capabilities without region',
  'schema',
  '$.capabilities.region',
  change(nodeManifest, { capabilities: { jetstream_domain: 'opA' } }, keys.operator),
);
add('unknown report reason', 'schema', '$.reason', change(nodeReport, { reason: 'spam' }, keys.peer));
add('report without evidence', 'schema', '$.evidence', change(nodeReport, { evidence: [] }, keys.peer));

// Kind rules.
add('node attests itself', 'attestation.self', '$.subject', change(nodeAttestation, { subject: keys.peer.did }, keys.peer));
add(
  'observation window reversed',
  'attestation.window',
  '$.observed_until',
  change(nodeAttestation, { observed_from: '2026-11-28T16:00:00.000Z', observed_until: '2026-11-28T15:00:00.000Z' }, keys.peer),
);
add(
  'observation window ends after issued_at',
  'attestation.window',
  '$.observed_until',
  change(nodeAttestation, { observed_until: '2026-11-28T17:00:00.001Z' }, keys.peer),
);
add('node reports itself', 'report.self', '$.subject', change(nodeReport, { subject: keys.peer.did }, keys.peer));

// Freshness.
add('issued 5 minutes and 1 ms after now', 'issued_at.future', '$.issued_at', change(contentManifest, { issued_at: '2026-11-28T17:07:00.001Z' }));
add('expired manifest', 'expires_at.expired', '$.expires_at', signedWith(nodeManifest(), keys.operator), { now: EXPIRES_AT });
add(
  'expires_at equal to issued_at',
  'expires_at.before_issued',
  '$.expires_at',
  change(nodeManifest, { expires_at: ISSUED_AT }, keys.operator),
);
add(
  'expires_at 31 days after issued_at',
  'expires_at.too_far',
  '$.expires_at',
  change(nodeManifest, { expires_at: '2026-12-29T17:00:00.000Z' }, keys.operator),
);
add('seq equal to the current one', 'seq.rollback', '$.seq', content(), { current_seq: 1 });
add('seq lower than the current one', 'seq.rollback', '$.seq', change(nodeManifest, {}, keys.operator), { current_seq: 4 });

// Signature shape and header.
add('signature not a JWS', 'signature.malformed', '$.signature', { ...contentManifest(), signature: 'not-a-signature' });
{
  const sig = content()['signature'] as string;
  const [header, , s] = sig.split('.');
  add('compact JWS with attached payload', 'signature.malformed', '$.signature', { ...contentManifest(), signature: `${header}.${b64('{}')}.${s}` });
  add('padded signature', 'signature.malformed', '$.signature', { ...contentManifest(), signature: `${header}..${s}==` });
  const bytes = Buffer.from(s!, 'base64url');
  const last = s!.slice(-1);
  // The last of 86 characters carries 2 bits of the 64th byte and 4 unused bits; set one.
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const tweaked = alphabet[alphabet.indexOf(last) ^ 1]!;
  if (Buffer.from(s!.slice(0, -1) + tweaked, 'base64url').equals(bytes)) {
    add('non-canonical base64url in the signature', 'signature.malformed', '$.signature', {
      ...contentManifest(),
      signature: `${header}..${s!.slice(0, -1)}${tweaked}`,
    });
  }
}
add('alg ES256', 'signature.bad_header', '$.signature', withHeader(contentManifest(), `{"alg":"ES256","kid":"${keys.creator.did}"}`));
add('header with whitespace', 'signature.bad_header', '$.signature', withHeader(contentManifest(), `{"alg": "EdDSA","kid":"${keys.creator.did}"}`));
add('header members out of order', 'signature.bad_header', '$.signature', withHeader(contentManifest(), `{"kid":"${keys.creator.did}","alg":"EdDSA"}`));
add('header with typ', 'signature.bad_header', '$.signature', withHeader(contentManifest(), `{"alg":"EdDSA","kid":"${keys.creator.did}","typ":"JOSE"}`));
add('kid not a did:key', 'did.bad_prefix', '$.signature', withHeader(contentManifest(), protectedHeader('did:web:example.org')));
add(
  'kid in base16 multibase',
  'did.bad_multibase',
  '$.signature',
  withHeader(contentManifest(), protectedHeader(`did:key:f${Buffer.concat([Buffer.from([0xed, 0x01]), Buffer.from(keys.creator.publicKey)]).toString('hex')}`)),
);
add('kid not base58', 'did.bad_base58', '$.signature', withHeader(contentManifest(), protectedHeader(`did:key:z6Mk0OIl${'1'.repeat(40)}`)));
add(
  'kid is an X25519 key',
  'did.bad_multicodec',
  '$.signature',
  withHeader(contentManifest(), protectedHeader('did:key:z6LSj72tK8brWgZja8NLRwPigth2T9QRiG1uH9oKZuKjdh9p')),
);
add(
  'kid with a 31-byte key',
  'did.bad_length',
  '$.signature',
  withHeader(contentManifest(), protectedHeader(`did:key:${base58btc.encode(Buffer.concat([Buffer.from([0xed, 0x01]), Buffer.from(keys.creator.publicKey).subarray(0, 31)]))}`)),
);

// Signer rule and the signature itself.
add('content signed by a stranger', 'signature.wrong_signer', '$.signature', signedWith(contentManifest(), keys.stranger));
add('node manifest with operator signed by the node key', 'signature.wrong_signer', '$.signature', signedWith(nodeManifest(), keys.node));
add('service manifest signed by node_id instead of public_key', 'signature.wrong_signer', '$.signature', signedWith(serviceManifest(), keys.node), {
  node_public_keys: NODE_KEYS,
});
add('service manifest of an unknown node', 'signer.unresolved', '$.node_id', signedWith(serviceManifest(), keys.nodeService), { node_public_keys: {} });
{
  const doc = content();
  add('title changed after signing', 'signature.invalid', '$.signature', { ...doc, title: 'A song about the see' });
  add('seq changed after signing', 'signature.invalid', '$.signature', { ...doc, seq: 2 });
  const other = change(contentManifest, { title: 'Another song' });
  add("another document's signature", 'signature.invalid', '$.signature', { ...doc, signature: other['signature'] });
}

// Category snapshots (a DMF v1 addition), after all earlier vectors so that those keep
// their places in the file.
valid.push(
  validVector('category_snapshot', categorySnapshot, 'valid category_snapshot'),
  validVector(
    'category_snapshot',
    categorySnapshotWithUnicodeNames,
    'valid category_snapshot: categories in UTF-8 byte order',
    'categories sort by the UTF-8 bytes of their names (code-point order): U+E000 (EE 80 80) before U+FF61 (EF BD A1) ' +
      'before U+1F3B5 (F0 9F 8E B5), where UTF-16 order (JavaScript\'s default sort) puts U+1F3B5 (D83C DFB5) before U+E000; ' +
      '"Music" and "music" are distinct categories, uppercase first. JCS keeps array order, so the order is signed as is.',
  ),
);
{
  const snapshot = (changes: Doc): Doc => change(categorySnapshot, changes, keys.node);
  const named = (names: readonly string[]): Doc[] => names.map((category, i) => ({ category, count: i + 1, root: 'd'.repeat(64) }));
  const unicode = categorySnapshotWithUnicodeNames()['categories'] as Doc[];
  add('snapshot stream name with a dot', 'schema', '$.stream', snapshot({ stream: 'FEDERATED.opa' }));
  add('snapshot last_seq -1', 'schema', '$.last_seq', snapshot({ last_seq: -1 }));
  add('snapshot part 0', 'schema', '$.part', snapshot({ part: 0 }));
  add('snapshot category with count 0', 'schema', '$.categories[1].count', snapshot({ categories: named(['books', 'film']).map((c, i) => (i === 1 ? { ...c, count: 0 } : c)) }));
  add('snapshot category with a member not in the schema', 'schema', '$.categories[0].manifests', snapshot({ categories: [{ ...named(['books'])[0], manifests: ['e'.repeat(64)] }] }));
  add('snapshot root in uppercase hex', 'schema', '$.categories[0].root', snapshot({ categories: [{ category: 'books', count: 1, root: 'D'.repeat(64) }] }));
  add('expires_at on a category snapshot', 'schema', '$.expires_at', snapshot({ expires_at: EXPIRES_AT }));
  add('snapshot part 4 of 3', 'snapshot.part', '$.part', snapshot({ part: 4, parts: 3 }));
  add('snapshot categories out of order', 'snapshot.order', '$.categories[2].category', snapshot({ categories: named(['books', 'music', 'film']) }));
  add('snapshot category repeated', 'snapshot.order', '$.categories[2].category', snapshot({ categories: named(['books', 'film', 'film']) }));
  // The Unicode vector's names sorted as JavaScript sorts strings (UTF-16 code units):
  // U+1F3B5 moves before U+E000, which then breaks byte order.
  const utf16 = [...unicode].sort((a, b) => ((a['category'] as string) < (b['category'] as string) ? -1 : 1));
  const firstOff = utf16.findIndex((c, i) => i > 0 && compareCategoryNames(utf16[i - 1]!['category'] as string, c['category'] as string) > 0);
  add('snapshot categories in UTF-16 order', 'snapshot.order', `$.categories[${firstOff}].category`, snapshot({ categories: utf16 }));
  add('snapshot signed by another node', 'signature.wrong_signer', '$.signature', change(categorySnapshot, {}, keys.peer));
  add(
    'snapshot signed by the public_key of the node manifest instead of node',
    'signature.wrong_signer',
    '$.signature',
    change(categorySnapshot, {}, keys.nodeService),
  );
}

// Governance reports (spec 9.3, 11), after all earlier vectors so that those keep their
// places in the file.
valid.push(
  validVector('governance_report', governanceReport, 'valid governance_report'),
  validVector(
    'governance_report',
    governanceReportOfEquivocation,
    'valid governance_report: equivocation, no subject_operator',
    'subject_operator is optional (a subject whose node manifest names no operator); grounds "equivocation" cite the two manifests signed with one seq.',
  ),
);
{
  const governance = (changes: Doc, signer: SigningKey = keys.peer): Doc => change(governanceReport, changes, signer);
  const evidence = governanceReport()['evidence'] as string[];
  add('governance report with unknown grounds', 'schema', '$.grounds', governance({ grounds: 'unavailable' }));
  add('governance report without evidence', 'schema', '$.evidence', governance({ evidence: [] }));
  add('governance report citing one record twice', 'schema', '$.evidence', governance({ evidence: [evidence[0], evidence[1], evidence[0]] }));
  add(
    'governance report with 65 evidence ids',
    'schema',
    '$.evidence',
    governance({ evidence: Array.from({ length: 65 }, (_, i) => createHash('sha256').update(`evidence ${i}`).digest('hex')) }),
  );
  add('governance report evidence in uppercase hex', 'schema', '$.evidence[1]', governance({ evidence: [evidence[0], evidence[1]!.toUpperCase()] }));
  add('governance report subject_operator not a did:key', 'schema', '$.subject_operator', governance({ subject_operator: 'did:web:example.org' }));
  add('governance report with a node_report reason', 'schema', '$.reason', governance({ reason: 'bad_fingerprint' }));
  add('expires_at on a governance report', 'schema', '$.expires_at', governance({ expires_at: EXPIRES_AT }));
  add('node reports itself to the DAO', 'governance.self', '$.subject', governance({ subject: keys.peer.did }));
  add('governance report signed by the subject_operator', 'signature.wrong_signer', '$.signature', governance({}, keys.operator));
  add('governance report signed by its subject', 'signature.wrong_signer', '$.signature', governance({}, keys.node));
}

// Storage coordination kinds (issue 6; spec 3.2, 5.3.2, 7), after all earlier vectors
// so that those keep their places in the file.
valid.push(
  validVector('erasure_group', erasureGroup, 'valid erasure_group'),
  validVector(
    'erasure_group',
    erasureGroupLrc,
    'valid erasure_group: lrc',
    'an LRC of k = 4 data shards in l = 2 local groups plus r = 2 global parities: k + l + r = 8 shards and 8 holders; k is divisible by l.',
  ),
  validVector(
    'erasure_group',
    erasureGroupReplicated,
    'valid erasure_group: replication, shards repeat',
    'three whole copies: every shard is the chunk, so all three shard CIDs equal the chunk CID (shards may repeat; holders may not).',
  ),
  validVector('shard_report', shardReport, 'valid shard_report'),
  validVector('repair_task', repairTask, 'valid repair_task'),
);
{
  const group = (changes: Doc, signer: SigningKey = keys.node): Doc => change(erasureGroup, changes, signer);
  const shards = erasureGroup()['shards'] as string[];
  const holders = erasureGroup()['holders'] as string[];
  add('erasure group with an unknown tier', 'schema', '$.tier', group({ tier: 'cold' }));
  add('erasure group scheme with an unknown type', 'schema', '$.scheme.type', group({ scheme: { type: 'xor', k: 4, m: 2 } }));
  add('erasure group rs scheme with k 0', 'schema', '$.scheme.k', group({ scheme: { type: 'rs', k: 0, m: 6 } }));
  add('erasure group replication scheme with a k member', 'schema', '$.scheme.k', group({ scheme: { type: 'replication', copies: 6, k: 1 } }));
  add('erasure group lrc scheme with r 255', 'schema', '$.scheme.r', group({ scheme: { type: 'lrc', k: 4, l: 2, r: 255 } }));
  add('erasure group with shard_bytes -1', 'schema', '$.shard_bytes', group({ shard_bytes: -1 }));
  add('erasure group dag-pb shard', 'schema', '$.shards[1]', group({ shards: shards.map((cid, i) => (i === 1 ? 'bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi' : cid)) }));
  add('erasure group holder not a did:key', 'schema', '$.holders[3]', group({ holders: holders.map((did, i) => (i === 3 ? 'did:web:example.org' : did)) }));
  add(
    'erasure group of 256 shards',
    'schema',
    '$.shards',
    group({ scheme: { type: 'replication', copies: 255 }, shards: Array.from({ length: 256 }, () => CHUNK), holders: Array.from({ length: 256 }, (_, i) => holderDid(i)) }),
  );
  add('expires_at on an erasure group', 'schema', '$.expires_at', group({ expires_at: EXPIRES_AT }));
  add('lrc with k not divisible by l', 'group.lrc', '$.scheme.l', group({ scheme: { type: 'lrc', k: 3, l: 2, r: 1 } }));
  add('erasure group scheme of 300 shards', 'group.shards', '$.scheme', group({ scheme: { type: 'rs', k: 200, m: 100 } }));
  add('erasure group with one shard too few', 'group.shards', '$.shards', group({ shards: shards.slice(0, 5) }));
  add('erasure group with one holder too many', 'group.shards', '$.holders', group({ holders: [...holders, holderDid(6)] }));
  add('erasure group whose scheme gives more shards than listed', 'group.shards', '$.shards', group({ scheme: { type: 'rs', k: 4, m: 3 } }));
  add('node holding two shards of one group', 'group.holders', '$.holders[4]', group({ holders: holders.map((did, i) => (i === 4 ? holders[1] : did)) }));
  add('erasure group signed by a holder', 'signature.wrong_signer', '$.signature', group({}, keys.peer));
}
{
  const report = (changes: Doc, signer: SigningKey = keys.peer): Doc => change(shardReport, changes, signer);
  add('shard report with an unknown state', 'schema', '$.state', report({ state: 'lost' }));
  add('shard report of shard 255', 'schema', '$.shard', report({ shard: 255 }));
  add('shard report naming its group by CID', 'schema', '$.group', report({ group: CHUNK }));
  add('expires_at on a shard report', 'schema', '$.expires_at', report({ expires_at: EXPIRES_AT }));
  add('shard report signed by the coordinator', 'signature.wrong_signer', '$.signature', report({}, keys.node));
}
{
  const task = (changes: Doc, signer: SigningKey = keys.node): Doc => change(repairTask, changes, signer);
  const read = repairTask()['read'] as Doc[];
  const rebuild = repairTask()['rebuild'] as Doc[];
  add('repair task with nothing to rebuild', 'schema', '$.rebuild', task({ rebuild: [] }));
  add('repair task reading shard 255', 'schema', '$.read[1].shard', task({ read: read.map((item, i) => (i === 1 ? { ...item, shard: 255 } : item)) }));
  add('repair task item with a member not in the schema', 'schema', '$.read[0].bytes', task({ read: read.map((item, i) => (i === 0 ? { ...item, bytes: 262_144 } : item)) }));
  add('repair task without expires_at', 'schema', '$.expires_at', without(repairTask, 'expires_at', keys.node));
  add('repair task reading one shard twice', 'repair.duplicate', '$.read[2].shard', task({ read: [read[0], read[1], { ...read[1]!, node: holderDid(8) }, read[3]] }));
  add('repair task rebuilding one shard twice', 'repair.duplicate', '$.rebuild[1].shard', task({ rebuild: [rebuild[0], { ...rebuild[0]!, node: holderDid(8) }] }));
  add('repair task reading a shard it rebuilds', 'repair.overlap', '$.rebuild[1].shard', task({ rebuild: [rebuild[0], { shard: 3, node: holderDid(8) }] }));
  add('repair task valid for 31 days', 'expires_at.too_far', '$.expires_at', task({ expires_at: '2026-12-29T17:00:00.000Z' }));
  add('expired repair task', 'expires_at.expired', '$.expires_at', task({}), { now: REPAIR_EXPIRES_AT });
  add('repair task signed by the holder of a lost shard', 'signature.wrong_signer', '$.signature', task({}, keys.peer));
}

const keyTable = Object.fromEntries(
  Object.entries(KEY_LABELS).map(([name, label]) => [name, { label, seed: Buffer.from(seedOf(label)).toString('hex'), did: keys[name as KeyName].did }]),
);

const out = {
  description:
    'DMF wire format test vectors (PROTOCOL.md). See README.md beside this file. Seeds are SHA-256 of the UTF-8 label.',
  keys: keyTable,
  valid,
  invalid,
};

const file = new URL('./dmf-documents.json', import.meta.url);
writeFileSync(file, `${JSON.stringify(out, null, 2)}\n`);
console.log(`wrote ${valid.length} valid and ${invalid.length} invalid vectors to ${file.pathname}`);
