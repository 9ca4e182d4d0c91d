/**
 * `dmf erasure encode|decode`: the Reed–Solomon codec (@dmf/erasure, shard-compatible
 * with klauspost/reedsolomon and Backblaze) for operators, on files. Shards are named
 * by index (`0` … `K+M-1`, data shards first, the last data shard zero-padded), beside
 * `erasure.json`, which describes the scheme, the original length and every shard's
 * CID, so a decode can tell a damaged shard from a good one and check the result.
 */
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { CliError, EXIT } from '../exit-codes.ts';
import { printResult } from '../output.ts';

/** The description written beside the shards. */
interface ErasureDescription {
  scheme: 'rs';
  data_shards: number;
  parity_shards: number;
  /** Bytes of the original file. */
  length: number;
  shard_bytes: number;
  /** CIDv1 (raw, sha2-256) of the original file. */
  cid: string;
  /** CID of each shard, by index. */
  shards: string[];
}

const DESCRIPTION = 'erasure.json';

function count(field: string, raw: string, min: number): number {
  if (!/^[0-9]{1,3}$/.test(raw) || Number(raw) < min) throw new CliError(`${field}: ${JSON.stringify(raw)} must be a whole number, at least ${min}`, EXIT.usage);
  return Number(raw);
}

async function readInput(field: string, file: string): Promise<Uint8Array> {
  try {
    if ((await stat(file)).isDirectory()) throw new CliError(`${field}: ${file} is a folder, not a file`, EXIT.usage);
    return await readFile(file);
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError(`${field}: cannot read ${file}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`, EXIT.usage);
  }
}

/** The codec's refusals (ErasureError) as one line; anything else is a bug and propagates. */
function codecFailure(error: unknown): CliError {
  if (error instanceof Error && error.name === 'ErasureError') return new CliError(error.message, EXIT.failed, { cause: error });
  throw error;
}

