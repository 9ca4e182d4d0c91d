/**
 * Signs many content manifests on every core at once (worker threads), for the metadata
 * benchmarks: `signRecord` (sign, then verify what was signed) does about 8,000 a
 * second per core, so a million takes about a minute on two. Batches arrive as the
 * threads finish them, in no particular order.
 */
import { randomUUID } from 'node:crypto';
import { cpus } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { BenchManifest } from './metadata-fixtures.ts';
import type { SignJob, SignMessage } from './metadata-sign-worker.ts';

export interface SignOptions {
  count: number;
  /** Distinct creators; manifest `n` is signed by creator `n % creators`. */
  creators: number;
  /** Threads. Default: one per core. */
  threads?: number;
  /** Manifests per message from a thread. Default 500. */
  batch?: number;
}

// Worker threads do not inherit tsx's loader: each registers it, then loads the TypeScript worker.
const TSX_API = import.meta.resolve('tsx/esm/api');
const WORKER = new URL('./metadata-sign-worker.ts', import.meta.url).href;
const BOOT = `import(${JSON.stringify(TSX_API)}).then(({ register }) => { register(); return import(${JSON.stringify(WORKER)}); })`;

/** Signed manifests in batches, as the threads produce them. */
export async function* signManifests(options: SignOptions): AsyncGenerator<BenchManifest[]> {
  const threads = Math.max(1, Math.min(options.threads ?? cpus().length, options.count));
  const salt = randomUUID();
  const queue: BenchManifest[][] = [];
  let running = threads;
  let failure: Error | undefined;
  let wake: (() => void) | undefined;
  const notify = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const workers: Worker[] = [];
  const per = Math.ceil(options.count / threads);
  for (let t = 0; t < threads; t++) {
    const job: SignJob = {
      start: t * per,
      end: Math.min(options.count, (t + 1) * per),
      creators: options.creators,
      batch: options.batch ?? 500,
      salt,
    };
    const worker = new Worker(BOOT, { eval: true, workerData: job });
    worker.on('message', (message: SignMessage) => {
      if (message.type === 'batch') queue.push(message.items);
      else running--;
      notify();
    });
    worker.on('error', (error) => {
      failure ??= error;
      notify();
    });
    worker.on('exit', (code) => {
      if (code !== 0) failure ??= new Error(`signing thread exited with code ${code}`);
      notify();
    });
    workers.push(worker);
  }
  try {
    while (true) {
      if (failure) throw failure;
      const next = queue.shift();
      if (next) {
        yield next;
        continue;
      }
      if (running === 0) return;
      await new Promise<void>((resolve) => (wake = resolve));
    }
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

/** All of them, in one array. */
export async function signAll(options: SignOptions): Promise<BenchManifest[]> {
  const all: BenchManifest[] = [];
  for await (const batch of signManifests(options)) for (const m of batch) all.push(m);
  return all;
}
