/**
 * Deterministic keys and one valid unsigned document per kind, shared by the tests,
 * the vector generator and the timing script.
 */
import { createHash } from 'node:crypto';
import { CID } from 'multiformats/cid';
import * as raw from 'multiformats/codecs/raw';
import { create as createDigest } from 'multiformats/hashes/digest';
import { recordId, signDocument, signingKeyFromSeed, type SigningKey } from '../src/mod.ts';

/** Seed = SHA-256 of a label, so anyone can rebuild the keys from the vector file. */
export function seedOf(label: string): Uint8Array {
  return createHash('sha256').update(label, 'utf8').digest();
}

export const KEY_LABELS = {
  creator: 'dmf test vector key: creator',
  node: 'dmf test vector key: node',
  nodeService: 'dmf test vector key: node service key',
  operator: 'dmf test vector key: operator',
  peer: 'dmf test vector key: peer node',
  stranger: 'dmf test vector key: stranger',
} as const;

export type KeyName = keyof typeof KEY_LABELS;

export const keys = Object.fromEntries(
  Object.entries(KEY_LABELS).map(([name, label]) => [name, signingKeyFromSeed(seedOf(label))]),
) as Record<KeyName, SigningKey>;

/** The CIDv1 raw sha2-256 of some bytes. */
export function rawCid(content: Uint8Array | string): string {
  const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
  const digest = createHash('sha256').update(bytes).digest();
  return CID.createV1(raw.code, createDigest(0x12, digest)).toString();
}

export const NOW = new Date('2026-11-28T17:02:00.000Z');
export const ISSUED_AT = '2026-11-28T17:00:00.000Z';
export const EXPIRES_AT = '2026-12-05T17:00:00.000Z';

const chunkTexts = Array.from({ length: 8 }, (_, i) => `chunk ${i} of the sea song`);

/** A typical content manifest: about 1 KB once signed. */
export function contentManifest(): Record<string, unknown> {
  return {
    kind: 'content_manifest',
    manifest_id: '5f0c6a3e-8a3b-4c2d-9e1f-0123456789ab',
    creator: keys.creator.did,
    title: 'A song about the sea',
    tags: ['music', 'folk', 'sea'],
    category: 'music',
    chunks: chunkTexts.map((text) => rawCid(text)),
    size: 8_123_456,
    fingerprint: rawCid(chunkTexts.join('')),
    version: '1.0.0',
    seq: 1,
    issued_at: ISSUED_AT,
    description: 'Recorded live at the harbour.\nTwo takes.',
    language: 'en',
    license: 'CC-BY-4.0',
    mime: 'audio/ogg',
  };
}

/**
 * A content manifest whose text JCS must copy as is (HTML characters, `/`, non-ASCII,
 * an astral-plane emoji, U+2028, U+2029, NEL) or escape only as RFC 8785 says (`"`,
 * `\\`, tab and line feed as `\t` and `\n`). Title and description allow no other
 * control characters; the node manifest below carries those.
 */
export function contentManifestWithText(): Record<string, unknown> {
  return {
    ...contentManifest(),
    manifest_id: '7c1e2d3f-4a5b-4c6d-8e7f-a0b1c2d3e4f5',
    title: 'Tom & Jerry <live> "quoted" back\\slash / café 東京 🎵\u2028next\u2029para',
    // 32 emoji: 64 UTF-16 code units (the tag limit), 32 code points, 128 UTF-8 bytes.
    tags: ['música', '音楽', '🎵'.repeat(32)],
    description: 'Line one\tcolumn two\nLine two: <b>&amp;</b> "q" \\ é 東京 🎵\u2028sep\u2029para\u0085nel / end',
  };
}

export function nodeManifest(): Record<string, unknown> {
  return {
    kind: 'node_manifest',
    node_id: keys.node.did,
    operator: keys.operator.did,
    services: ['metadata', 'discovery'],
    capabilities: { region: 'eu-west', jetstream_domain: 'opA', max_upload_bytes: 10_485_760 },
    public_key: keys.nodeService.did,
    mirrors: ['https://mirror.example.org/dmf'],
    version: '0.1.0',
    seq: 3,
    issued_at: ISSUED_AT,
    expires_at: EXPIRES_AT,
  };
}

/**
 * A node manifest whose open `capabilities` tell JCS implementations apart: member
 * names whose UTF-16 order differs from their code-point (and UTF-8 byte) order, an
 * uppercase name, a nested object, and control characters JCS escapes as `\b`, `\f`,
 * `\r` or `\u00xx` (lowercase hex), next to DEL, which it leaves alone.
 */
