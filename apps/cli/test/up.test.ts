import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { request } from 'node:https';
import { createConnection, createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyDocument } from '@dmf/protocol';
import { freePort, isAlive, readPidFile } from '@dmf/servers';
import { makeTempDir, removeDir, waitFor } from '@dmf/testing';
import { DMF_BIN, runDmf } from './run-dmf.ts';

interface RunningUp {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

/** Environment without any DMF_* a developer may have set. */
function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('DMF_')));
}

function spawnUp(dataDir: string, port: number, extra: string[] = []): ChildProcess {
  const child = spawn(process.execPath, [DMF_BIN, 'up', '--data', dataDir, '--port', String(port), '--log-level', 'warn', ...extra], {
    env: cleanEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  started.push(child);
  return child;
}

async function startUp(dataDir: string, port: number): Promise<RunningUp> {
  const child = spawnUp(dataDir, port);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await waitFor(
    () => {
      if (child.exitCode !== null) throw new Error(`dmf up exited ${child.exitCode}: ${stderr}`);
      return /^ready https:\/\/\S+$/m.test(stdout);
    },
    { timeoutMs: 30_000, description: `dmf up to print ready (stderr so far: ${stderr})` },
  );
  return { child, output: () => stdout, exited };
}

function httpsGet(url: string, ca: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca, headers, minVersion: 'TLSv1.3' }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.once('error', reject);
    req.end();
  });
}

function portRefuses(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}

/** The embedded servers' ports, from the banner lines `nats nats://127.0.0.1:P` and `redis redis://127.0.0.1:P`. */
function embeddedPorts(output: string): number[] {
  return [...output.matchAll(/^ {2}(?:nats|redis) +\w+:\/\/127\.0\.0\.1:(\d+)/gm)].map((m) => Number(m[1]));
}

/** Every dmf up a test started; killed after the tests so a failed expectation leaves nothing running. */
const started: ChildProcess[] = [];
afterAll(async () => {
  // Ctrl-C first: a dmf up killed outright would leave its nats-server and redis-server
  // running (they live in process groups of their own, to be stopped by the next dmf up
  // on the same data folder, which a test never starts).
  await Promise.all(
    started
      .filter((child) => child.exitCode === null && child.signalCode === null)
      .map(async (child) => {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGINT');
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        await exited;
        clearTimeout(timer);
      }),
  );
});

