import type { Command } from 'commander';
import type { ApplyReportEntry } from '@dmf/bus';
import { CliError, EXIT } from '../exit-codes.ts';
import { loadUpConfig } from '../up/config.ts';
import { collect } from '../options.ts';

interface ApplyOptions {
  natsUrl?: string;
  operator?: string;
  domain?: string;
  peer?: string[];
  json: boolean;
}

export function registerStreams(program: Command): void {
  const streams = program.command('streams').description('JetStream streams, consumers and KV buckets of this operator');
  streams
    .command('apply')
    .description(
      'create or update the ORIGIN and FEDERATED streams, projection consumers and KV buckets (idempotent), ' +
        'then read each back and fail where the server did not take a field',
    )
    .option('--nats-url <url>', 'NATS server of this operator (env DMF_NATS_URL)')
    .option('--operator <token>', 'this operator\'s token (env DMF_OPERATOR; default local)')
    .option('--domain <name>', 'this operator\'s JetStream domain (env DMF_DOMAIN; default: the operator token)')
    .option('--peer <op[@domain]>', 'a peer whose ORIGIN stream FEDERATED sources; repeatable (env DMF_PEERS)', collect)
    .option('--json', 'print the report as a JSON array', false)
    .action(async (options: ApplyOptions) => {
      const config = loadUpConfig(
        { natsUrl: options.natsUrl, operator: options.operator, domain: options.domain, peer: options.peer },
        process.env,
        process.cwd(),
      );
      if (!config.natsUrl) {
        throw new CliError('no NATS server given: pass --nats-url or set DMF_NATS_URL (`dmf up` applies the streams itself)', EXIT.usage);
      }
      // Loaded on use, so that commands without NATS start fast.
      const { applyDefinitions, ReconcileError } = await import('@dmf/bus');
      const { definitionsFor, DefinitionError } = await import('@dmf/streams');
      const { connectJetStream } = await import('../nats-connection.ts');
      let definitions;
      try {
        definitions = definitionsFor({ operator: config.operator, domain: config.domain, peers: config.peers });
      } catch (error) {
        if (error instanceof DefinitionError) throw new CliError(error.message, EXIT.usage, { cause: error });
        throw error;
      }
      const { nc, jsm } = await connectJetStream(config.natsUrl, 'dmf streams apply');
      try {
        const report = await applyDefinitions(jsm, definitions);
        process.stdout.write(options.json ? `${JSON.stringify(report)}\n` : report.map(describe).join('\n') + '\n');
      } catch (error) {
        if (error instanceof ReconcileError) throw new CliError(error.message, EXIT.failed, { cause: error });
        throw error;
      } finally {
        await nc.close();
      }
    });
}

function describe(entry: ApplyReportEntry): string {
  const changed = entry.changed?.length ? ` (${entry.changed.map((c) => c.field).join(', ')})` : '';
  return `${entry.action.padEnd(9)} ${entry.kind.padEnd(8)} ${entry.name}${changed}`;
}
