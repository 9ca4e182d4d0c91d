import { chmod, mkdtemp, readFile, stat, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDmf } from './run-dmf.ts';

let dir: string;
let keyFile: string;
let did: string;
let unsigned: Record<string, unknown>;

const CID = 'bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dmf-cli-'));
  keyFile = join(dir, 'creator.key');
  const keygen = await runDmf(['keygen', '--out', keyFile]);
  expect(keygen.code).toBe(0);
  did = keygen.stdout.trim();
  unsigned = {
    kind: 'content_manifest',
    manifest_id: '0b6a3b1e-3f43-4c1e-9d2c-5f2a1f0b9a11',
    creator: did,
    title: 'Field recordings',
    tags: ['ambient'],
    category: 'music',
    chunks: [CID],
    size: 5,
    fingerprint: CID,
    version: '1.0.0',
  };
});

/** A node manifest of a node that signs its own manifests, before signing. */
function unsignedNodeManifest(nodeDid: string): Record<string, unknown> {
  return {
    kind: 'node_manifest',
    node_id: nodeDid,
    services: ['metadata'],
    capabilities: { region: 'eu-west' },
    public_key: nodeDid,
    mirrors: [],
    version: '1.0.0',
  };
}

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('dmf keygen', () => {
  it('prints a did:key and writes a key file only its owner can read', async () => {
    expect(did).toMatch(/^did:key:z6Mk[1-9A-HJ-NP-Za-km-z]+$/);
    expect((await stat(keyFile)).mode & 0o777).toBe(0o600);
    expect(await readFile(keyFile, 'utf8')).toContain(did);
  });

  it('refuses to overwrite a key unless --force, and prints JSON on --json', async () => {
    const again = await runDmf(['keygen', '--out', keyFile]);
    expect(again.code).toBe(1);
    expect(again.stderr).toBe(`dmf: ${keyFile} exists; pass --force to overwrite it\n`);
    const other = join(dir, 'other.key');
    const json = await runDmf(['keygen', '--out', other, '--json']);
    expect(JSON.parse(json.stdout)).toEqual({ did: expect.stringMatching(/^did:key:z6Mk/), file: other });
  });

  it('is a usage error without --out', async () => {
    const result = await runDmf(['keygen']);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe("dmf: required option '--out <file>' not specified (see --help)\n");
  });
});

