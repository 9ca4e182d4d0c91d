import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSigningKey, verifyDocument } from '@dmf/protocol';
import { makeTempDir, removeDir } from '@dmf/testing';
import { NODE_MANIFEST_VALIDITY_MS, refreshNodeManifest } from '../src/up/node-manifest.ts';

const key = generateSigningKey();
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
    const first = await refreshNodeManifest(dir, key, content, now);
    expect(verifyDocument(first, { now }).signer).toBe(key.did);
    expect(first.seq).toBe(1);
    expect(Date.parse(String(first.expires_at)) - Date.parse(String(first.issued_at))).toBe(NODE_MANIFEST_VALIDITY_MS);

    const same = await refreshNodeManifest(dir, key, content, new Date(now.getTime() + 60_000));
    expect(same).toEqual(first);

    const moved = await refreshNodeManifest(dir, key, { ...content, region: 'eu-north' }, new Date(now.getTime() + 120_000));
    expect(moved.seq).toBe(2);
    expect((moved.capabilities as { region: string }).region).toBe('eu-north');
  });

  it('re-signs a day before expiry', async () => {
    const stored = await refreshNodeManifest(dir, key, content, new Date());
    const late = new Date(Date.parse(String(stored.expires_at)) - 3_600_000);
    const renewed = await refreshNodeManifest(dir, key, content, late);
    expect(renewed.seq).toBe(Number(stored.seq) + 1);
    expect(renewed.issued_at).toBe(late.toISOString());
  });

  it('never goes back in seq when the saved copy is lost: the published one counts', async () => {
    const published = await refreshNodeManifest(dir, key, { ...content, region: 'x1' }, new Date());
    await writeFile(join(dir, 'node-manifest.json'), '{ damaged');
    const next = await refreshNodeManifest(dir, key, content, new Date(), published);
    expect(next.seq).toBe(Number(published.seq) + 1);
    // Someone else's manifest in the stream does not count.
    await mkdir(join(dir, 'other'));
    const other = await refreshNodeManifest(join(dir, 'other'), generateSigningKey(), content, new Date());
    await writeFile(join(dir, 'node-manifest.json'), '');
    const fresh = await refreshNodeManifest(dir, key, content, new Date(), { ...other, seq: 99 });
    expect(fresh.seq).toBe(1);
  });
});
