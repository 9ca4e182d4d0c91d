/**
 * Real storage agents for tests: each one a `dmf storage agent` process, listening on
 * its own loopback address (127.0.N.1: each in a /24 of its own, as agents on separate
 * networks would be) with a certificate from the test CA.
 */
import { join } from 'node:path';
import { freePort } from '@dmf/servers';
import { spawnDmfUntilReady, writeTestCertificate, type TestCa } from './dmf-nodes.ts';

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

export async function startAgent(o: AgentOptions): Promise<RunningAgent> {
  const host = `127.0.${o.net}.1`;
  // A free port on 127.0.0.1 is free on the agent's own address too (the wildcard holds none).
  const port = await freePort();
  const { certFile, keyFile } = await writeTestCertificate(o.tls, o.dir, o.name, [host]);
  const dataDir = join(o.dir, o.name);
  const args = [
    'storage', 'agent', '--data', dataDir, '--host', host, '--port', String(port), '--region', o.region,
    '--capacity', o.capacity ?? '1GiB', '--allow-address', '127.0.0.0/8', '--trust-ca', o.tls.caFile,
    '--audit-interval', String(o.auditIntervalSeconds ?? 2), '--log-level', o.logLevel ?? 'warn',
    ...o.coordinators.flatMap((url) => ['--coordinator', url]),
  ];
  const { child, output, exited } = await spawnDmfUntilReady(o.name, args, { DMF_TLS_CERT: certFile, DMF_TLS_KEY: keyFile });
  const nodeId = /storage agent: node (\S+)/.exec(output())?.[1] as string;
  return {
    name: o.name,
    url: `https://${host}:${port}`,
    nodeId,
    dataDir,
    output,
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