describe('dmf sign, verify and id', () => {
  it('signs from stdin, verifies, and agrees with dmf id on the record id', async () => {
    const signed = await runDmf(['sign', '--key', keyFile, '--seq', '3', '-'], { input: JSON.stringify(unsigned) });
    expect(signed.stderr).toBe('');
    expect(signed.code).toBe(0);
    const document = JSON.parse(signed.stdout) as Record<string, unknown>;
    expect(document.seq).toBe(3);
    expect(document.issued_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    expect(document.signature).toMatch(/^[\w-]+\.\.[\w-]+$/);

    const file = join(dir, 'signed.json');
    await writeFile(file, signed.stdout);
    const id = await runDmf(['id', file]);
    expect(id.code).toBe(0);
    const recordId = id.stdout.trim();
    expect(recordId).toMatch(/^[0-9a-f]{64}$/);

    const verified = await runDmf(['verify', file]);
    expect(verified.code).toBe(0);
    expect(verified.stdout).toBe(`valid content_manifest ${recordId} ${did}\n`);

    const json = await runDmf(['verify', '--json'], { input: signed.stdout });
    expect(JSON.parse(json.stdout)).toEqual({ valid: true, kind: 'content_manifest', id: recordId, signer: did });
  });

  it('prints the canonical form with --compact, which verifies the same', async () => {
    const signed = await runDmf(['sign', '--key', keyFile, '--compact', '--issued-at', '2026-01-01T00:00:00.000Z'], {
      input: JSON.stringify(unsigned),
    });
    expect(signed.code).toBe(0);
    expect(signed.stdout.trim().split('\n')).toHaveLength(1);
    expect(signed.stdout.startsWith('{"category":"music","chunks":')).toBe(true);
    const verified = await runDmf(['verify'], { input: signed.stdout });
    expect(verified.stdout).toMatch(/^valid content_manifest [0-9a-f]{64} did:key:/);
  });

  it('refuses to sign for another creator, naming the rule', async () => {
    const other = join(dir, 'intruder.key');
    await runDmf(['keygen', '--out', other]);
    const result = await runDmf(['sign', '--key', other], { input: JSON.stringify(unsigned) });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^dmf: invalid signature\.wrong_signer: /);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });

  it.each([
    ['a changed title', (d: Record<string, unknown>) => ({ ...d, title: 'Field recordingz' }), 'signature.invalid'],
    ['an unknown member', (d: Record<string, unknown>) => ({ ...d, extra: true }), 'schema'],
    ['a missing creator', ({ creator: _c, ...d }: Record<string, unknown>) => d, 'schema'],
    ['a future issued_at', (d: Record<string, unknown>) => ({ ...d, issued_at: '2999-01-01T00:00:00.000Z' }), 'issued_at.future'],
    ['a fractional size', (d: Record<string, unknown>) => ({ ...d, size: 5.5 }), 'json.non_integer'],
  ])('exits 1 with one line naming the rule for %s', async (_what, mutate, rule) => {
    const signed = await runDmf(['sign', '--key', keyFile], { input: JSON.stringify(unsigned) });
    const tampered = mutate(JSON.parse(signed.stdout) as Record<string, unknown>);
    const result = await runDmf(['verify'], { input: JSON.stringify(tampered) });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(new RegExp(`^dmf: invalid ${rule.replace('.', '\\.')}: `));
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('names the path of a duplicate key in raw input, also in --json', async () => {
    const input = '{"kind":"content_manifest","kind":"node_report"}';
    const result = await runDmf(['verify'], { input });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('dmf: invalid json.duplicate_key: $.kind: member "kind" appears more than once\n');
    const json = await runDmf(['verify', '--json'], { input });
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ valid: false, rule: 'json.duplicate_key', path: '$.kind' });
    const array = await runDmf(['verify', '--json'], { input: '[1]' });
    expect(JSON.parse(array.stdout)).toMatchObject({ valid: false, rule: 'document.not_object', path: '$' });
  });

  it('re-signs an expiring document with a fresh validity', async () => {
    const nodeKey = join(dir, 'renew.key');
    const nodeDid = (await runDmf(['keygen', '--out', nodeKey])).stdout.trim();
    const manifest = unsignedNodeManifest(nodeDid);
    const first = await runDmf(['sign', '--key', nodeKey, '--issued-at', '2026-01-01T00:00:00.000Z', '--expires-in', '1d'], {
      input: JSON.stringify(manifest),
    });
    expect(JSON.parse(first.stdout).expires_at).toBe('2026-01-02T00:00:00.000Z');
    const again = await runDmf(['sign', '--key', nodeKey, '--seq', '2'], { input: first.stdout });
    expect(again.stderr).toBe('');
    const renewed = JSON.parse(again.stdout) as { issued_at: string; expires_at: string; seq: number };
    expect(renewed.seq).toBe(2);
    expect(Date.parse(renewed.expires_at) - Date.parse(renewed.issued_at)).toBe(7 * 86_400_000);
  });

  it.each([
    [['verify', '/nonexistent/doc.json'], /^dmf: cannot read \/nonexistent\/doc\.json: no such file\n$/],
    [['verify'], /^dmf: input is not JSON: /],
    [['verify', '--at', 'yesterday'], /--at: "yesterday" is not an RFC 3339 UTC time/],
    [['verify', '--no-such-flag'], /unknown option '--no-such-flag'/],
    [['id'], /^dmf: input is not JSON: /],
    [['sign', '--key', '/nonexistent.key'], /^dmf: --key: /],
    [['sign', '--key', 'x', '--seq', '0'], /--seq: "0" is not an integer >= 1/],
  ])('exits 2 for unreadable input or usage errors: %j', async (args, message) => {
    const result = await runDmf(args, { input: 'not json' });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
  });

  it('refuses oversized input without reading it all, and reads a file that starts with a BOM', async () => {
    const huge = join(dir, 'huge.json');
    await writeFile(huge, `{"kind":"content_manifest","title":"${'x'.repeat(600 * 1024)}"}`);
    const tooLarge = await runDmf(['verify', huge]);
    expect(tooLarge.code).toBe(1);
    expect(tooLarge.stderr).toBe('dmf: invalid json.too_large: input is larger than 524288 bytes\n');

    const signed = await runDmf(['sign', '--key', keyFile], { input: JSON.stringify(unsigned) });
    const bom = await runDmf(['verify'], { input: `\uFEFF${signed.stdout}` });
    expect(bom.stdout).toMatch(/^valid content_manifest /);

    const garbage = await runDmf(['verify'], { input: '\xff\xfe\x00garbage' });
    expect(garbage.code).toBe(2);
  });

  it('will not sign a document dated in the future, nor write a key over a folder', async () => {
    const future = await runDmf(['sign', '--key', keyFile, '--issued-at', '2099-01-01T00:00:00.000Z'], {
      input: JSON.stringify(unsigned),
    });
    expect(future.code).toBe(1);
    expect(future.stderr).toMatch(/^dmf: invalid issued_at\.future: /);
    const folder = await runDmf(['keygen', '--out', dir]);
    expect(folder.code).toBe(2);
    expect(folder.stderr).toBe(`dmf: --out: ${dir} is a folder; give the path of the key file to create\n`);
  });

  it('refuses a key file that others can read', async () => {
    const loose = join(dir, 'loose.key');
    await runDmf(['keygen', '--out', loose]);
    await chmod(loose, 0o644);
    const result = await runDmf(['sign', '--key', loose], { input: JSON.stringify(unsigned) });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`chmod 600 ${loose}`);
  });

  it('verifies a service manifest only against its node manifest', async () => {
    const nodeKey = join(dir, 'node.key');
    const nodeDid = (await runDmf(['keygen', '--out', nodeKey])).stdout.trim();
    const nodeManifest = await runDmf(['sign', '--key', nodeKey], { input: JSON.stringify(unsignedNodeManifest(nodeDid)) });
    expect(nodeManifest.code).toBe(0);
    const nodeFile = join(dir, 'node.json');
    await writeFile(nodeFile, nodeManifest.stdout);
    const service = await runDmf(['sign', '--key', nodeKey], {
      input: JSON.stringify({
        kind: 'service_manifest',
        service_id: '6f1c1f63-0d5e-4a52-9a3e-3d1f7f0b2c11',
        node_id: nodeDid,
        type: 'metadata_index',
        entrypoints: ['https://node.example/'],
        schema: { url: 'https://node.example/openapi.json', sha256: 'a'.repeat(64) },
        version: '1.0.0',
      }),
    });
    expect(service.code).toBe(0);
    const alone = await runDmf(['verify'], { input: service.stdout });
    expect(alone.code).toBe(1);
    expect(alone.stderr).toMatch(/^dmf: invalid signer\.unresolved: /);
    const withNode = await runDmf(['verify', '--node-manifest', nodeFile], { input: service.stdout });
    expect(withNode.stdout).toMatch(new RegExp(`^valid service_manifest [0-9a-f]{64} ${nodeDid}\\n$`));
  });
});
