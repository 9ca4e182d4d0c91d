/**
 * `npm run bench:erasure` (issue "Storage coordination", Performance): codec throughput
 * in MB/s of data per core, encode and reconstruct, for RS(10,4), RS(17,3), LRC(12,2,2)
 * and XOR(10), next to `@ronomon/reed-solomon` (a native C addon, different matrix: a
 * speed baseline only) with the same shard counts, in the same run when it is installed.
 *
 * It is not a dependency of the project: it builds C code at install time, which a fresh
 * machine may not be able to do (and npm 11 asks to approve its install script). To
 * measure against it: `npm install --no-save @ronomon/reed-solomon` with its build
 * allowed, then run this. Without it the run says so and prints no ratio.
 *
 * One shard set of `--shard-bytes` (default 1 MiB) per code; each measurement repeats
 * the operation for `--seconds` (default 2) and reports data bytes per second: k ×
 * shard bytes per encode, the same per reconstruct (the data it makes whole again).
 * Reconstruct erases data shards (the costly case): m for RS, one per local group for
 * LRC, one for XOR.
 */
import { randomFillSync } from 'node:crypto';
import { createRequire } from 'node:module';
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { availableParallelism } from 'node:os';
import { createLrcCodec, createReedSolomon, createXorCodec, encodeParallel } from '@dmf/erasure';

interface Options {
  shardBytes: number;
  seconds: number;
}

function parse(argv: string[]): Options {
  const value = (name: string, fallback: number) => {
    const i = argv.indexOf(name);
    if (i < 0) return fallback;
    const n = Number(argv[i + 1]);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`${name}: ${argv[i + 1]} must be a positive number`);
    return n;
  };
  const quick = argv.includes('--quick');
  return { shardBytes: Math.round(value('--shard-bytes', 1 << 20)), seconds: value('--seconds', quick ? 0.5 : 2) };
}

/** Repeats `op` for about `seconds`; returns operations per second. */
function rate(op: () => void, seconds: number): number {
  op(); // warm up
  const budget = seconds * 1000;
  const start = performance.now();
  let count = 0;
  while (performance.now() - start < budget) {
    op();
    count++;
  }
  return count / ((performance.now() - start) / 1000);
}

function shardsOf(k: number, m: number, bytes: number): Uint8Array[] {
  return Array.from({ length: k + m }, (_, i) => {
    const shard = new Uint8Array(bytes);
    if (i < k) randomFillSync(shard);
    return shard;
  });
}

interface Row {
  code: string;
  encodeMBps: number;
  reconstructMBps: number;
  baselineEncodeMBps?: number;
  baselineReconstructMBps?: number;
}

const MB = 1e6;

interface Codec {
  encode(shards: Uint8Array[]): void;
  reconstruct(shards: (Uint8Array | null)[]): unknown;
}

/** Encode, and reconstruct after losing `lost` (data shards: the costly case). */
function measure(code: string, codec: Codec, k: number, parity: number, lost: number[], o: Options): Row {
  const shards = shardsOf(k, parity, o.shardBytes);
  codec.encode(shards);
  const dataBytes = k * o.shardBytes;
  const encode = rate(() => codec.encode(shards), o.seconds) * dataBytes;
  const reconstruct =
    rate(() => {
      const damaged: (Uint8Array | null)[] = shards.map((s, i) => (lost.includes(i) ? null : s));
      codec.reconstruct(damaged);
    }, o.seconds) * dataBytes;
  return { code, encodeMBps: encode / MB, reconstructMBps: reconstruct / MB };
}

/**
 * The native baseline, when installed: its own API (a different matrix, so speed only).
 * Its calls run on libuv's pool, one call at a time here: one core, like ours.
 */
async function measureBaseline(k: number, m: number, o: Options): Promise<{ encode: number; reconstruct: number } | undefined> {
  let native: any;
  try {
    // Optional: not a dependency of the project (see the top of this file). A native
    // addon (.node) loads through require, not import.
    native = createRequire(import.meta.url)('@ronomon/reed-solomon');
  } catch {
    return undefined;
  }
  const context = native.create(k, m);
  const buffer = Buffer.alloc(k * o.shardBytes);
  randomFillSync(buffer);
  const parity = Buffer.alloc(m * o.shardBytes);
  const run = (sources: number, targets: number) =>
    new Promise<void>((resolve, reject) =>
      native.encode(context, sources, targets, buffer, 0, buffer.length, parity, 0, parity.length, (error: Error | undefined) => (error ? reject(error) : resolve())),
    );
  const allData = (1 << k) - 1;
  const allParity = ((1 << (k + m)) - 1) ^ allData;
  const timed = async (sources: number, targets: number) => {
    await run(sources, targets);
    const start = performance.now();
    let count = 0;
    while (performance.now() - start < o.seconds * 1000) {
      await run(sources, targets);
      count++;
    }
    return (count / ((performance.now() - start) / 1000)) * k * o.shardBytes;
  };
  // Encode: all data → all parity. Reconstruct: the first m data shards from the rest.
  const lost = (1 << m) - 1;
  const encode = await timed(allData, allParity);
  const reconstruct = await timed(((1 << (k + m)) - 1) ^ lost, lost);
  return { encode: encode / MB, reconstruct: reconstruct / MB };
}

