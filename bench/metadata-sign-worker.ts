/**
 * A signing thread of bench/metadata-sign.ts: signs manifests `start` to `end - 1`
 * (manifest `n` by creator `n % creators`) and posts them in batches.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { benchManifest, creatorKey, type BenchManifest } from './metadata-fixtures.ts';

export interface SignJob {
  start: number;
  end: number;
  creators: number;
  batch: number;
  /** Makes the content of this run's manifests differ from every other run's. */
  salt: string;
}

export type SignMessage = { type: 'batch'; items: BenchManifest[] } | { type: 'done' };

const job = workerData as SignJob;
const port = parentPort;
if (!port) throw new Error('metadata-sign-worker.ts runs as a worker thread');

const keys = new Map<number, ReturnType<typeof creatorKey>>();
const keyOf = (c: number) => {
  let key = keys.get(c);
  if (!key) keys.set(c, (key = creatorKey(c)));
  return key;
};

let items: BenchManifest[] = [];
for (let n = job.start; n < job.end; n++) {
  items.push(benchManifest(keyOf(n % job.creators), n, new Date(), job.salt));
  if (items.length === job.batch || n === job.end - 1) {
    port.postMessage({ type: 'batch', items } satisfies SignMessage);
    items = [];
  }
}
port.postMessage({ type: 'done' } satisfies SignMessage);
