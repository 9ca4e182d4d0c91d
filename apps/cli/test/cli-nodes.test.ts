/**
 * `dmf nodes` and `dmf call` as a user meets them: the real binary against a real
 * `dmf up` started the way `npm start` does (data in ./.dmf of its folder), so the
 * local defaults (loopback allowed, ./.dmf/tls/ca.pem trusted) are what make the
 * flag-less commands work.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, readFile } from 'node:fs/promises';
import { request } from 'node:https';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '@dmf/servers';
import { makeTempDir, removeDir, waitFor } from '@dmf/testing';
import { DMF_BIN, runDmf, type DmfResult } from './run-dmf.ts';

function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('DMF_')));
}

function httpsGet(url: string, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca, minVersion: 'TLSv1.3' }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => resolve(text));
    });
    req.once('error', reject);
    req.end();
  });
}

let dir: string;
/** A folder without .dmf: no local CA to fall back on. */
let elsewhere: string;
let caFile: string;
let child: ChildProcess;
let output = '';
let url = '';
let nodeId = '';

/**
 * `dmf …` run from the node's folder (where `npm start` would have been run) unless
 * `cwd` says otherwise. runDmf passes this process's environment on: the variables the
 * commands read are emptied so that the developer's shell does not change what is tested.
 */
function dmf(args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string } = {}): Promise<DmfResult> {
  const env = { DMF_ALLOW_ADDRESSES: '', DMF_TRUST_CA: '', ...options.env };
  return runDmf(args, { cwd: options.cwd ?? dir, env, ...(options.input === undefined ? {} : { input: options.input }) });
}

beforeAll(async () => {
  dir = await makeTempDir('cli-nodes');
  elsewhere = join(dir, 'elsewhere');
  await mkdir(elsewhere);
  const port = await freePort();
  child = spawn(process.execPath, [DMF_BIN, 'up', '--port', String(port), '--log-level', 'warn', '--snapshot-interval', '0'], {
    cwd: dir,
    env: cleanEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (output += c.toString()));
  await waitFor(() => /^ready https:\/\/\S+$/m.test(output) || child.exitCode !== null, { timeoutMs: 45_000, description: 'dmf up ready' });
  if (child.exitCode !== null) throw new Error(`dmf up exited while starting:\n${output}`);
  url = `https://127.0.0.1:${port}`;
  caFile = join(dir, '.dmf', 'tls', 'ca.pem');
  nodeId = (JSON.parse(await httpsGet(`${url}/.well-known/dmf/node`, await readFile(caFile, 'utf8'))) as { node_id: string }).node_id;
});

afterAll(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGINT');
    await exited;
  }
  if (dir) await removeDir(dir);
});

describe('dmf nodes', () => {
  it('lists the node itself as admitted, without flags for a local node', async () => {
    const result = await dmf(['nodes', url]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const [header, ...rows] = result.stdout.trimEnd().split('\n');
    expect(header).toMatch(/^NODE +OPERATOR +STATE +REASON$/);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatch(new RegExp(`^${nodeId} +\\S+ +admitted +\\S`));
  });

  it('shows one node in detail, and its answer as JSON with --json', async () => {
    const [detail, json, list, filtered, empty] = await Promise.all([
      dmf(['nodes', url, nodeId]),
      dmf(['nodes', url, nodeId, '--json']),
      dmf(['nodes', url, '--json']),
      dmf(['nodes', url, '--state', 'admitted', '--json']),
      dmf(['nodes', url, '--state', 'probing']),
    ]);
    expect(detail.code).toBe(0);
    expect(detail.stdout).toMatch(new RegExp(`^node +${nodeId}$`, 'm'));
    expect(detail.stdout).toMatch(/^state +admitted/m);
    for (const label of ['reasons', 'attesters', 'reporters', 'findings', 'reputation']) expect(detail.stdout).toMatch(new RegExp(`^${label} +\\S`, 'm'));
    expect(detail.stdout).toMatch(/^changes +\S+ +unknown -> admitted/m);

    expect(json.code).toBe(0);
    const answer = JSON.parse(json.stdout) as { node_id: string; state: string; node_manifest: { node_id: string } };
    expect(answer).toMatchObject({ node_id: nodeId, state: 'admitted', node_manifest: { node_id: nodeId } });
    expect((JSON.parse(list.stdout) as { nodes: { node_id: string; state: string }[] }).nodes).toEqual([expect.objectContaining({ node_id: nodeId, state: 'admitted' })]);
    expect((JSON.parse(filtered.stdout) as { nodes: unknown[] }).nodes).toHaveLength(1);
    expect(empty).toMatchObject({ code: 0, stdout: 'no node in state probing\n' });
  });

  it('exits 1 with the problem for a node it does not know', async () => {
    const unknown = 'did:key:z6MkpTHR8VNsBxYAAWHut2Geadd9jSwuBV8xRoAnwWsdvktH';
    const result = await dmf(['nodes', url, unknown]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^dmf: 404 [^:\n]+: params\.did: [^\n]+\n$/);
  });
});

describe('dmf call', () => {
  it('calls a service of the verified node and prints the body', async () => {
    const [plain, typed] = await Promise.all([
      dmf(['call', url, '/nodes']),
      dmf(['call', url, '/nodes?state=admitted', '--service', 'federation', '--json']),
    ]);
    expect(plain.stderr).toBe('');
    expect(plain.code).toBe(0);
    expect((JSON.parse(plain.stdout) as { nodes: { node_id: string }[] }).nodes.map((n) => n.node_id)).toEqual([nodeId]);
    expect(typed.code).toBe(0);
    expect(JSON.parse(typed.stdout)).toMatchObject({ status: 200, url: `${url}/nodes?state=admitted`, node: nodeId, body: { nodes: [{ node_id: nodeId }] } });
  });

  it('exits 1 for a 404, with the problem title and detail on stderr', async () => {
    const result = await dmf(['call', url, '/no/such/route']);
    expect(result.code).toBe(1);
    const problem = JSON.parse(result.stdout) as { status: number; title: string; detail: string };
    expect(problem.status).toBe(404);
    expect(result.stderr).toBe(`dmf: 404 ${problem.title}: ${problem.detail}\n`);
    expect(problem.detail).toContain('/no/such/route');
  });

  it('sends a body with --data and reports a service the node does not offer', async () => {
    const [posted, missing] = await Promise.all([
      dmf(['call', url, '/nodes', '--service', 'federation', '--data', '-'], { input: '{}' }),
      dmf(['call', url, '/x', '--service', 'storage_coordinator']),
    ]);
    // --data makes it a POST: the announcement route refuses an empty announcement.
    expect(posted.code).toBe(1);
    expect(posted.stderr).toMatch(/^dmf: 400 [^:\n]+: [^\n]+\n$/);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^dmf: service\.not_offered: .*offers no service type storage_coordinator \(offers: [^)]*federation/);
  });
});

