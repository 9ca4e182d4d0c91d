/**
 * `dmf storage simulate` and `dmf storage durability`: the durability model of
 * @dmf/erasure (docs/durability.md) for operators choosing a code. Seeded: the same
 * seed and options print the same figures.
 */
import type { Command } from 'commander';
import { CliError, EXIT } from '../exit-codes.ts';
import { collect } from '../options.ts';
import { registerStorageNodes } from './storage-nodes.ts';

type SchemeModule = typeof import('@dmf/erasure');

/** `rs:K:M`, `lrc:K:L:R`, `xor:K`, `replication:C`. */
function parseScheme(erasure: SchemeModule, raw: string) {
  const [type, ...numbers] = raw.split(':');
  const n = numbers.map((x) => (/^[0-9]{1,3}$/.test(x) ? Number(x) : Number.NaN));
  const bad = (form: string) => new CliError(`--scheme: ${JSON.stringify(raw)} is not ${form}`, EXIT.usage);
  if (n.some(Number.isNaN)) throw bad('rs:K:M, lrc:K:L:R, xor:K or replication:C (whole numbers)');
  try {
    if (type === 'rs' && n.length === 2) return erasure.rsScheme(n[0] as number, n[1] as number);
    if (type === 'lrc' && n.length === 3) return erasure.lrcScheme(n[0] as number, n[1] as number, n[2] as number);
    if (type === 'xor' && n.length === 1) return erasure.xorScheme(n[0] as number);
    if (type === 'replication' && n.length === 1) return erasure.replicationScheme(n[0] as number);
  } catch (error) {
    throw new CliError(`--scheme: ${JSON.stringify(raw)}: ${(error as Error).message}`, EXIT.usage);
  }
  throw bad('rs:K:M, lrc:K:L:R, xor:K or replication:C');
}

function wholeNumber(field: string, raw: string | undefined, min: number, max: number): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^[0-9]{1,9}$/.test(raw) || Number(raw) < min || Number(raw) > max) throw new CliError(`${field}: ${JSON.stringify(raw)} must be a whole number from ${min} to ${max}`, EXIT.usage);
  return Number(raw);
}

function probability(field: string, raw: string): number {
  const p = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(p) || p < 0 || p > 1) throw new CliError(`${field}: ${JSON.stringify(raw)} must be a probability from 0 to 1`, EXIT.usage);
  return p;
}

export function registerStorage(program: Command): void {
  const storage = program.command('storage').description('storage: the reference storage agent, files in and out through a coordinator, chunk status, and the durability model (docs/storage.md, docs/durability.md)');
  registerStorageNodes(storage);

  storage
    .command('simulate')
    .description('run the seeded churn simulation for one or more codes and print loss, repair traffic, wasted repairs and placement skew')
    .requiredOption('--seed <n>', 'seed of the run (the same seed and options give the same figures)')
    .option('--scheme <code>', 'rs:K:M, lrc:K:L:R, xor:K or replication:C; repeatable (default rs:10:4, lrc:12:2:2 and replication:3)', collect)
    .option('--nodes <n>', 'nodes at the start (default 1000)')
    .option('--chunks <n>', 'chunks stored (default 1000)')
    .option('--periods <n>', 'periods simulated (default 100)')
    .option('--json', 'print one JSON result per code', false)
    .action(async (options: { seed: string; scheme?: string[]; nodes?: string; chunks?: string; periods?: string; json: boolean }) => {
      const erasure = await import('@dmf/erasure');
      const seed = wholeNumber('--seed', options.seed, 0, 2 ** 31) as number;
      const schemes = (options.scheme?.length ? options.scheme : ['rs:10:4', 'lrc:12:2:2', 'replication:3']).map((s) => parseScheme(erasure, s));
      const limits = erasure.SIMULATION_LIMITS;
      const sized = {
        ...(options.nodes ? { nodes: wholeNumber('--nodes', options.nodes, 1, limits.maxNodes) } : {}),
        ...(options.chunks ? { chunks: wholeNumber('--chunks', options.chunks, 1, limits.maxChunks) } : {}),
        ...(options.periods ? { periods: wholeNumber('--periods', options.periods, 1, limits.maxPeriods) } : {}),
      };
      const results = [];
      for (const scheme of schemes) {
        try {
          results.push(erasure.simulate({ seed, scheme, ...sized }));
        } catch (error) {
          if (error instanceof Error && error.name === 'ModelError') throw new CliError(error.message, EXIT.usage, { cause: error });
          throw error;
        }
      }
      if (options.json) {
        for (const r of results) process.stdout.write(`${JSON.stringify(r)}\n`);
        return;
      }
      process.stdout.write(`seed ${seed}\n| code | overhead | chunks lost | repairs | repair traffic (chunks) | wasted repairs | placement skew (max/mean) |\n|---|---|---|---|---|---|---|\n`);
      for (const r of results) {
        process.stdout.write(`| ${r.scheme} | ${r.storageOverhead.toFixed(2)}× | ${r.chunksLost} of ${r.chunks} | ${r.repairs} | ${r.repairTrafficChunks.toFixed(0)} | ${r.wastedRepairs} | ${r.placement.skew.toFixed(2)} |\n`);
      }
    });

  storage
    .command('durability')
    .description('closed form: the probability that a (k, n) code loses an object when each piece is lost with probability p')
    .requiredOption('--k <k>', 'pieces needed')
    .requiredOption('--n <n>', 'pieces stored')
    .requiredOption('--p <p>', 'probability that one piece is lost in the period (0 to 1)')
    .option('--model <model>', 'binomial (each piece lost independently with probability p) or poisson (the Storj v3 whitepaper\'s, section 3.4)', 'binomial')
    .option('--json', 'print {"loss","durability","nines"} as JSON', false)
    .action(async (options: { k: string; n: string; p: string; model: string; json: boolean }) => {
      const erasure = await import('@dmf/erasure');
      const k = wholeNumber('--k', options.k, 1, 255) as number;
      const n = wholeNumber('--n', options.n, 1, 255) as number;
      if (k > n) throw new CliError(`--k: ${k} is more than --n ${n}`, EXIT.usage);
      const p = probability('--p', options.p);
      if (options.model !== 'binomial' && options.model !== 'poisson') throw new CliError(`--model: ${JSON.stringify(options.model)} is not binomial or poisson`, EXIT.usage);
      const { loss, durability } = options.model === 'poisson' ? erasure.poissonLoss(k, n, p) : erasure.binomialLoss(k, n, p);
      const nines = erasure.nines(loss);
      if (options.json) process.stdout.write(`${JSON.stringify({ loss, durability, nines })}\n`);
      else process.stdout.write(`P(loss) = ${loss.toExponential(4)}  (durability ${durability}, ${nines.toFixed(1)} nines)\n`);
    });
}
