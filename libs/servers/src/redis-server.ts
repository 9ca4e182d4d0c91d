import { mkdir, realpath, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { ManagedChild } from './child-process.ts';
import { requireBinary } from './binaries.ts';
import { ServerProcessError } from './errors.ts';
import { freePort } from './free-port.ts';
import { stopStaleServer } from './stale-process.ts';
import { waitFor } from './wait.ts';

export interface RedisServerOptions {
  /** Folder of its own: data files and log. */
  dir: string;
  /** Port. Default 0: a free port, kept across restarts. */
  port?: number;
  /** Interface to bind. Default 127.0.0.1. */
  host?: string;
  /**
   * Keep data across restarts with an append-only file. Default false (tests);
   * `dmf up` turns it on so queued repair work survives a restart.
   */
  persistent?: boolean;
  /** redis-server binary. Default: found on PATH. */
  binary?: string;
  /** How long start() waits for PONG. Default 10 000 ms. */
  startTimeoutMs?: number;
}

/** A redis-server process with its own folder, bound to loopback by default. */
export class RedisServer {
  readonly #options: RedisServerOptions;
  #port: number | undefined;
  #child: ManagedChild | undefined;
  #onUnexpectedExit: ((description: string) => void) | undefined;

  private constructor(options: RedisServerOptions) {
    this.#options = { ...options };
  }

  static create(options: RedisServerOptions): RedisServer {
    return new RedisServer(options);
  }

  get host(): string {
    return this.#options.host ?? '127.0.0.1';
  }
  get port(): number {
    if (this.#port === undefined) throw new Error('redis-server has not been started yet');
    return this.#port;
  }
  get url(): string {
    return `redis://${this.host}:${this.port}`;
  }
  get logFile(): string {
    return join(this.#options.dir, 'redis-server.log');
  }
  get pidFile(): string {
    return join(this.#options.dir, 'redis-server.pid');
  }
  get running(): boolean {
    return this.#child?.running ?? false;
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
    await mkdir(this.#options.dir, { recursive: true });
    // redis-server runs in its --dir, which is how a leftover one is recognised.
    const dir = await realpath(this.#options.dir);
    await stopStaleServer(this.pidFile, ({ cmdline, cwd }) => cmdline.includes('redis-server') && cwd === dir);
    const fixed = this.#port ?? (this.#options.port || undefined);
    // A free port can be taken between our probe and redis binding it: try a few.
    for (let attempt = 1; ; attempt++) {
      const port = fixed ?? (await freePort(this.host));
      try {
        await this.#launch(port);
        this.#port = port;
        return;
      } catch (error) {
        if (fixed !== undefined || attempt >= 3) throw error;
      }
    }
  }

  async stop(): Promise<void> {
    await this.#child?.stop();
    // A pid file outliving its server would only mislead the next start.
    if (this.#child && !this.#child.running) await rm(this.pidFile, { force: true });
  }

  async kill(): Promise<void> {
    await this.#child?.kill();
  }

  async #launch(port: number): Promise<void> {
    const o = this.#options;
    const args = [
      '--port', String(port),
      '--bind', this.host,
      '--dir', o.dir,
      '--save', '',
      '--appendonly', o.persistent ? 'yes' : 'no',
      '--protected-mode', 'yes',
      '--daemonize', 'no',
      '--pidfile', this.pidFile,
    ];
    const child = new ManagedChild(o.binary ?? requireBinary('redis-server'), args, this.logFile);
    this.#child = child;
    child.onUnexpectedExit((code, signal) =>
      this.#onUnexpectedExit?.(`redis-server exited unexpectedly (${signal ?? `code ${code}`}); see ${this.logFile}`),
    );
    await child.spawn();
    await child.whileRunning(
      waitFor(() => ping(this.host, port), {
        timeoutMs: o.startTimeoutMs ?? 10_000,
        description: `redis-server PONG on port ${port}`,
      }),
    );
  }
}

/** One RESP PING over a plain socket: true on +PONG. */
async function ping(host: string, port: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    let reply = '';
    socket.setTimeout(1_000, () => socket.destroy(new ServerProcessError('process.not_ready', 'PING timed out')));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString('latin1');
      if (reply.includes('\r\n')) {
        socket.end();
        resolve(reply.startsWith('+PONG'));
      }
    });
    socket.once('error', reject);
  });
}