export function nodeManifestWithUnicodeCapabilities(): Record<string, unknown> {
  return {
    ...nodeManifest(),
    seq: 4,
    capabilities: {
      region: 'eu-west',
      jetstream_domain: 'opA',
      limits: { max_upload_bytes: 10_485_760, max_chunks: 4096, largest: Number.MAX_SAFE_INTEGER, smallest: -Number.MAX_SAFE_INTEGER },
      Zone: 'upper case sorts first',
      controls: '\u0000\b\f\r\u000b\u001f\u007f',
      'é': 'U+00E9',
      '\ue000': 'U+E000, private use',
      '\uff61': 'U+FF61, halfwidth ideographic full stop',
      '😀': 'U+1F600, surrogate pair D83D DE00',
    },
  };
}

export function serviceManifest(): Record<string, unknown> {
  return {
    kind: 'service_manifest',
    service_id: '0b9e2f4c-1d3a-4e5f-8a6b-7c8d9e0f1a2b',
    node_id: keys.node.did,
    type: 'metadata_index',
    entrypoints: ['https://node-a.example.org/'],
    schema: { url: 'https://node-a.example.org/openapi.json', sha256: 'a'.repeat(64) },
    version: '1.2.0',
    seq: 1,
    issued_at: ISSUED_AT,
    expires_at: EXPIRES_AT,
  };
}

export function nodeAttestation(): Record<string, unknown> {
  return {
    kind: 'node_attestation',
    attester: keys.peer.did,
    subject: keys.node.did,
    subject_manifest: 'b'.repeat(64),
    integrity: true,
    indexed: true,
    uptime_ppm: 999_500,
    availability_ppm: 998_000,
    probes: 288,
    observed_from: '2026-11-27T17:00:00.000Z',
    observed_until: '2026-11-28T16:55:00.000Z',
    seq: 12,
    issued_at: ISSUED_AT,
    expires_at: EXPIRES_AT,
  };
}

export function nodeReport(): Record<string, unknown> {
  return {
    kind: 'node_report',
    reporter: keys.peer.did,
    subject: keys.node.did,
    reason: 'bad_fingerprint',
    evidence: ['c'.repeat(64)],
    seq: 1,
    issued_at: ISSUED_AT,
  };
}

/** A stand-in Merkle root: the verifier checks its spelling, not how it was computed. */
function rootOf(label: string): string {
  return createHash('sha256').update(`merkle root: ${label}`, 'utf8').digest('hex');
}

/** A one-part snapshot of three categories, in UTF-8 byte order (ASCII here). */
export function categorySnapshot(): Record<string, unknown> {
  return {
    kind: 'category_snapshot',
    node: keys.node.did,
    stream: 'FEDERATED_opa',
    last_seq: 48_213,
    part: 1,
    parts: 1,
    categories: [
      { category: 'books', count: 12, root: rootOf('books') },
      { category: 'film', count: 3, root: rootOf('film') },
      { category: 'music', count: 1042, root: rootOf('music') },
    ],
    seq: 7,
    issued_at: ISSUED_AT,
  };
}

/**
 * Category names whose UTF-8 byte order (the snapshot order) differs from UTF-16 order
 * (JavaScript's default sort): U+1F3B5 (F0 9F 8E B5; D83C DFB5) after U+E000 (EE 80 80)
 * and U+FF61 (EF BD A1). "Music" and "music" are two categories (no case folding).
 */
export const UNICODE_CATEGORY_NAMES = ['Film noir', 'Music', 'music', 'música', 'é', '音楽', '\ue000', '\uff61', '🎵'] as const;

/** Part 2 of 3 of a snapshot whose categories are UNICODE_CATEGORY_NAMES, in that order. */
export function categorySnapshotWithUnicodeNames(): Record<string, unknown> {
  return {
    ...categorySnapshot(),
    part: 2,
    parts: 3,
    categories: UNICODE_CATEGORY_NAMES.map((category, i) => ({ category, count: i + 1, root: rootOf(category) })),
    seq: 8,
  };
}

/** A stand-in record id: the verifier checks its spelling, not that the record exists. */
function standInRecordId(label: string): string {
  return createHash('sha256').update(`record: ${label}`, 'utf8').digest('hex');
}

/**
 * A governance report (spec 9.3, 11): the peer asks the DAO to remove the node, and
 * its operator, for good, citing the node reports that delisted it (stand-in ids).
 */
export function governanceReport(): Record<string, unknown> {
  return {
    kind: 'governance_report',
    reporter: keys.peer.did,
    subject: keys.node.did,
    subject_operator: keys.operator.did,
    grounds: 'delisted',
    evidence: [standInRecordId('node_report: delisting 1'), standInRecordId('node_report: delisting 2')],
    seq: 1,
    issued_at: ISSUED_AT,
  };
}

/**
 * The peer's next report on the node, on grounds of equivocation, without the optional
 * `subject_operator`: the evidence is the two node manifests signed with one seq.
 */
export function governanceReportOfEquivocation(): Record<string, unknown> {
  const { subject_operator: _operator, ...report } = governanceReport();
  return {
    ...report,
    grounds: 'equivocation',
    evidence: [standInRecordId('node_manifest: seq 3, first'), standInRecordId('node_manifest: seq 3, second')],
    seq: 2,
  };
}