const options = parse(process.argv.slice(2));
const rows: Row[] = [];
let baselineAvailable = true;
// Each code beside the native RS with the same data and parity shard counts (LRC(12,2,2):
// RS(12,4); XOR(10): RS(10,1)), losing as many data shards as the code can rebuild
// (LRC: one per local group, rebuilt from its group; XOR: one).
const benches = [
  { code: 'RS(10,4)', codec: createReedSolomon(10, 4), k: 10, parity: 4, lost: [0, 1, 2, 3], baseline: [10, 4] },
  { code: 'RS(17,3)', codec: createReedSolomon(17, 3), k: 17, parity: 3, lost: [0, 1, 2], baseline: [17, 3] },
  { code: 'LRC(12,2,2)', codec: createLrcCodec(12, 2, 2), k: 12, parity: 4, lost: [0, 6], baseline: [12, 4] },
  { code: 'XOR(10)', codec: createXorCodec(10), k: 10, parity: 1, lost: [0], baseline: [10, 1] },
] as const;
for (const b of benches) {
  const row = measure(b.code, b.codec as unknown as Codec, b.k, b.parity, [...b.lost], options);
  const baseline = await measureBaseline(b.baseline[0], b.baseline[1], options);
  if (baseline) {
    row.baselineEncodeMBps = baseline.encode;
    row.baselineReconstructMBps = baseline.reconstruct;
  } else baselineAvailable = false;
  rows.push(row);
}

// A large file on every core (worker threads, shards in shared memory) against one thread.
const fileBytes = options.shardBytes * 128;
const file = new Uint8Array(fileBytes);
randomFillSync(file);
const threads = Math.max(2, Math.min(8, availableParallelism()));
const timeEncode = async (n: number) => {
  await encodeParallel(file, 10, 4, { threads: n }); // warm up
  const start = performance.now();
  let runs = 0;
  while (performance.now() - start < options.seconds * 1000 * 2) {
    await encodeParallel(file, 10, 4, { threads: n });
    runs++;
  }
  return (runs * fileBytes) / ((performance.now() - start) / 1000) / MB;
};
const oneThread = await timeEncode(1);
const allThreads = await timeEncode(threads);

const f = (v: number | undefined) => (v === undefined ? 'n/a' : v.toFixed(0));
const ratio = (a: number, b: number | undefined) => (b === undefined ? 'n/a' : (a / b).toFixed(2));
const lines = [
  `machine: ${cpus().length} × ${cpus()[0]?.model}, Node ${process.version}, load average ${loadavg()[0]?.toFixed(2)}; shards of ${options.shardBytes} bytes, ${options.seconds} s a measurement, one core`,
  '',
  '| code | encode MB/s | reconstruct MB/s (data shards lost) | @ronomon/reed-solomon, same shard counts: encode / reconstruct MB/s | ratio encode / reconstruct | goal >= 0.33 |',
  '|---|---|---|---|---|---|',
  ...rows.map(
    (r) =>
      `| ${r.code} | ${f(r.encodeMBps)} | ${f(r.reconstructMBps)} | ${f(r.baselineEncodeMBps)} / ${f(r.baselineReconstructMBps)} | ${ratio(r.encodeMBps, r.baselineEncodeMBps)} / ${ratio(r.reconstructMBps, r.baselineReconstructMBps)} | ${r.baselineEncodeMBps === undefined ? 'no baseline' : r.encodeMBps / r.baselineEncodeMBps >= 1 / 3 ? 'met' : 'NOT MET'} |`,
  ),
];
lines.push('', `large file, RS(10,4), ${(fileBytes / MB).toFixed(0)} MB (split, encoded; encodeParallel): ${f(oneThread)} MB/s on 1 thread, ${f(allThreads)} MB/s on ${threads} (${(allThreads / oneThread).toFixed(2)}×)`);
if (!baselineAvailable) lines.push('', 'baseline unavailable: @ronomon/reed-solomon is not installed (see the top of bench/erasure.ts)');
process.stdout.write(`${lines.join('\n')}\n`);
