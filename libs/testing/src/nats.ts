import { NatsServer, waitFor } from '@dmf/servers';
import { makeTempDir, removeDir } from './temp-dir.ts';

export interface StartNatsOptions {
  /** server_name, also used in the temp folder's name. Default `nats`. */
  name?: string;
  /** JetStream domain. Default: none. */
  domain?: string;
  /** Enable JetStream. Default true. */
  jetstream?: boolean;
  /** Accept leaf connections (hub). Default false. */
  leafListen?: boolean;
  /** Leaf remotes (nats-leaf:// URLs). Default none. */
  leafRemotes?: readonly string[];
  /** Subjects never accepted from the leaf remotes. Default none. */
  leafDenyImports?: readonly string[];
}

/** A nats-server for one test: free ports, a temp store, removed by close(). */
export interface NatsServerHandle {
  readonly name: string;
  readonly url: string;
  readonly monitorUrl: string;
  readonly leafUrl: string | undefined;
  readonly domain: string | undefined;
  readonly storeDir: string;
  readonly running: boolean;
  /** Starts again on the same ports and store (after stop() or kill()). */
  start(): Promise<void>;
  /** Graceful stop; the store is kept so start() resumes. */
  stop(): Promise<void>;
  /** SIGKILL, for failure tests. */
  kill(): Promise<void>;
  /** Stops the server and deletes its folder. Safe to call twice. */
  close(): Promise<void>;
}

export async function startNatsServer(options: StartNatsOptions = {}): Promise<NatsServerHandle> {
  const name = options.name ?? 'nats';
  const dir = await makeTempDir(name);
  const server = NatsServer.create({
    dir,
    name,
    domain: options.domain,
    jetstream: options.jetstream ?? true,
    leafListen: options.leafListen ?? false,
    leafRemotes: options.leafRemotes,
    leafDenyImports: options.leafDenyImports,
  });
  try {
    await server.start();
  } catch (error) {
    await server.stop();
    await removeDir(dir);
    throw error;
  }
  let closed = false;
  return {
    get name() { return server.name; },
    get url() { return server.url; },
    get monitorUrl() { return server.monitorUrl; },
    get leafUrl() { return server.leafUrl; },
    get domain() { return server.domain; },
    get storeDir() { return server.storeDir; },
    get running() { return server.running; },
    start: () => server.start(),
    stop: () => server.stop(),
    kill: () => server.kill(),
    async close() {
      if (closed) return;
      closed = true;
      await server.stop();
      await removeDir(dir);
    },
  };
}

/** Number of leaf connections a server currently has (from /leafz). */
export async function leafConnections(server: Pick<NatsServerHandle, 'monitorUrl'>): Promise<number> {
  const leafz = (await (await fetch(`${server.monitorUrl}/leafz`)).json()) as { leafnodes?: number };
  return leafz.leafnodes ?? 0;
}

/** Waits until `hub` has at least `count` leaf connections. */
export async function waitForLeaves(hub: Pick<NatsServerHandle, 'monitorUrl'>, count: number, timeoutMs = 15_000): Promise<void> {
  await waitFor(async () => (await leafConnections(hub)) >= count, {
    timeoutMs,
    description: `${count} leaf connection(s) at the hub`,
  });
}