/**
 * A storage node's did:key (holders of shards): derived from a label like the keys
 * above, but not in KEY_LABELS, as only its DID appears in documents.
 */
export function holderDid(n: number): string {
  return signingKeyFromSeed(seedOf(`dmf test vector key: storage holder ${n}`)).did;
}

/** The chunk the storage fixtures are about: the first chunk of the content manifest. */
export const CHUNK = rawCid(chunkTexts[0]!);
const shardCid = (i: number): string => rawCid(`shard ${i} of ${chunkTexts[0]!}`);

/**
 * An erasure group (spec 7.2): the node, as storage coordinator, assigns the six
 * shards of a warm chunk coded RS(4, 2) to six holders; the peer holds shard 2.
 */
export function erasureGroup(): Record<string, unknown> {
  return {
    kind: 'erasure_group',
    coordinator: keys.node.did,
    chunk: CHUNK,
    size: 1_048_576,
    tier: 'warm',
    scheme: { type: 'rs', k: 4, m: 2 },
    shard_bytes: 262_144,
    shards: Array.from({ length: 6 }, (_, i) => shardCid(i)),
    holders: [holderDid(0), holderDid(1), keys.peer.did, holderDid(3), holderDid(4), holderDid(5)],
    seq: 1,
    issued_at: ISSUED_AT,
  };
}

/** The same chunk, hot, under an LRC of k = 4 in l = 2 local groups and r = 2 global parities: 8 shards. */
export function erasureGroupLrc(): Record<string, unknown> {
  return {
    ...erasureGroup(),
    tier: 'hot',
    scheme: { type: 'lrc', k: 4, l: 2, r: 2 },
    shards: Array.from({ length: 8 }, (_, i) => shardCid(i)),
    holders: [...(erasureGroup()['holders'] as string[]), holderDid(6), holderDid(7)],
    seq: 2,
  };
}

/**
 * The same chunk, long-tail, as three whole copies: every shard is the chunk itself,
 * so all shard CIDs are the chunk's CID and shard_bytes is the chunk's size.
 */
export function erasureGroupReplicated(): Record<string, unknown> {
  return {
    ...erasureGroup(),
    tier: 'long_tail',
    scheme: { type: 'replication', copies: 3 },
    shard_bytes: 1_048_576,
    shards: [CHUNK, CHUNK, CHUNK],
    holders: [holderDid(0), keys.peer.did, holderDid(5)],
    seq: 3,
  };
}

/** The record id of the signed erasureGroup() fixture (Ed25519 is deterministic, so it is fixed). */
export function erasureGroupId(): string {
  return recordId(signDocument(erasureGroup(), keys.node, { now: NOW }));
}

/** The peer, holder of shard 2 of the erasure group, reports the shard stored. */
export function shardReport(): Record<string, unknown> {
  return {
    kind: 'shard_report',
    node: keys.peer.did,
    group: erasureGroupId(),
    chunk: CHUNK,
    shard: 2,
    cid: shardCid(2),
    state: 'stored',
    seq: 1,
    issued_at: ISSUED_AT,
  };
}

/** When a repair task of the fixtures goes stale: a day after it is issued. */
export const REPAIR_EXPIRES_AT = '2026-11-29T17:00:00.000Z';

/**
 * A repair task (spec 7.3): shard 2 (the peer's) and shard 5 are lost; the coordinator
 * has shards 0, 1, 3 and 4 read from their holders (k = 4 of them rebuild the chunk)
 * and shards 2 and 5 rebuilt on two new holders.
 */
export function repairTask(): Record<string, unknown> {
  const holders = erasureGroup()['holders'] as string[];
  return {
    kind: 'repair_task',
    coordinator: keys.node.did,
    group: erasureGroupId(),
    chunk: CHUNK,
    read: [0, 1, 3, 4].map((shard) => ({ shard, node: holders[shard] })),
    rebuild: [
      { shard: 2, node: holderDid(6) },
      { shard: 5, node: holderDid(7) },
    ],
    seq: 1,
    issued_at: ISSUED_AT,
    expires_at: REPAIR_EXPIRES_AT,
  };
}

/** The key that must sign each fixture. */
export const SIGNER_OF = {
  content_manifest: 'creator',
  node_manifest: 'operator',
  service_manifest: 'nodeService',
  node_attestation: 'peer',
  node_report: 'peer',
  category_snapshot: 'node',
  governance_report: 'peer',
  erasure_group: 'node',
  shard_report: 'peer',
  repair_task: 'node',
} as const satisfies Record<string, KeyName>;

/** The resolver a verifier of the fixtures needs for service manifests. */
export function nodePublicKey(nodeId: string): string | undefined {
  return nodeId === keys.node.did ? keys.nodeService.did : undefined;
}
