/**
 * Real storage agents for tests: each one a `dmf storage agent` process, listening on
 * its own loopback address (127.0.N.1: each in a /24 of its own, as agents on separate
 * networks would be) with a certificate from the test CA.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { issueServerCertificate } from '@dmf/http';
import { freePort } from '@dmf/servers';
import { waitFor } from '@dmf/testing';
import type { TestCa } from './dmf-nodes.ts';

const DMF_BIN = fileURLToPath(new URL('../../apps/cli/bin/dmf.mjs', import.meta.url));

export interface AgentOptions {
  name: string;
  /** N of its address 127.0.N.1. */
  net: number;
  region: string;
  dir: string;
  tls: TestCa;
  coordinators: string[];
  capacity?: string;
  auditIntervalSeconds?: number;
  logLevel?: string;
}

export interface RunningAgent {
  name: string;
  url: string;
  nodeId: string;
  dataDir: string;
  output(): string;
  /** Whether the process still runs. */
  alive(): boolean;
  /** SIGKILL: the agent vanishes as a crashed machine would. */
  kill(): Promise<void>;
  /** SIGINT, then waits for the exit. */
  stop(): Promise<void>;
}

function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('DMF_')));
}

export async function startAgent(o: AgentOptions): Promise<RunningAgent> {
  const host = `127.0.${o.net}.1`;
  // A free port on 127.0.0.1 is free on the agent's own address too (the wildcard holds none).
  const port = await freePort();
  const cert = await issueServerCertificate(o.tls.ca, { hosts: [host] });
  const certFile = join(o.dir, `${o.name}.crt`);
  const keyFile = join(o.dir, `${o.name}.key`);
  await writeFile(certFile, cert.cert);
  await writeFile(keyFile, cert.key, { mode: 0o600 });
  const dataDir = join(o.dir, o.name);
  const args = [
    DMF_BIN, 'storage', 'agent', '--data', dataDir, '--host', host, '--port', String(port), '--region', o.region,
    '--capacity', o.capacity ?? '1GiB', '--allow-address', '127.0.0.0/8', '--trust-ca', o.tls.caFile,
    '--audit-interval', String(o.auditIntervalSeconds ?? 2), '--log-level', o.logLevel ?? 'warn',
    ...o.coordinators.flatMap((url) => ['--coordinator', url]),
  ];
  const child: ChildProcess = spawn(process.execPath, args, { env: { ...cleanEnv(), DMF_TLS_CERT: certFile, DMF_TLS_KEY: keyFile }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await waitFor(() => /^ready https:\/\/\S+$/m.test(out) || child.exitCode !== null, { timeoutMs: 45_000, description: `${o.name} ready` });
  if (child.exitCode !== null) throw new Error(`${o.name} exited while starting:\n${out}`);
  const nodeId = /storage agent: node (\S+)/.exec(out)?.[1] as string;
  return {
    name: o.name,
    url: `https://${host}:${port}`,
    nodeId,
    dataDir,
    output: () => out,
    alive: () => child.exitCode === null && child.signalCode === null,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
      await exited;
    },
  };
}
