import { mkdir, readFile, writeFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ManagedChild } from './child-process.ts';
import { requireBinary } from './binaries.ts';
import { renderNatsConfig } from './nats-config.ts';
import { stopStaleServer } from './stale-process.ts';
import { waitFor } from './wait.ts';

export interface NatsServerOptions {
  /** Folder of its own: config, JetStream store, ports file and log live here. */
  dir: string;
  /** server_name. Default `dmf`. */
  name?: string;
  /** JetStream domain; see renderNatsConfig. Default: none. */
  domain?: string;
  /** Enable JetStream (store under `<dir>/jetstream`). Default true. */
  jetstream?: boolean;
  /** Client port. Default -1: a free port chosen by the server, kept across restarts. */
  port?: number;
  /** Monitoring port. Default -1, as for `port`. */
  httpPort?: number;
  /** Interface to bind. Default 127.0.0.1. */
  host?: string;
  /** Accept leaf connections (a federation hub). Default false. */
  leafListen?: boolean;
  /** Connect as a leaf to these nats-leaf:// URLs. Default none. */
  leafRemotes?: readonly string[];
  /** Subjects never accepted from the leaf remotes (see renderNatsConfig). Default none. */
  leafDenyImports?: readonly string[];
  /** nats-server binary. Default: found on PATH or in /usr/sbin. */
  binary?: string;
  /** How long start() waits for readiness. Default 15 000 ms. */
  startTimeoutMs?: number;
}

interface ChosenPorts {
  port: number;
  httpPort: number;
  leafPort?: number;
}

/**
 * A nats-server process with its own folder. The first start lets the server pick free
 * ports; later starts (after stop() or kill()) reuse them, so clients and leaf remotes
 * pointing at it reconnect.
 */
export class NatsServer {
  readonly #options: Required<Pick<NatsServerOptions, 'dir' | 'name' | 'jetstream' | 'host' | 'leafListen' | 'startTimeoutMs'>> &
    NatsServerOptions;
  #ports: ChosenPorts | undefined;
  #child: ManagedChild | undefined;
  #onUnexpectedExit: ((description: string) => void) | undefined;

  private constructor(options: NatsServerOptions) {
    this.#options = {
      ...options,
      name: options.name ?? 'dmf',
      jetstream: options.jetstream ?? true,
      host: options.host ?? '127.0.0.1',
      leafListen: options.leafListen ?? false,
      startTimeoutMs: options.startTimeoutMs ?? 15_000,
      leafRemotes: options.leafRemotes ? [...options.leafRemotes] : undefined,
    };
  }

  static create(options: NatsServerOptions): NatsServer {
    return new NatsServer(options);
  }

  get name(): string {
    return this.#options.name;
  }
  get domain(): string | undefined {
    return this.#options.domain;
  }
  get dir(): string {
    return this.#options.dir;
  }
  get storeDir(): string {
    return join(this.#options.dir, 'jetstream');
  }
  get logFile(): string {
    return join(this.#options.dir, 'nats-server.log');
  }
  get pidFile(): string {
    return join(this.#options.dir, 'nats-server.pid');
  }
  get configFile(): string {
    return join(this.#options.dir, 'nats-server.conf');
  }
  get running(): boolean {
    return this.#child?.running ?? false;
  }
  /** nats:// URL for clients; known after the first start(). */
  get url(): string {
    return `nats://${this.#hostForUrl()}:${this.#known().port}`;
  }
  /** http:// URL of the monitoring endpoint. */
  get monitorUrl(): string {
    return `http://${this.#hostForUrl()}:${this.#known().httpPort}`;
  }
  /** nats-leaf:// URL that leaf servers connect to (hubs only). */
  get leafUrl(): string | undefined {
    const leafPort = this.#known().leafPort;
    return leafPort === undefined ? undefined : `nats-leaf://${this.#hostForUrl()}:${leafPort}`;
  }

  /**
   * Called with a one-line description when the server exits although nobody asked it
   * to (a crash, an operator's kill): a node cannot work without it.
   */
  onUnexpectedExit(listener: (description: string) => void): void {
    this.#onUnexpectedExit = listener;
  }

  async start(): Promise<void> {
    if (this.running) return;
    const o = this.#options;
    const portsDir = join(o.dir, 'ports');
    await mkdir(portsDir, { recursive: true });
    const configFile = this.configFile;
    await stopStaleServer(this.pidFile, ({ cmdline }) => cmdline.includes(configFile));
    const config = renderNatsConfig({
      name: o.name,
      host: o.host,
      port: this.#ports?.port ?? o.port ?? -1,
      httpPort: this.#ports?.httpPort ?? o.httpPort ?? -1,
      storeDir: o.jetstream ? this.storeDir : undefined,
      domain: o.domain,
      leafListenPort: o.leafListen ? (this.#ports?.leafPort ?? -1) : undefined,
      leafRemotes: o.leafRemotes,
      leafDenyImports: o.leafDenyImports,
      portsFileDir: portsDir,
      pidFile: this.pidFile,
    });
    await writeFile(configFile, config);
    const child = new ManagedChild(o.binary ?? requireBinary('nats-server'), ['-c', configFile], this.logFile);
    this.#child = child;
    child.onUnexpectedExit((code, signal) =>
      this.#onUnexpectedExit?.(`nats-server ${this.name} exited unexpectedly (${signal ?? `code ${code}`}); see ${this.logFile}`),
    );
    await child.spawn();
    await child.whileRunning(this.#waitUntilReady(portsDir, child.pid ?? 0));
  }

  /** Graceful stop (SIGTERM). Safe to call twice. */
  async stop(): Promise<void> {
    await this.#child?.stop();
    // A pid file outliving its server would only mislead the next start.
    if (this.#child && !this.#child.running) await rm(this.pidFile, { force: true });
  }

  /** Crash the server (SIGKILL), for failure tests. */
  async kill(): Promise<void> {
    await this.#child?.kill();
  }

  async #waitUntilReady(portsDir: string, pid: number): Promise<void> {
    const timeoutMs = this.#options.startTimeoutMs;
    const portsFile = await waitFor(
      async () => (await readdir(portsDir)).find((f) => f.endsWith(`_${pid}.ports`)),
      { timeoutMs, description: `nats-server ${this.name} ports file` },
    );
    const written = JSON.parse(await readFile(join(portsDir, portsFile), 'utf8')) as {
      nats: string[];
      monitoring: string[];
    };
    const port = Number(new URL(written.nats[0] ?? '').port);
    const httpPort = Number(new URL(written.monitoring[0] ?? '').port);
    const monitor = `http://${this.#hostForUrl()}:${httpPort}`;
    await waitFor(
      async () => {
        const response = await fetch(`${monitor}/healthz`);
        return response.ok;
      },
      { timeoutMs, description: `nats-server ${this.name} /healthz` },
    );
    let leafPort: number | undefined;
    if (this.#options.leafListen) {
      // The 2.9 ports file has no leaf port; /varz does.
      const varz = (await (await fetch(`${monitor}/varz`)).json()) as { leaf?: { port?: number } };
      leafPort = varz.leaf?.port;
    }
    this.#ports = { port, httpPort, leafPort };
  }

  #known(): ChosenPorts {
    if (!this.#ports) throw new Error(`nats-server ${this.name} has not been started yet`);
    return this.#ports;
  }

  #hostForUrl(): string {
    const host = this.#options.host;
    if (host === '0.0.0.0') return '127.0.0.1';
    return host.includes(':') ? `[${host}]` : host;
  }
}
