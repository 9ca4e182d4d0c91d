/**
 * Deterministic keys and one valid unsigned document per kind, shared by the tests,
 * the vector generator and the timing script.
 */
import { createHash } from 'node:crypto';
import { CID } from 'multiformats/cid';
import * as raw from 'multiformats/codecs/raw';
import { create as createDigest } from 'multiformats/hashes/digest';
import { signingKeyFromSeed, type SigningKey } from '../src/mod.ts';

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

/** The key that must sign each fixture. */
export const SIGNER_OF = {
  content_manifest: 'creator',
  node_manifest: 'operator',
  service_manifest: 'nodeService',
  node_attestation: 'peer',
  node_report: 'peer',
} as const satisfies Record<string, KeyName>;

/** The resolver a verifier of the fixtures needs for service manifests. */
export function nodePublicKey(nodeId: string): string | undefined {
  return nodeId === keys.node.did ? keys.nodeService.did : undefined;
}
