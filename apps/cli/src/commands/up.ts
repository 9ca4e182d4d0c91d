import type { Command } from 'commander';
import { EXIT } from '../exit-codes.ts';
import { loadUpConfig, type UpFlags } from '../up/config.ts';

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export function registerUp(program: Command): void {
  program
    .command('up')
    .description(
      'run a whole local DMF node: launches nats-server and redis-server unless URLs are configured, applies the streams, ' +
        'creates a node key and TLS certificate on first run, starts every role and serves HTTPS; Ctrl-C stops it all',
    )
    .option('--data <dir>', 'data folder (env DMF_DATA_DIR; default ./.dmf)')
    .option('--host <address>', 'HTTPS interface (env DMF_HOST; default 127.0.0.1)')
    .option('--port <n>', 'HTTPS port (env DMF_PORT; default 8443)')
    .option('--operator <token>', 'operator token (env DMF_OPERATOR; default local)')
    .option('--region <name>', 'region in the node manifest (env DMF_REGION; default unspecified)')
    .option('--nats-url <url>', 'use this NATS instead of launching one (env DMF_NATS_URL)')
    .option('--redis-url <url>', 'use this Redis instead of launching one (env DMF_REDIS_URL)')
    .option('--leaf-remote <url>', 'federation hub the embedded nats-server joins as a leaf; repeatable (env DMF_LEAF_REMOTES)', collect)
    .option('--peer <op[@domain]>', 'peer whose ORIGIN stream FEDERATED sources; repeatable (env DMF_PEERS)', collect)
    .option('--log-level <level>', 'fatal, error, warn, info, debug, trace or silent (env DMF_LOG_LEVEL; default info)')
    .action(async (flags: UpFlags) => {
      const config = loadUpConfig(flags, process.env, process.cwd());
      // Loaded on use: the node's dependencies (Fastify, NATS, Redis) would slow every other command.
      const { runNode } = await import('../up/run-node.ts');
      const node = await runNode(config, (line) => process.stdout.write(`${line}\n`));
      await new Promise<void>((resolve) => {
        let stopping = false;
        const stop = (signal: NodeJS.Signals) => {
          if (stopping) {
            process.stderr.write(`dmf: ${signal} again, exiting without waiting\n`);
            process.exit(EXIT.failed);
          }
          stopping = true;
          process.stdout.write(`stopping (${signal})...\n`);
          void node.close().then((failed) => {
            process.stdout.write(failed.length ? `stopped; could not close: ${failed.join(', ')}\n` : 'stopped\n');
            resolve();
          });
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
    });
}
