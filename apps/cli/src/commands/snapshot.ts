import type { Command } from 'commander';
import { CliError, EXIT } from '../exit-codes.ts';
import { resolveNats } from './projections.ts';

interface SnapshotOptions {
  natsUrl?: string;
  operator?: string;
  data?: string;
  timeout: string;
  json: boolean;
}

export function registerSnapshot(program: Command): void {
  program
    .command('snapshot')
    .description(
      'ask the running node to publish a categorisation snapshot now (spec 3.1: per category, the count and the ' +
        'RFC 9162 Merkle root of the current manifests), wait for it, and print it',
    )
    .option('--nats-url <url>', 'NATS server of this operator (env DMF_NATS_URL; default: the node running in --data)')
    .option('--operator <token>', 'this operator\'s token (env DMF_OPERATOR; default: the running node\'s, else local)')
    .option('--data <dir>', 'data folder of a running `dmf up` (env DMF_DATA_DIR; default .dmf)')
    .option('--timeout <seconds>', 'longest wait for the node', '60')
    .option('--json', 'print the snapshot (every signed part) as JSON', false)
    .action(async (options: SnapshotOptions) => {
      if (!/^[1-9][0-9]{0,5}$/.test(options.timeout)) throw new CliError(`--timeout: ${JSON.stringify(options.timeout)} must be a whole number of seconds`, EXIT.usage);
      const { natsUrl, operator } = await resolveNats(options);
      const metadata = await import('@dmf/metadata');
      const { jetstream } = await import('@nats-io/jetstream');
      const { METADATA, projectionBucketName } = await import('@dmf/streams');
      const { connectJetStream } = await import('../nats-connection.ts');
      const { nc } = await connectJetStream(natsUrl, 'dmf snapshot');
      try {
        const kv = await metadata.openBucket(jetstream(nc), projectionBucketName(METADATA, operator));
        const snapshot = await metadata.requestSnapshot(kv, { timeoutMs: Number(options.timeout) * 1000 });
        if (options.json) {
          process.stdout.write(`${JSON.stringify({ ...snapshot, parts: snapshot.parts.map((p) => p.record) })}\n`);
          return;
        }
        const lines = [
          `snapshot seq ${snapshot.seq} by ${snapshot.node}: ${snapshot.stream} up to sequence ${snapshot.last_seq}, ${snapshot.categories.length} categories in ${snapshot.parts.length} part(s)`,
          ...snapshot.categories.map((c) => `  ${c.root}  ${String(c.count).padStart(8)}  ${c.category}`),
        ];
        process.stdout.write(`${lines.join('\n')}\n`);
      } catch (error) {
        if (error instanceof metadata.SnapshotError) throw new CliError(`${error.reason}`, EXIT.failed, { cause: error });
        throw error;
      } finally {
        await nc.close();
      }
    });
}