export function registerErasure(program: Command): void {
  const erasure = program.command('erasure').description('Reed–Solomon erasure coding of files (shards compatible with klauspost/reedsolomon and Backblaze)');

  erasure
    .command('encode')
    .description('split FILE into K data shards and M parity shards, written to DIR as 0 … K+M-1 with erasure.json')
    .argument('<file>', 'the file to encode')
    .requiredOption('--out <dir>', 'folder for the shards (created; existing shard files are replaced)')
    .option('--scheme <scheme>', 'the code: rs (Reed–Solomon)', 'rs')
    .requiredOption('--data <k>', 'data shards (1 or more)')
    .requiredOption('--parity <m>', 'parity shards (0 or more; K+M at most 255)')
    .option('--json', 'print the description as JSON', false)
    .action(async (file: string, options: { out: string; scheme: string; data: string; parity: string; json: boolean }) => {
      if (options.scheme !== 'rs') throw new CliError(`--scheme: ${JSON.stringify(options.scheme)} is not available here (rs is)`, EXIT.usage);
      const k = count('--data', options.data, 1);
      const m = count('--parity', options.parity, 0);
      if (k + m > 255) throw new CliError(`--data/--parity: ${k} + ${m} = ${k + m} shards; at most 255`, EXIT.usage);
      const input = await readInput('<file>', file);
      const { encodeParallel } = await import('@dmf/erasure');
      const { cidOfBytes } = await import('@dmf/metadata');
      let shards: Uint8Array[];
      try {
        // Large files on every core (worker threads); small ones on this thread.
        shards = await encodeParallel(input, k, m);
      } catch (error) {
        throw codecFailure(error);
      }
      await mkdir(options.out, { recursive: true });
      const description: ErasureDescription = {
        scheme: 'rs',
        data_shards: k,
        parity_shards: m,
        length: input.length,
        shard_bytes: shards[0]?.length ?? 0,
        cid: cidOfBytes(input),
        shards: shards.map((s) => cidOfBytes(s)),
      };
      await Promise.all(shards.map((shard, i) => writeFile(join(options.out, String(i)), shard)));
      await writeFile(join(options.out, DESCRIPTION), `${JSON.stringify(description, null, 2)}\n`);
      printResult(options.json, description, `${k + m} shards of ${description.shard_bytes} bytes in ${options.out} (RS ${k}+${m}; any ${k} rebuild ${description.cid})`);
    });

  erasure
    .command('decode')
    .description('rebuild the file from any K good shards in DIR (named by index, with erasure.json)')
    .argument('<dir>', 'the folder written by dmf erasure encode')
    .requiredOption('--out <file>', 'where to write the rebuilt file')
    .option('--json', 'print {"cid","length","used","damaged","missing"} as JSON', false)
    .action(async (dir: string, options: { out: string; json: boolean }) => {
      const description = await readDescription(dir);
      const { createReedSolomon, joinShards } = await import('@dmf/erasure');
      const { cidOfBytes } = await import('@dmf/metadata');
      const k = description.data_shards;
      const n = k + description.parity_shards;
      const missing: number[] = [];
      const damaged: number[] = [];
      const shards = await Promise.all(
        Array.from({ length: n }, async (_, i) => {
          const bytes = await readFile(join(dir, String(i))).catch(() => undefined);
          if (!bytes) {
            missing.push(i);
            return null;
          }
          // A shard whose bytes do not match its CID is damaged: rebuilt, never trusted.
          if (bytes.length !== description.shard_bytes || cidOfBytes(bytes) !== description.shards[i]) {
            damaged.push(i);
            return null;
          }
          return new Uint8Array(bytes);
        }),
      );
      let output: Uint8Array;
      try {
        createReedSolomon(k, description.parity_shards).reconstructData(shards);
        output = joinShards(shards, k, description.length);
      } catch (error) {
        const failure = codecFailure(error);
        const why = [missing.length ? `missing ${missing.sort((a, b) => a - b).join(', ')}` : '', damaged.length ? `damaged ${damaged.sort((a, b) => a - b).join(', ')}` : ''].filter(Boolean).join('; ');
        throw new CliError(`${failure.message}${why ? ` (${why})` : ''}`, EXIT.failed, { cause: error });
      }
      const cid = cidOfBytes(output);
      if (cid !== description.cid) throw new CliError(`the rebuilt file's CID ${cid} is not ${description.cid} from ${DESCRIPTION}`, EXIT.failed);
      await writeFile(options.out, output);
      const used = n - missing.length - damaged.length;
      printResult(
        options.json,
        { cid, length: output.length, used, damaged: damaged.sort((a, b) => a - b), missing: missing.sort((a, b) => a - b) },
        `rebuilt ${options.out} (${output.length} bytes, ${cid}) from ${used} of ${n} shards${damaged.length ? `; damaged: ${damaged.join(', ')}` : ''}${missing.length ? `; missing: ${missing.join(', ')}` : ''}`,
      );
    });
}

async function readDescription(dir: string): Promise<ErasureDescription> {
  const file = join(dir, DESCRIPTION);
  let value: unknown;
  try {
    value = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file (not a folder written by dmf erasure encode?)' : (error as Error).message;
    throw new CliError(`<dir>: cannot read ${file}: ${reason}`, EXIT.usage);
  }
  const d = value as Partial<ErasureDescription>;
  const integer = (v: unknown, min: number) => typeof v === 'number' && Number.isSafeInteger(v) && v >= min;
  const ok =
    d.scheme === 'rs' &&
    integer(d.data_shards, 1) &&
    integer(d.parity_shards, 0) &&
    (d.data_shards as number) + (d.parity_shards as number) <= 255 &&
    integer(d.length, 0) &&
    integer(d.shard_bytes, 0) &&
    typeof d.cid === 'string' &&
    Array.isArray(d.shards) &&
    d.shards.length === (d.data_shards as number) + (d.parity_shards as number) &&
    d.shards.every((s) => typeof s === 'string');
  if (!ok) throw new CliError(`<dir>: ${file} is not an erasure description (scheme rs, data_shards, parity_shards, length, shard_bytes, cid, shards)`, EXIT.usage);
  return d as ErasureDescription;
}
