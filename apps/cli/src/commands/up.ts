import type { Command } from 'commander';
import { EXIT } from '../exit-codes.ts';
import { collect } from '../options.ts';
import { loadUpConfig, type UpFlags } from '../up/config.ts';

const STOP_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
/** A stop signal repeated within this time is the same request delivered twice. */
const REPEAT_GRACE_MS = 2_000;

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
    .option('--public-url <url>', 'https URL clients use to reach this node (env DMF_PUBLIC_URL; default https://<host>:<port>)')
    .option('--operator <token>', 'operator token (env DMF_OPERATOR; default local)')
    .option('--domain <name>', 'JetStream domain of this operator (env DMF_DOMAIN; default: the operator token)')
    .option('--region <name>', 'region in the node manifest (env DMF_REGION; default unspecified)')
    .option('--nats-url <url>', 'use this NATS instead of launching one (env DMF_NATS_URL)')
    .option('--redis-url <url>', 'use this Redis instead of launching one (env DMF_REDIS_URL)')
    .option('--leaf-remote <url>', 'federation hub the embedded nats-server joins as a leaf; repeatable (env DMF_LEAF_REMOTES)', collect)
    .option('--peer <op[@domain]>', 'peer whose ORIGIN stream FEDERATED sources; repeatable (env DMF_PEERS)', collect)
    .option('--operator-key <file>', "the operator's key file (dmf keygen): it signs the node manifest; set it before the first start (env DMF_OPERATOR_KEY)")
    .option('--bootstrap <url>', 'https URL of a bootstrap peer to join the federation through; repeatable (env DMF_BOOTSTRAP)', collect)
    .option('--allow-address <cidr>', 'let the verifying client reach this non-public range, e.g. 127.0.0.0/8 on one machine; repeatable (env DMF_ALLOW_ADDRESSES)', collect)
    .option('--trust-ca <file>', "PEM file of a CA trusted for peers' HTTPS; repeatable (env DMF_TRUST_CA)", collect)
    .option('--probe-interval <seconds>', 'seconds between two probes of a node seeking admission (env DMF_PROBE_INTERVAL; default 60)')
    .option('--probe-window <seconds>', 'seconds a node is observed before this node attests it (env DMF_PROBE_WINDOW; default 600)')
    .option('--snapshot-interval <seconds>', 'seconds between categorisation snapshots, 0 = only on request (env DMF_SNAPSHOT_INTERVAL; default 3600)')
    .option('--log-level <level>', 'fatal, error, warn, info, debug, trace or silent (env DMF_LOG_LEVEL; default info)')
    .option('--json', 'print {"event":"ready",...} and {"event":"stopped"} as JSON lines instead of the banner', false)
    .addHelpText(
      'after',
      '\nEnvironment only: DMF_TLS_CERT and DMF_TLS_KEY (PEM files) use the operator\'s certificate instead of a self-signed one;\n' +
        'DMF_METADATA_HEAD_CACHE_MB: memory for current manifests served from RAM (0 = off; default min(2048, a quarter of RAM));\n' +
        'DMF_QUARANTINE: node ids (did:key, comma-separated) this operator quarantines;\n' +
        'DMF_RATE_LIMIT: requests per 10 seconds from one client subnet before 429 (default 1200);\n' +
        'spec 9.1 thresholds: DMF_CHURN_LIMIT (manifest versions of a node per hour, default 20), DMF_BAD_FINGERPRINT_LIMIT and\n' +
        'DMF_INVALID_METADATA_LIMIT (bad records a peer\'s log may carry, and 5% of it, default 20 each), DMF_NEW_NODES_PER_HOUR (default 20).\n' +
        'Every flag also has an environment variable (named in its description); flags win.',
    )
    .action(async (flags: UpFlags & { json: boolean }) => {
      const config = loadUpConfig(flags, process.env, process.cwd());
      const say = (line: string) => {
        if (!flags.json) process.stdout.write(`${line}\n`);
      };
      // Listen for a stop before starting anything, so Ctrl-C during start-up also
      // stops the servers already launched (they run in process groups of their own).
      const stop = new AbortController();
      let exitCode: number = EXIT.ok;
      // A server the node launched died: the node cannot work without it, so it stops.
      const onFatal = (description: string) => {
        process.stderr.write(`dmf: ${description}; stopping\n`);
        exitCode = EXIT.failed;
        stop.abort();
      };
      let firstSignalAt = 0;
      const onSignal = (signal: NodeJS.Signals) => {
        if (stop.signal.aborted) {
          // One Ctrl-C under `npm start` arrives twice: the terminal signals the whole
          // process group and npm forwards it again. Only a deliberate second one counts.
          if (Date.now() - firstSignalAt < REPEAT_GRACE_MS) return;
          process.stderr.write(`dmf: ${signal} again, exiting without waiting\n`);
          process.exit(EXIT.failed);
        }
        firstSignalAt = Date.now();
        say(`stopping (${signal})...`);
        stop.abort();
      };
      for (const signal of STOP_SIGNALS) process.on(signal, onSignal);

      // Loaded on use: the node's dependencies (Fastify, NATS, Redis) would slow every other command.
      const { runNode } = await import('../up/run-node.ts');
      const node = await runNode(config, say, stop.signal, onFatal);
      if (node) {
        if (flags.json) process.stdout.write(`${JSON.stringify({ event: 'ready', ...node.summary })}\n`);
        if (!stop.signal.aborted) await new Promise((resolve) => stop.signal.addEventListener('abort', resolve, { once: true }));
        const failed = await node.close();
        say(failed.length ? `stopped; could not close: ${failed.join(', ')}` : 'stopped');
      } else {
        say('stopped'); // interrupted while starting; what had started is stopped
      }
      if (flags.json) process.stdout.write(`${JSON.stringify({ event: 'stopped' })}\n`);
      // Everything is closed; a client library's reconnect timer must not keep the process alive.
      process.exit(exitCode);
    });
}
