/**
 * `dmf storage agent|put|get|status`: run the reference storage agent, and store and
 * read files through a storage coordinator (apps/cli/src/storage/transfer.ts).
 */
import { readFile, stat, writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { CliError, EXIT } from '../exit-codes.ts';
import { collect } from '../options.ts';
import { printResult } from '../output.ts';
import type { AgentFlags } from '../agent/config.ts';
import { addClientOptions, clientOptionsFor, parseNodeUrl, type ClientFlags } from './client-flags.ts';

const STOP_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
const TIERS = ['hot', 'warm', 'long_tail'] as const;
type Tier = (typeof TIERS)[number];
type WireScheme = { type: 'rs'; k: number; m: number } | { type: 'lrc'; k: number; l: number; r: number } | { type: 'replication'; copies: number };

/** `rs:K:M`, `lrc:K:L:R`, `replication:C` as the wire format's scheme. */
export function parseWireScheme(raw: string): WireScheme {
  const [type, ...parts] = raw.split(':');
  const n = parts.map((x) => (/^[0-9]{1,3}$/.test(x) ? Number(x) : Number.NaN));
  if (!n.some(Number.isNaN)) {
    if (type === 'rs' && n.length === 2) return { type, k: n[0] as number, m: n[1] as number };
    if (type === 'lrc' && n.length === 3) return { type, k: n[0] as number, l: n[1] as number, r: n[2] as number };
    if (type === 'replication' && n.length === 1) return { type, copies: n[0] as number };
  }
  throw new CliError(`--scheme: ${JSON.stringify(raw)} is not rs:K:M, lrc:K:L:R or replication:C (whole numbers)`, EXIT.usage);
}

async function clientFor(coordinator: string, flags: ClientFlags) {
  const url = parseNodeUrl(coordinator);
  const { createClient } = await import('@dmf/client');
  // Shards are up to a chunk (4 MiB); reads and uploads get a minute.
  const options = await clientOptionsFor(url, flags, process.env, process.cwd());
  return { url: url.href.replace(/\/+$/, ''), client: createClient({ timeoutMs: 60_000, ...options, maxResponseBytes: 4 * 2 ** 20 + 2 ** 16 }) };
}

/** A transfer or client failure as one line (exit 1); anything else is a bug and propagates. */
async function oneLine<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof Error && ['TransferError', 'ClientError', 'ErasureError'].includes(error.name)) throw new CliError(error.message, EXIT.failed, { cause: error });
    throw error;
  }
}

