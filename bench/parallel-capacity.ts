/**
 * How much CPU work the machine does with every core busy, in units of one busy core:
 * raw Ed25519 verification (node:crypto, no DMF code) on one thread alone, then on one
 * thread per core at once. On dedicated cores the sum is about the core count; on a
 * virtual machine whose cores share hardware (or the host) it is less.
 *
 * Why the benchmark reports it: the projector's goal compares a many-threaded process
 * (verification threads, its own thread, nats-server) with verification on one core.
 * What the other cores really give sets how far such a ratio can go on this machine.
 */
import { cpus } from 'node:os';
import { Worker } from 'node:worker_threads';

/** A thread that verifies one signature in a loop for `seconds` and posts its rate. */
const LOOP = `
const { parentPort, workerData } = require('node:worker_threads');
const { generateKeyPairSync, sign, verify } = require('node:crypto');
const { publicKey, privateKey } = generateKeyPairSync('ed25519');
const data = Buffer.alloc(1320, 7);
const signature = sign(null, data, privateKey);
const end = performance.now() + workerData.seconds * 1000;
let count = 0;
while (performance.now() < end) {
  for (let i = 0; i < 64; i++) verify(null, data, publicKey, signature);
  count += 64;
}
parentPort.postMessage(count / workerData.seconds);
`;

function loops(threads: number, seconds: number): Promise<number[]> {
  return Promise.all(
    Array.from(
      { length: threads },
      () =>
        new Promise<number>((resolve, reject) => {
          const worker = new Worker(LOOP, { eval: true, workerData: { seconds } });
          worker.once('message', (rate: number) => {
            resolve(rate);
            void worker.terminate();
          });
          worker.once('error', reject);
        }),
    ),
  );
}

export interface ParallelCapacity {
  cores: number;
  /** Verifications a second, one thread alone. */
  alone: number;
  /** Each thread's rate with one thread per core running at once. */
  together: number[];
  /** Sum of `together` over `alone`: the machine's cores in units of one busy core. */
  capacity: number;
}

export async function benchParallelCapacity(seconds = 2): Promise<ParallelCapacity> {
  const cores = cpus().length;
  const [alone = Number.NaN] = await loops(1, seconds);
  const together = await loops(cores, seconds);
  return { cores, alone, together, capacity: together.reduce((a, b) => a + b, 0) / alone };
}