describe('dmf up (embedded)', () => {
  let dataDir: string;
  let port: number;

  beforeAll(async () => {
    dataDir = await makeTempDir('up');
    port = await freePort();
  });
  afterAll(async () => {
    await removeDir(dataDir);
  });

  it('starts everything, serves HTTPS with TLS 1.3, stops on SIGINT, and resumes with the same data', async () => {
    const first = await startUp(dataDir, port);
    const banner = first.output();
    const url = /^ready (https:\/\/\S+)$/m.exec(banner)?.[1];
    expect(url).toBe(`https://127.0.0.1:${port}`);
    const did = /node (did:key:z6Mk\S+)/.exec(banner)?.[1];
    expect(did).toBeDefined();
    expect(banner).toMatch(/new node key and TLS certificate/);
    expect(banner).toMatch(/created ORIGIN_local/);
    const ports = embeddedPorts(banner);
    expect(ports).toHaveLength(2);

    const ca = await readFile(join(dataDir, 'tls', 'ca.pem'), 'utf8');
    const openapi = await httpsGet(`${url}/openapi.json`, ca);
    expect(openapi.status).toBe(200);
    const document = JSON.parse(openapi.body) as { openapi: string; paths: Record<string, unknown> };
    expect(document.openapi).toMatch(/^3\./);
    expect(Object.keys(document.paths)).toContain('/.well-known/dmf/node');
    // Health names the node's own dependencies.
    expect(JSON.parse((await httpsGet(`${url}/healthz`, ca)).body)).toEqual({ status: 'ok', checks: { nats: 'ok', redis: 'ok' } });

    const manifestResponse = await httpsGet(`${url}/.well-known/dmf/node`, ca, { cookie: 'session=abc' });
    expect(manifestResponse.headers['set-cookie']).toBeUndefined();
    const manifest = JSON.parse(manifestResponse.body) as Record<string, unknown>;
    const verified = verifyDocument(manifest);
    expect(verified.kind).toBe('node_manifest');
    expect(verified.signer).toBe(did);
    expect((await stat(join(dataDir, 'keys', 'node.key'))).mode & 0o777).toBe(0o600);

    // One manifest per service (federation, metadata, storage coordination): signed by
    // the node manifest's public_key, and pinning the exact OpenAPI document served.
    const services = JSON.parse((await httpsGet(`${url}/.well-known/dmf/services`, ca)).body) as Record<string, unknown>[];
    expect(services.map((s) => s.type)).toEqual(['federation', 'metadata_index', 'storage_coord']);
    expect(manifest.services).toEqual(['federation', 'metadata', 'storage_coord']);
    expect(Object.keys(document.paths)).toEqual(expect.arrayContaining(['/assign_erasure_group', '/chunk_status/{cid}', '/repair_task']));
    const sha256 = createHash('sha256').update(openapi.body).digest('hex');
    for (const service of services) {
      const verifiedService = verifyDocument(service, { nodePublicKey: (id) => (id === did ? String(manifest.public_key) : undefined) });
      expect(verifiedService.kind).toBe('service_manifest');
      expect(service).toMatchObject({ entrypoints: [`${url}/`], schema: { url: `${url}/openapi.json`, sha256 } });
    }

    const stopAsked = Date.now();
    first.child.kill('SIGINT');
    expect(await first.exited).toBe(0);
    expect(Date.now() - stopAsked).toBeLessThan(10_000);
    expect(first.output()).toMatch(/^stopped$/m);
    for (const p of [port, ...ports]) expect(await portRefuses(p)).toBe(true);

    const second = await startUp(dataDir, port);
    try {
      expect(second.output()).toContain(`node ${did}`);
      expect(second.output()).not.toMatch(/new node key/);
      expect(second.output()).toMatch(/all unchanged/);
      const again = JSON.parse((await httpsGet(`${url}/.well-known/dmf/node`, ca)).body) as Record<string, unknown>;
      expect(again.seq).toBe(manifest.seq); // same content, not near expiry: the same signed version
      expect(again.signature).toBe(manifest.signature);
    } finally {
      second.child.kill('SIGINT');
      expect(await second.exited).toBe(0);
    }
  });

  it('reports a busy port in one line, exit 1, before launching any server', async () => {
    const blocker = createServer();
    const busy = await freePort();
    await new Promise<void>((resolve) => blocker.listen(busy, '127.0.0.1', resolve));
    const dir = await makeTempDir('up-busy');
    try {
      const result = await runDmf(['up', '--data', dir, '--port', String(busy), '--log-level', 'silent'], { env: cleanEnv() });
      expect(result.code).toBe(1);
      expect(result.stderr).toBe(`dmf: cannot listen on 127.0.0.1:${busy}: the port is in use (choose another with --port or DMF_PORT)\n`);
      // Found out before anything was launched.
      expect(existsSync(join(dir, 'nats'))).toBe(false);
      expect(existsSync(join(dir, 'redis'))).toBe(false);
    } finally {
      blocker.close();
      await removeDir(dir);
    }
  });

  it('takes one Ctrl-C delivered twice (terminal and npm) as one request, and stops cleanly', async () => {
    const dir = await makeTempDir('up-twice-signalled');
    try {
      const node = await startUp(dir, await freePort());
      node.child.kill('SIGINT');
      node.child.kill('SIGINT');
      expect(await node.exited).toBe(0);
      expect(node.output()).toMatch(/^stopped$/m);
    } finally {
      await removeDir(dir);
    }
  });

  it('stops the servers it had launched when interrupted while starting', async () => {
    const dir = await makeTempDir('up-interrupted');
    try {
      const child = spawnUp(dir, await freePort());
      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
      // Interrupt as soon as nats-server runs, well before `ready`.
      const natsPid = await waitFor(async () => {
        const pid = await readPidFile(join(dir, 'nats', 'nats-server.pid'));
        return pid !== undefined && isAlive(pid) ? pid : undefined;
      }, { timeoutMs: 20_000, description: 'embedded nats-server to run' });
      child.kill('SIGINT');
      expect(await exited).toBe(0);
      expect(isAlive(natsPid)).toBe(false);
      const redisPid = await readPidFile(join(dir, 'redis', 'redis-server.pid'));
      expect(redisPid === undefined || !isAlive(redisPid)).toBe(true);
    } finally {
      await removeDir(dir);
    }
  });

  it('refuses a second dmf up on the same data folder, and prints JSON lines with --json', async () => {
    const dir = await makeTempDir('up-twice');
    try {
      const child = spawnUp(dir, await freePort(), ['--json']);
      let stdout = '';
      child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
      const ready = await waitFor(() => {
        const line = stdout.split('\n').find((l) => l.includes('"event":"ready"'));
        return line ? (JSON.parse(line) as Record<string, unknown>) : undefined;
      }, { timeoutMs: 30_000, description: 'the ready JSON line' });
      expect(ready).toMatchObject({ event: 'ready', operator: 'local', domain: 'local', dataDir: dir });
      expect(ready.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);

      const second = await runDmf(['up', '--data', dir, '--port', String(await freePort())], { env: cleanEnv() });
      expect(second.code).toBe(1);
      expect(second.stderr).toBe(`dmf: another dmf up or storage agent (pid ${child.pid}) is using ${dir}; stop it first, or choose another --data folder\n`);

      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(stdout.trim().split('\n').at(-1)).toBe('{"event":"stopped"}');
    } finally {
      await removeDir(dir);
    }
  });

  it('stops, with exit 1 and one line, when a server it launched dies', async () => {
    const dir = await makeTempDir('up-crash');
    try {
      const child = spawnUp(dir, await freePort());
      let stderr = '';
      child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      let stdout = '';
      child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
      await waitFor(() => stdout.includes('\nready '), { timeoutMs: 30_000, description: 'ready' });
      const redisPid = await readPidFile(join(dir, 'redis', 'redis-server.pid'));
      const natsPid = await readPidFile(join(dir, 'nats', 'nats-server.pid'));
      process.kill(redisPid!, 'SIGKILL');
      const killedAt = Date.now();
      expect(await exited).toBe(1);
      expect(Date.now() - killedAt).toBeLessThan(15_000);
      expect(stderr).toMatch(/^dmf: redis-server exited unexpectedly \(SIGKILL\); see .*redis-server\.log; stopping$/m);
      expect(isAlive(natsPid!)).toBe(false);
    } finally {
      await removeDir(dir);
    }
  });

  it('rejects bad configuration naming the field, before starting anything', async () => {
    const result = await runDmf(['up', '--port', '99999'], { env: cleanEnv() });
    expect(result.code).toBe(2);
    expect(result.stderr).toBe('dmf: --port: "99999" is not a TCP port (1-65535)\n');
    const env = await runDmf(['up'], { env: { ...cleanEnv(), DMF_OPERATOR: 'Bad Name' } });
    expect(env.code).toBe(2);
    expect(env.stderr).toMatch(/^dmf: DMF_OPERATOR: "Bad Name" is not an operator token/);
    const region = await runDmf(['up', '--region', 'eu west'], { env: cleanEnv() });
    expect(region.code).toBe(2);
    expect(region.stderr).toMatch(/^dmf: --region: "eu west" must be/);
  });
});
