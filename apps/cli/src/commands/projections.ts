import { resolve } from 'node:path';
import type { Command } from 'commander';
import { CliError, EXIT } from '../exit-codes.ts';
import { readRunningNode } from '../node-info.ts';

interface ProjectionOptions {
  natsUrl?: string;
  operator?: string;
  data?: string;
  json: boolean;
}

/** Projections `dmf projections` knows how to rebuild and verify. */
const PROJECTIONS = ['metadata'] as const;

/**
 * Where the operator's NATS server is: a flag or variable, else the node running in the
 * data folder (its node.json).
 */
export async function resolveNats(options: { natsUrl?: string; operator?: string; data?: string }): Promise<{ natsUrl: string; operator: string }> {
  const env = process.env;
  const dataDir = resolve(process.cwd(), options.data ?? env.DMF_DATA_DIR ?? '.dmf');
  const node = await readRunningNode(dataDir);
  const natsUrl = options.natsUrl ?? env.DMF_NATS_URL ?? node?.nats;
  if (!natsUrl) {
    throw new CliError(`no NATS server: no node runs in ${dataDir}; start it (npm start), or pass --nats-url / set DMF_NATS_URL`, EXIT.failed);
  }
  const operator = options.operator ?? env.DMF_OPERATOR ?? node?.operator ?? 'local';
  return { natsUrl, operator };
}

function checkProjection(name: string): void {
  if (!(PROJECTIONS as readonly string[]).includes(name)) {
    throw new CliError(`projection: unknown projection ${JSON.stringify(name)} (known: ${PROJECTIONS.join(', ')})`, EXIT.usage);
  }
}

function common(command: Command): Command {
  return command
    .option('--nats-url <url>', 'NATS server of this operator (env DMF_NATS_URL; default: the node running in --data)')
    .option('--operator <token>', 'this operator\'s token (env DMF_OPERATOR; default: the running node\'s, else local)')
    .option('--data <dir>', 'data folder of a running `dmf up` (env DMF_DATA_DIR; default .dmf)')
    .option('--json', 'print the report as JSON', false);
}

async function withMaintenance<T>(
  options: ProjectionOptions,
  what: string,
  task: (m: typeof import('@dmf/metadata'), o: import('@dmf/metadata').MaintenanceOptions) => Promise<T>,
): Promise<T> {
  const { natsUrl, operator } = await resolveNats(options);
  const metadata = await import('@dmf/metadata');
  const { jetstream } = await import('@nats-io/jetstream');
  const { pino } = await import('pino');
  const { connectJetStream } = await import('../nats-connection.ts');
  const { nc, jsm } = await connectJetStream(natsUrl, `dmf projections ${what}`);
  try {
    const logger = pino({ level: process.env.DMF_LOG_LEVEL ?? 'warn' }, pino.destination(2));
    return await task(metadata, { js: jetstream(nc), nc, jsm, operator, logger });
  } catch (error) {
    if (error instanceof metadata.MaintenanceError || error instanceof metadata.LeaseError) {
      throw new CliError(error.message, EXIT.failed, { cause: error });
    }
    throw error;
  } finally {
    await nc.close();
  }
}

export function registerProjections(program: Command): void {
  const projections = program
    .command('projections')
    .description('rebuild a projection from the log, or prove that a rebuild gives the live state (projections: metadata)');

  common(
    projections
      .command('rebuild')
      .argument('<projection>', `the projection: ${PROJECTIONS.join(', ')}`)
      .description(
        'drop the projection and apply the log again from sequence 1; a running node does it itself ' +
          '(and keeps serving), otherwise this command does; prints the new state digest',
      ),
  ).action(async (name: string, options: ProjectionOptions) => {
    checkProjection(name);
    const started = Date.now();
    const report = await withMaintenance(options, 'rebuild', (m, o) => m.rebuildMetadata(o));
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    process.stdout.write(
      options.json
        ? `${JSON.stringify({ ...report, seconds: Number(seconds) })}\n`
        : `rebuilt ${name} (by ${report.by === 'node' ? 'the running node' : 'this command'}) up to sequence ${report.position} in ${seconds} s: ` +
            `${report.digest.entries} entries, digest ${report.digest.digest}\n`,
    );
  });

  common(
    projections
      .command('verify')
      .argument('<projection>', `the projection: ${PROJECTIONS.join(', ')}`)
      .description(
        'replay the log into a scratch copy up to the live position and compare state digests; ' +
          'exit 0 when equal, 1 when they differ',
      ),
  ).action(async (name: string, options: ProjectionOptions) => {
    checkProjection(name);
    const report = await withMaintenance(options, 'verify', (m, o) => m.verifyMetadata(o));
    if (options.json) process.stdout.write(`${JSON.stringify(report)}\n`);
    else {
      process.stdout.write(
        `live     ${report.live.digest} (${report.live.entries} entries at sequence ${report.position})\n` +
          `rebuilt  ${report.rebuilt.digest} (${report.rebuilt.entries} entries)\n` +
          `${report.equal ? 'equal' : 'DIFFERENT: the live projection is not what the log gives; run dmf projections rebuild ' + name}\n`,
      );
    }
    if (!report.equal) throw new CliError('', EXIT.failed);
  });
}