describe('refusals', () => {
  it('refuses a private address without --allow-address before connecting', async () => {
    const started = Date.now();
    // With a 30 s deadline, trying to connect to the unrouted 10.255.255.1 would take 30 s.
    const result = await dmf(['nodes', 'https://10.255.255.1/', '--timeout', '30000', '--verbose']);
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(result.code).toBe(1);
    const lines = result.stderr.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^dmf: address\.refused: https:\/\/10\.255\.255\.1\/: .*10\.255\.255\.1 is private/);
    expect(lines.slice(1)).toEqual([expect.stringMatching(/^dmf: attempt 1: https:\/\/10\.255\.255\.1\/: address\.refused: /)]);
  });

  it('fails with one clear line when the node\'s certificate is not trusted, and verifies with --ca or DMF_TRUST_CA', async () => {
    const [untrusted, withFlag, withEnv, narrowed] = await Promise.all([
      dmf(['call', url, '/nodes'], { cwd: elsewhere }),
      dmf(['call', url, '/nodes', '--ca', caFile], { cwd: elsewhere }),
      dmf(['nodes', url], { cwd: elsewhere, env: { DMF_TRUST_CA: caFile } }),
      // An allowance given replaces the local default: 127.0.0.1 is then refused.
      dmf(['nodes', url, '--allow-address', '10.0.0.0/8']),
    ]);
    expect(untrusted.code).toBe(1);
    expect(untrusted.stdout).toBe('');
    expect(untrusted.stderr).toMatch(/^dmf: unreachable: .*\(the node's TLS certificate is not trusted: pass --ca [^\n]*\)\n$/);
    expect(withFlag.code).toBe(0);
    expect(withFlag.stdout).toContain(nodeId);
    expect(withEnv.code).toBe(0);
    expect(withEnv.stdout).toMatch(new RegExp(`^${nodeId} .* admitted `, 'm'));
    expect(narrowed.code).toBe(1);
    expect(narrowed.stderr).toMatch(/^dmf: address\.refused: .*127\.0\.0\.1 is loopback/);
  });

  it('exits 2 with a line naming the bad flag or argument', async () => {
    const cases: [string[], RegExp][] = [
      [['nodes', url, '--state', 'happy'], /^dmf: --state: "happy" is not one of pending, /],
      [['nodes', url, '--timeout', 'soon'], /^dmf: --timeout: "soon" /],
      [['nodes', url, '--allow-address', 'nowhere'], /^dmf: --allow-address: "nowhere" is not a CIDR/],
      [['nodes', url, '--ca', join(dir, 'missing.pem')], /^dmf: --ca: cannot read .*missing\.pem: no such file/],
      [['nodes', url, 'did:web:example.com'], /^dmf: <did>: "did:web:example.com" is not an Ed25519 did:key/],
      [['nodes', 'http://127.0.0.1:1/'], /^dmf: <node-url>: "http:\/\/127\.0\.0\.1:1\/" is not an https URL/],
      [['call', url, 'nodes'], /^dmf: <path>: "nodes" must start with \//],
      [['call', url, '/nodes', '--method', 'FETCH'], /^dmf: --method: "FETCH" is not one of GET, /],
      [['call', url, '/nodes', '--method', 'GET', '--data', '-'], /^dmf: --data: a GET request has no body/],
      [['call', url, '/nodes', '--no-such-flag'], /^dmf: unknown option '--no-such-flag' \(see --help\)/],
    ];
    const results = await Promise.all(cases.map(([args]) => dmf(args)));
    results.forEach((result, i) => {
      const [args, expected] = cases[i] as [string[], RegExp];
      expect({ args, code: result.code, stdout: result.stdout }).toEqual({ args, code: 2, stdout: '' });
      expect(result.stderr).toMatch(expected);
      expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
    });
    const env = await dmf(['nodes', url], { env: { DMF_ALLOW_ADDRESSES: 'nowhere' } });
    expect(env.code).toBe(2);
    expect(env.stderr).toMatch(/^dmf: DMF_ALLOW_ADDRESSES: "nowhere" is not a CIDR/);
  });

  it('says in --help how a local node works without flags', async () => {
    const help = await dmf(['nodes', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('./.dmf/tls/ca.pem');
    expect(help.stdout).toMatch(/--allow-address <cidr>/);
  });
});