export function registerStorageNodes(storage: Command): void {
  storage
    .command('agent')
    .description('run the reference storage agent: holds shards by CID on disk, serves them over HTTPS, audits itself, reports to its coordinators and executes repair tasks; Ctrl-C stops it')
    .option('--data <dir>', 'data folder: node key, TLS material, shards (env DMF_AGENT_DATA_DIR; default ./.dmf-agent)')
    .option('--host <address>', 'HTTPS interface (env DMF_AGENT_HOST; default 127.0.0.1)')
    .option('--port <n>', 'HTTPS port (env DMF_AGENT_PORT; default 9443)')
    .option('--public-url <url>', 'https URL peers reach this agent at (env DMF_AGENT_PUBLIC_URL; default https://<host>:<port>)')
    .option('--region <name>', 'region in the node manifest (env DMF_AGENT_REGION; default unspecified)')
    .option('--capacity <bytes>', 'bytes offered for shards, e.g. 100GiB (env DMF_AGENT_CAPACITY; required)')
    .option('--coordinator <url>', 'https URL of a DMF node coordinating storage; repeatable (env DMF_AGENT_COORDINATORS; required)', collect)
    .option('--allow-address <cidr>', 'let the verifying client reach this non-public range, e.g. 127.0.0.0/8; repeatable (env DMF_ALLOW_ADDRESSES)', collect)
    .option('--trust-ca <file>', "PEM file of a CA trusted for coordinators' and peers' HTTPS; repeatable (env DMF_TRUST_CA)", collect)
    .option('--audit-interval <seconds>', 'seconds between two self-audits (re-hash of every shard) (env DMF_AGENT_AUDIT_INTERVAL; default 3600)')
    .option('--log-level <level>', 'fatal, error, warn, info, debug, trace or silent (env DMF_LOG_LEVEL; default info)')
    .action(async (flags: AgentFlags) => {
      const { loadAgentConfig } = await import('../agent/config.ts');
      const config = loadAgentConfig(flags, process.env, process.cwd());
      const { runAgent } = await import('../agent/run-agent.ts');
      const agent = await runAgent(config, (line) => process.stdout.write(`${line}\n`));
      await new Promise<void>((resolve) => {
        for (const signal of STOP_SIGNALS) process.once(signal, () => resolve());
      });
      process.stdout.write('stopping...\n');
      const failed = await agent.close();
      process.stdout.write(failed.length ? `stopped; could not close: ${failed.join(', ')}\n` : 'stopped\n');
      process.exit(failed.length ? EXIT.failed : EXIT.ok);
    });

  addClientOptions(
    storage
      .command('put')
      .description('store FILE through a storage coordinator: cut into chunks of at most 4 MiB, each erasure-coded, assigned and uploaded to the holders it places; prints each chunk\'s CID and group')
      .argument('<file>', 'the file to store')
      .requiredOption('--coordinator <url>', 'https URL of the coordinating DMF node')
      .option('--tier <tier>', 'popularity tier: hot, warm or long_tail (default warm)', 'warm')
      .option('--scheme <code>', "rs:K:M, lrc:K:L:R or replication:C (default: the tier's, hot rs:8:8, warm rs:10:4, long_tail rs:17:3)")
      .option('--json', 'print {"file_cid", "size", "chunks": [{chunk, size, group, holders}]} as JSON', false),
  ).action(async (file: string, options: ClientFlags & { coordinator: string; tier: string; scheme?: string; json: boolean }) => {
    if (!(TIERS as readonly string[]).includes(options.tier)) throw new CliError(`--tier: ${JSON.stringify(options.tier)} is not one of ${TIERS.join(', ')}`, EXIT.usage);
    const tier = options.tier as Tier;
    const { DEFAULT_TIER_SCHEMES, schemeProblem } = await import('@dmf/storage-coordinator/domain');
    const scheme = options.scheme ? parseWireScheme(options.scheme) : DEFAULT_TIER_SCHEMES[tier];
    const problem = schemeProblem(scheme);
    if (problem) throw new CliError(`--scheme: ${problem}`, EXIT.usage);
    let data: Uint8Array;
    try {
      if ((await stat(file)).isDirectory()) throw new CliError(`<file>: ${file} is a folder, not a file`, EXIT.usage);
      data = await readFile(file);
    } catch (error) {
      if (error instanceof CliError) throw error;
      throw new CliError(`<file>: cannot read ${file}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`, EXIT.usage);
    }
    if (data.length === 0) throw new CliError(`<file>: ${file} is empty; there is nothing to store`, EXIT.usage);
    const { chunksOf, putChunk } = await import('../storage/transfer.ts');
    const { cidOfBytes } = await import('@dmf/protocol');
    const { url, client } = await clientFor(options.coordinator, options);
    try {
      const stored = [];
      for (const chunk of chunksOf(data)) stored.push(await oneLine(() => putChunk(client, url, chunk, tier, scheme)));
      const result = { file_cid: cidOfBytes(data), size: data.length, chunks: stored };
      printResult(
        options.json,
        result,
        [`stored ${data.length} bytes in ${stored.length} chunk(s), ${options.scheme ?? `${tier} tier`}`, ...stored.map((c) => `${c.chunk} group ${c.group} on ${c.holders.length} holders`)].join('\n'),
      );
    } finally {
      await client.close();
    }
  });

  addClientOptions(
    storage
      .command('get')
      .description('read chunks back through a storage coordinator: fetch enough shards (each checked against its CID), rebuild, check each chunk\'s CID, and write them in order to FILE')
      .argument('<chunk-cid...>', 'the chunks\' CIDs, in order (as dmf storage put printed them)')
      .requiredOption('--coordinator <url>', 'https URL of the coordinating DMF node')
      .requiredOption('--out <file>', 'file to write (replaced)'),
  ).action(async (cids: string[], options: ClientFlags & { coordinator: string; out: string }) => {
    const { CID_RAW_SHA256_PATTERN } = await import('@dmf/protocol');
    for (const cid of cids) if (!new RegExp(CID_RAW_SHA256_PATTERN).test(cid)) throw new CliError(`<chunk-cid>: ${JSON.stringify(cid)} is not a CIDv1 raw sha2-256 (bafkrei...)`, EXIT.usage);
    const { getChunk } = await import('../storage/transfer.ts');
    const { url, client } = await clientFor(options.coordinator, options);
    try {
      const parts: Uint8Array[] = [];
      for (const cid of cids) parts.push(await oneLine(() => getChunk(client, url, cid)));
      await writeFile(options.out, Buffer.concat(parts));
      process.stdout.write(`wrote ${parts.reduce((n, p) => n + p.length, 0)} bytes to ${options.out}\n`);
    } finally {
      await client.close();
    }
  });

  addClientOptions(
    storage
      .command('status')
      .description("print a chunk's erasure group, condition (healthy, degraded, lost), each shard's holder and standing, and its repair job")
      .argument('<chunk-cid>', "the chunk's CID")
      .requiredOption('--coordinator <url>', 'https URL of the coordinating DMF node')
      .option('--json', 'print the coordinator\'s answer as JSON', false),
  ).action(async (cid: string, options: ClientFlags & { coordinator: string; json: boolean }) => {
    const { chunkStatusAt } = await import('../storage/transfer.ts');
    const { url, client } = await clientFor(options.coordinator, options);
    try {
      const answer = await oneLine(() => chunkStatusAt(client, url, cid));
      const s = answer.status;
      const repair = answer.repair as { state?: string; attempts?: number } | null;
      printResult(
        options.json,
        answer,
        [
          `${s.chunk}: ${s.condition} (${s.effective} effective live shards, repair at ${s.repair_threshold} or fewer), group ${s.group} seq ${s.seq}`,
          ...s.shards.map((x) => `  shard ${x.shard} ${x.standing.padEnd(7)} ${x.node}`),
          `  repair: ${repair ? `${repair.state} after ${repair.attempts} attempt(s)` : 'none queued'}`,
        ].join('\n'),
      );
    } finally {
      await client.close();
    }
  });
}
