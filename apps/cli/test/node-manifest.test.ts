import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSigningKey, verifyDocument } from '@dmf/protocol';
import { makeTempDir, removeDir } from '@dmf/testing';
import { NODE_MANIFEST_VALIDITY_MS, refreshNodeManifest } from '../src/up/node-manifest.ts';
import { refreshServiceManifest } from '../src/up/service-manifest.ts';

const key = generateSigningKey();
const signers = { node: key, manifest: key, service: key };
const content = { services: ['federation'], region: 'eu-west', jetstreamDomain: 'opa', originOperator: 'opa', mirrors: [], version: '0.1.0' };
let dir: string;

beforeAll(async () => {
  dir = await makeTempDir('node-manifest');
});
afterAll(async () => {
  await removeDir(dir);
});

describe('refreshNodeManifest', () => {
  it('signs seq 1, serves the same version while nothing changes, and bumps seq on a change', async () => {
    const now = new Date();
    const first = await refreshNodeManifest(dir, signers, content, now);
    expect(verifyDocument(first, { now }).signer).toBe(key.did);
    expect(first.seq).toBe(1);
    expect(Date.parse(String(first.expires_at)) - Date.parse(String(first.issued_at))).toBe(NODE_MANIFEST_VALIDITY_MS);

    const same = await refreshNodeManifest(dir, signers, content, new Date(now.getTime() + 60_000));
    expect(same).toEqual(first);

    const moved = await refreshNodeManifest(dir, signers, { ...content, region: 'eu-north' }, new Date(now.getTime() + 120_000));
    expect(moved.seq).toBe(2);
    expect((moved.capabilities as { region: string }).region).toBe('eu-north');
  });

  it('re-signs a day before expiry', async () => {
    const stored = await refreshNodeManifest(dir, signers, content, new Date());
    const late = new Date(Date.parse(String(stored.expires_at)) - 3_600_000);
    const renewed = await refreshNodeManifest(dir, signers, content, late);
    expect(renewed.seq).toBe(Number(stored.seq) + 1);
    expect(renewed.issued_at).toBe(late.toISOString());
  });

  it('never goes back in seq when the saved copy is lost: the published one counts', async () => {
    const published = await refreshNodeManifest(dir, signers, { ...content, region: 'x1' }, new Date());
    await writeFile(join(dir, 'node-manifest.json'), '{ damaged');
    const next = await refreshNodeManifest(dir, signers, content, new Date(), published);
    expect(next.seq).toBe(Number(published.seq) + 1);
    // Someone else's manifest in the stream does not count.
    await mkdir(join(dir, 'other'));
    const otherKey = generateSigningKey();
    const other = await refreshNodeManifest(join(dir, 'other'), { node: otherKey, manifest: otherKey, service: otherKey }, content, new Date());
    await writeFile(join(dir, 'node-manifest.json'), '');
    const fresh = await refreshNodeManifest(dir, signers, content, new Date(), { ...other, seq: 99 });
    expect(fresh.seq).toBe(1);
  });

  it('lets the operator sign the manifest: it names the operator and verifies as its', async () => {
    const operator = generateSigningKey();
    const node = generateSigningKey();
    await mkdir(join(dir, 'operated'));
    const manifest = await refreshNodeManifest(join(dir, 'operated'), { node, manifest: operator, service: node }, content, new Date());
    expect(manifest.operator).toBe(operator.did);
    expect(manifest.node_id).toBe(node.did);
    expect(verifyDocument(manifest).signer).toBe(operator.did);
  });
});

describe('service key rotation', () => {
  it('announces the new public_key in the next node manifest and re-signs the services with it, same service_id', async () => {
    const node = generateSigningKey();
    const rotated = generateSigningKey();
    const folder = join(dir, 'rotation');
    await mkdir(folder);
    const service = { type: 'federation', entrypoints: ['https://a.example/'], openapiUrl: 'https://a.example/openapi.json', openapiBytes: new TextEncoder().encode('{}'), version: '0.1.0' };
    const before = await refreshNodeManifest(folder, { node, manifest: node, service: node }, content, new Date());
    const serviceBefore = await refreshServiceManifest(folder, node, node.did, service, new Date());
    const after = await refreshNodeManifest(folder, { node, manifest: node, service: rotated }, content, new Date());
    expect(after.seq).toBe(Number(before.seq) + 1);
    expect(after.public_key).toBe(rotated.did);
    const serviceAfter = await refreshServiceManifest(folder, rotated, node.did, service, new Date());
    expect(serviceAfter.service_id).toBe(serviceBefore.service_id);
    expect(serviceAfter.seq).toBe(Number(serviceBefore.seq) + 1);
    expect(verifyDocument(serviceAfter, { nodePublicKey: () => rotated.did }).signer).toBe(rotated.did);
    // Unchanged afterwards: the same signed version is served again.
    expect(await refreshServiceManifest(folder, rotated, node.did, service, new Date())).toEqual(serviceAfter);
  });
});
