/**
 * Signed federation records for tests: real keys, real signatures (signRecord verifies
 * what it signs), so the registry is fed exactly what the projector would give it.
 */
import { generateSigningKey, signRecord, type SigningKey } from '@dmf/protocol';
import type { RegistryRecord } from '../src/domain/records.ts';

export const T0 = new Date('2026-11-01T00:00:00.000Z');
export const DAY = 86_400_000;

export function at(ms: number): Date {
  return new Date(T0.getTime() + ms);
}

export interface TestNode {
  key: SigningKey;
  id: string;
  /** The operator key that signs its manifests, when it has one. */
  operator?: SigningKey;
  token: string;
}

export function testNode(token: string, operator?: SigningKey): TestNode {
  const key = generateSigningKey();
  return { key, id: key.did, token, ...(operator ? { operator } : {}) };
}

export interface ManifestOptions {
  seq?: number;
  issuedAt?: Date;
  validForMs?: number;
  publicKey?: string;
  region?: string;
  /** JetStream domain to claim. Default: the node's token. */
  domain?: string;
  /** Sign with this key instead of the rightful one. */
  signer?: SigningKey;
  /** Claim this operator DID (and sign with `signer`). */
  operatorDid?: string;
}

export function nodeManifest(node: TestNode, o: ManifestOptions = {}): Extract<RegistryRecord, { kind: 'node_manifest' }> {
  const issuedAt = o.issuedAt ?? T0;
  const operatorDid = o.operatorDid ?? node.operator?.did;
  const signer = o.signer ?? node.operator ?? node.key;
  const record = signRecord(
    {
      kind: 'node_manifest',
      node_id: node.id,
      ...(operatorDid ? { operator: operatorDid } : {}),
      services: ['federation', 'metadata'],
      capabilities: { region: o.region ?? 'eu-west', jetstream_domain: o.domain ?? node.token, origin_operator: node.token },
      public_key: o.publicKey ?? node.key.did,
      mirrors: [],
      version: '0.1.0',
      seq: o.seq ?? 1,
      issued_at: issuedAt.toISOString(),
      expires_at: new Date(issuedAt.getTime() + (o.validForMs ?? 7 * DAY)).toISOString(),
    },
    signer,
    { now: issuedAt },
  );
  return record as Extract<RegistryRecord, { kind: 'node_manifest' }>;
}

export function serviceManifest(
  node: TestNode,
  o: { seq?: number; issuedAt?: Date; signer?: SigningKey; serviceId?: string; type?: string } = {},
): Extract<RegistryRecord, { kind: 'service_manifest' }> {
  const issuedAt = o.issuedAt ?? T0;
  const signer = o.signer ?? node.key;
  return signRecord(
    {
      kind: 'service_manifest',
      service_id: o.serviceId ?? '5f0c8f8e-3b1a-4c2d-9e7f-0a1b2c3d4e5f',
      node_id: node.id,
      type: o.type ?? 'federation',
      entrypoints: [`https://${node.token}.example/`],
      schema: { url: `https://${node.token}.example/openapi.json`, sha256: 'a'.repeat(64) },
      version: '0.1.0',
      seq: o.seq ?? 1,
      issued_at: issuedAt.toISOString(),
      expires_at: new Date(issuedAt.getTime() + 7 * DAY).toISOString(),
    },
    signer,
    { now: issuedAt, nodePublicKey: () => signer.did },
  ) as Extract<RegistryRecord, { kind: 'service_manifest' }>;
}

export function attestation(
  attester: TestNode,
  subject: TestNode,
  subjectManifest: { id: string },
  o: { seq?: number; issuedAt?: Date; integrity?: boolean; uptimePpm?: number; validForMs?: number } = {},
): Extract<RegistryRecord, { kind: 'node_attestation' }> {
  const issuedAt = o.issuedAt ?? at(DAY);
  return signRecord(
    {
      kind: 'node_attestation',
      attester: attester.id,
      subject: subject.id,
      subject_manifest: subjectManifest.id,
      integrity: o.integrity ?? true,
      indexed: true,
      uptime_ppm: o.uptimePpm ?? 1_000_000,
      availability_ppm: 1_000_000,
      probes: 10,
      observed_from: new Date(issuedAt.getTime() - 3_600_000).toISOString(),
      observed_until: issuedAt.toISOString(),
      seq: o.seq ?? 1,
      issued_at: issuedAt.toISOString(),
      expires_at: new Date(issuedAt.getTime() + (o.validForMs ?? 7 * DAY)).toISOString(),
    },
    attester.key,
    { now: issuedAt },
  ) as Extract<RegistryRecord, { kind: 'node_attestation' }>;
}

export function report(
  reporter: TestNode,
  subject: TestNode,
  evidence: string,
  o: { reason?: 'manifest_churn' | 'bad_fingerprint' | 'invalid_metadata' | 'unavailable'; issuedAt?: Date } = {},
): Extract<RegistryRecord, { kind: 'node_report' }> {
  const issuedAt = o.issuedAt ?? at(DAY);
  return signRecord(
    {
      kind: 'node_report',
      reporter: reporter.id,
      subject: subject.id,
      reason: o.reason ?? 'invalid_metadata',
      evidence: [evidence],
      seq: 1,
      issued_at: issuedAt.toISOString(),
    },
    reporter.key,
    { now: issuedAt },
  ) as Extract<RegistryRecord, { kind: 'node_report' }>;
}
