/**
 * Starts bench/metadata-server.ts in a child process (node with tsx's loader, as
 * apps/cli/bin/dmf.mjs runs the CLI) and talks to it over the IPC channel.
 */
import { fork, type ChildProcess } from 'node:child_process';
import type { ChildMessage, ChildRequest, MemoryFigures, ProjectionFigures, StartMessage } from './metadata-server.ts';
import type { MetadataProjectorStats } from '@dmf/metadata';

export interface ServerChild {
  port: number;
  pid: number;
  /** dmf mode with `projectUntil`: how long projecting took. */
  projection: ProjectionFigures | undefined;
  reached(seq: number): Promise<MetadataProjectorStats>;
  stats(): Promise<MetadataProjectorStats>;
  memory(gc: boolean): Promise<MemoryFigures & { gcRan: boolean }>;
  close(): Promise<void>;
}

const SERVER = new URL('./metadata-server.ts', import.meta.url);
const TSX = import.meta.resolve('tsx');

type Omit2<T, K extends keyof T> = Pick<T, Exclude<keyof T, K>>;

export async function startServerChild(start: Omit2<StartMessage, 'type'>): Promise<ServerChild> {
  // --expose-gc: the memory figures can be taken after a full collection. For analysis,
  // DMF_BENCH_NODE_OPTIONS adds node flags to the servers (`--cpu-prof --cpu-prof-dir=/tmp/prof`).
  const extra = (process.env['DMF_BENCH_NODE_OPTIONS'] ?? '').split(/\s+/).filter((flag) => flag !== '');
  const child: ChildProcess = fork(SERVER, [], { execArgv: ['--import', TSX, '--expose-gc', ...extra], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  let nextId = 1;
  let failed: Error | undefined;
  const failAll = (error: Error) => {
    failed ??= error;
    for (const p of pending.values()) p.reject(error);
    pending.clear();
  };
  const ready = new Promise<Extract<ChildMessage, { type: 'ready' }>>((resolve, reject) => {
    child.on('message', (message: ChildMessage) => {
      if (message.type === 'ready') resolve(message);
      else if (message.type === 'reply') {
        pending.get(message.id)?.resolve(message.value);
        pending.delete(message.id);
      } else {
        const error = new Error(`${start.mode} server: ${message.reason}`);
        reject(error);
        failAll(error);
      }
    });
    child.on('exit', (code, signal) => {
      const error = new Error(`${start.mode} server exited (${code ?? signal})`);
      reject(error);
      failAll(error);
    });
  });
  child.send({ type: 'start', ...start } satisfies StartMessage);
  const { port, projection } = await ready;

  const ask = <T>(request: Omit2<ChildRequest, 'id'> & { type: ChildRequest['type'] } & Record<string, unknown>): Promise<T> => {
    if (failed) return Promise.reject(failed);
    const id = nextId++;
    return new Promise<T>((resolve, reject) => {
      pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      child.send({ ...request, id });
    });
  };
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let closed: Promise<void> | undefined;
  return {
    port,
    pid: child.pid as number,
    projection,
    reached: (seq) => ask({ type: 'reached', seq }),
    stats: () => ask({ type: 'stats' }),
    memory: (gc) => ask({ type: 'memory', gc }),
    close() {
      closed ??= (async () => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        await ask({ type: 'close' }).catch(() => undefined);
        await exited;
        clearTimeout(timer);
      })();
      return closed;
    },
  };
}
