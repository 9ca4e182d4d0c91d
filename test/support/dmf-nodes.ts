/**
 * Real DMF nodes for cross-operator tests: each one a `dmf up` process as an operator
 * runs it (embedded nats-server as a leaf of a test hub, embedded redis-server, HTTPS
 * with a certificate from one test CA that every node trusts), on free ports.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createCertificateAuthority, issueServerCertificate, type CertificateAuthority } from '@dmf/http';
import { freePort } from '@dmf/servers';
import { waitFor } from '@dmf/testing';

const DMF_BIN = fileURLToPath(new URL('../../apps/cli/bin/dmf.mjs', import.meta.url));

export interface TestCa {
  ca: CertificateAuthority;
  caFile: string;
}

export async function makeTestCa(dir: string): Promise<TestCa> {
  const ca = await createCertificateAuthority({ commonName: 'DMF federation test CA' });
  const caFile = join(dir, 'ca.pem');
  await writeFile(caFile, ca.cert);
  return { ca, caFile };
}

export interface NodeOptions {
  name: string;
  operator: string;
  dir: string;
  tls: TestCa;
  /** nats-leaf:// URL of the hub; none: a node on its own. */
  hub?: string;
  port?: number;
  bootstrap?: string[];
  /** Seconds; default 1 and 2. */
  probeInterval?: number;
  probeWindow?: number;
  /** More environment for the process (e.g. DMF_RATE_LIMIT). */
  env?: Record<string, string>;
  /** Default warn. */
  logLevel?: string;
  /** More `dmf up` arguments (e.g. --operator-key). */
  extraArgs?: string[];
}

export interface DmfNode {
  name: string;
  url: string;
  port: number;
  dataDir: string;
  nodeId: string;
  /** The node's NATS URL (node.json). */
  nats: string;
  /** The process id (for CPU accounting). */
  pid: number;
  output(): string;
  /** SIGINT, then waits for the exit. */
  stop(): Promise<void>;
}

function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('DMF_')));
}

/** A test certificate of the CA for `hosts`, written next to the node's data as `<name>.crt` and `<name>.key`. */
export async function writeTestCertificate(tls: TestCa, dir: string, name: string, hosts: string[]): Promise<{ certFile: string; keyFile: string }> {
  const cert = await issueServerCertificate(tls.ca, { hosts });
  const certFile = join(dir, `${name}.crt`);
  const keyFile = join(dir, `${name}.key`);
  await writeFile(certFile, cert.cert);
  await writeFile(keyFile, cert.key, { mode: 0o600 });
  return { certFile, keyFile };
}

export interface ReadyProcess {
  child: ChildProcess;
  output(): string;
  exited: Promise<void>;
}

/**
 * Spawns `dmf` with `args` (no DMF_* variables inherited, `env` added) and waits until it
 * prints `ready https://…`; throws with its output when it exits first.
 */
export async function spawnDmfUntilReady(name: string, args: string[], env: NodeJS.ProcessEnv): Promise<ReadyProcess> {
  const child: ChildProcess = spawn(process.execPath, [DMF_BIN, ...args], { env: { ...cleanEnv(), ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await waitFor(() => /^ready https:\/\/\S+$/m.test(out) || child.exitCode !== null, { timeoutMs: 45_000, description: `${name} ready` });
  if (child.exitCode !== null) throw new Error(`${name} exited while starting:\n${out}`);
  return { child, output: () => out, exited };
}

/** Starts a node and waits until it prints `ready`. */
export async function startNode(o: NodeOptions): Promise<DmfNode> {
  const port = o.port ?? (await freePort());
  const dataDir = join(o.dir, o.name);
  const { certFile, keyFile } = await writeTestCertificate(o.tls, o.dir, o.name, ['127.0.0.1', 'localhost']);
  const args = [
    'up', '--data', dataDir, '--port', String(port), '--operator', o.operator,
    ...(o.hub ? ['--leaf-remote', o.hub] : []), '--allow-address', '127.0.0.0/8', '--trust-ca', o.tls.caFile,
    '--probe-interval', String(o.probeInterval ?? 1), '--probe-window', String(o.probeWindow ?? 2),
    '--snapshot-interval', '0', '--log-level', o.logLevel ?? 'warn',
    ...(o.bootstrap ?? []).flatMap((url) => ['--bootstrap', url]),
    ...(o.extraArgs ?? []),
  ];
  const { child, output, exited } = await spawnDmfUntilReady(o.name, args, { DMF_TLS_CERT: certFile, DMF_TLS_KEY: keyFile, ...o.env });
  const info = JSON.parse(await readFile(join(dataDir, 'node.json'), 'utf8')) as { nats: string };
  const url = `https://127.0.0.1:${port}`;
  const manifest = JSON.parse((await httpsJson('GET', `${url}/.well-known/dmf/node`, o.tls.ca.cert)).body) as { node_id: string };
  return {
    name: o.name,
    url,
    port,
    dataDir,
    nodeId: manifest.node_id,
    nats: info.nats,
    pid: child.pid as number,
    output,
    async stop() {
      if (child.exitCode === null) child.kill('SIGINT');
      await exited;
    },
  };
}

export interface HttpAnswer {
  status: number;
  headers: Record<string, unknown>;
  body: string;
}

export function httpsJson(method: string, url: string, ca: string, body?: string): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, ca, minVersion: 'TLSv1.3', headers: body ? { 'content-type': 'application/json' } : {} }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.once('error', reject);
    req.end(body);
  });
}

/** A node's view of another: `GET /nodes/<did>`, parsed (undefined on 404). */
export async function nodeView(from: DmfNode, ca: string, nodeId: string): Promise<{ state: string; reasons: string[]; attesters: { attester: string; counted: boolean }[] } | undefined> {
  const answer = await httpsJson('GET', `${from.url}/nodes/${nodeId}`, ca);
  if (answer.status === 404) return undefined;
  if (answer.status !== 200) throw new Error(`GET /nodes/${nodeId} at ${from.name}: ${answer.status} ${answer.body}`);
  return JSON.parse(answer.body);
}
