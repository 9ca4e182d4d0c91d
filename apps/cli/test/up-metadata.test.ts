/**
 * The metadata node as a user meets it: `dmf up`, a creator's manifest signed with
 * `dmf sign` and posted over HTTPS, read back, then `dmf projections verify|rebuild`
 * and `dmf snapshot` finding the running node through its data folder.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyDocument } from '@dmf/protocol';
import { cidOfBytes } from '@dmf/metadata';
import { freePort } from '@dmf/servers';
import { makeTempDir, removeDir, waitFor } from '@dmf/testing';
import { DMF_BIN, runDmf } from './run-dmf.ts';
import { httpsJson } from '../../../test/support/dmf-nodes.ts';

function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('DMF_')));
}

const https = httpsJson;

describe('dmf up: the metadata node', () => {
  let dir: string;
  let child: ChildProcess;
  let stdout = '';
  let stderr = '';
  let url = '';
  let ca = '';

  beforeAll(async () => {
    dir = await makeTempDir('up-metadata');
    const port = await freePort();
    child = spawn(process.execPath, [DMF_BIN, 'up', '--data', join(dir, 'node'), '--port', String(port), '--log-level', 'warn', '--snapshot-interval', '0'], {
      env: cleanEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
    await waitFor(() => /^ready https:\/\/\S+$/m.test(stdout), { timeoutMs: 30_000, description: `dmf up ready (stderr: ${stderr})` });
    url = /^ready (https:\/\/\S+)$/m.exec(stdout)?.[1] as string;
    ca = await readFile(join(dir, 'node', 'tls', 'ca.pem'), 'utf8');
  });

  afterAll(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGINT');
      await exited;
    }
    await removeDir(dir);
  });

  it('accepts a manifest signed with dmf sign, serves it, verifies, rebuilds and snapshots its projection', async () => {
    const key = join(dir, 'creator.key');
    const did = (await runDmf(['keygen', '--out', key])).stdout.trim();
    const parts = [Buffer.from('first half '), Buffer.from('second half')];
    const unsigned = {
      kind: 'content_manifest',
      manifest_id: randomUUID(),
      creator: did,
      title: 'Two halves',
      tags: ['Demo'],
      category: 'Text',
      chunks: parts.map((p) => cidOfBytes(p)),
      size: 22,
      fingerprint: cidOfBytes(Buffer.concat(parts)),
      version: '1.0.0',
    };
    await writeFile(join(dir, 'm.json'), JSON.stringify(unsigned));
    const signed = await runDmf(['sign', '--key', key, join(dir, 'm.json')]);
    expect(signed.code).toBe(0);

    const posted = await https('POST', `${url}/publish_manifest`, ca, signed.stdout);
    expect(posted.status).toBe(201);
    const answer = JSON.parse(posted.body) as { id: string; location: string };
    expect(posted.headers['location']).toBe(answer.location);
    const again = await https('POST', `${url}/publish_manifest`, ca, signed.stdout);
    expect(again).toMatchObject({ status: 201, body: posted.body });

    const read = await https('GET', `${url}${answer.location}`, ca);
    expect(read.status).toBe(200);
    const { record } = JSON.parse(read.body) as { record: unknown };
    expect(verifyDocument(record).id).toBe(answer.id);
    const listed = await https('GET', `${url}/category/demo`, ca);
    expect((JSON.parse(listed.body) as { items: { record_id: string }[] }).items.map((i) => i.record_id)).toEqual([answer.id]);
    const before = await runDmf(['manifest', join(dir, 'm.json'), '--key', key, '--title', 'x', '--category', 'y', '--chunk-size', '0']);
    expect(before).toMatchObject({ code: 2 });
    expect(before.stderr).toMatch(/^dmf: --chunk-size: "0" must be 1 to 4194304 bytes$/m);

    // The creator's tool: dmf manifest cuts, names and signs a file in one go.
    await writeFile(join(dir, 'song.bin'), Buffer.alloc(300_000, 7));
    const made = await runDmf(['manifest', join(dir, 'song.bin'), '--key', key, '--title', 'Seven', '--category', 'Music', '--tag', 'demo', '--chunk-size', '131072']);
    expect(made.code).toBe(0);
    expect((JSON.parse(made.stdout) as { chunks: string[] }).chunks).toHaveLength(3);
    expect((await https('POST', `${url}/publish_manifest`, ca, made.stdout)).status).toBe(201);

    const data = ['--data', join(dir, 'node')];
    const verify = await runDmf(['projections', 'verify', 'metadata', ...data], { env: cleanEnv() });
    expect(verify.stderr).toBe('');
    expect(verify.code).toBe(0);
    expect(verify.stdout).toMatch(/^equal$/m);
    const rebuild = await runDmf(['projections', 'rebuild', 'metadata', ...data, '--json'], { env: cleanEnv() });
    expect(rebuild.code).toBe(0);
    expect(JSON.parse(rebuild.stdout)).toMatchObject({ by: 'node' });
    expect((await https('GET', `${url}${answer.location}`, ca)).status).toBe(200);

    const snapshot = await runDmf(['snapshot', ...data], { env: cleanEnv() });
    expect(snapshot.code).toBe(0);
    expect(snapshot.stdout).toMatch(/^ {2}[0-9a-f]{64} +1 {2}text$/m);
    expect(snapshot.stdout).toMatch(/^ {2}[0-9a-f]{64} +1 {2}music$/m);
    const served = await https('GET', `${url}/category_snapshot`, ca);
    expect(served.status).toBe(200);
    const parts1 = (JSON.parse(served.body) as { parts: unknown[] }).parts;
    expect(verifyDocument(parts1[0]).kind).toBe('category_snapshot');

    // Nothing but warnings the test asked for reached stderr (no validator noise, no stack).
    expect(stderr).not.toMatch(/unknown format|Error:|at .*\.ts:\d+/);
  });

  it('tells a user with no running node what to do', async () => {
    const result = await runDmf(['projections', 'verify', 'metadata', '--data', join(dir, 'nothing-here')], { env: cleanEnv() });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^dmf: no NATS server: no node runs in .*nothing-here; start it \(npm start\)/);
    const bad = await runDmf(['projections', 'verify', 'ledger'], { env: cleanEnv() });
    expect(bad).toMatchObject({ code: 2 });
    expect(bad.stderr).toMatch(/unknown projection "ledger" \(known: metadata\)/);
  });
});
