import { access, rename } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { generateSigningKey, writeKeyFile } from '@dmf/protocol';
import { CliError, EXIT } from '../exit-codes.ts';
import { printResult } from '../output.ts';
import { lockDataDir } from '../up/data-lock.ts';
import { serviceKeyFile } from '../up/node-identity.ts';

/**
 * Key rotation (issue 5): a new key for the node's service manifests. The node key
 * (its identity) stays; the next `dmf up` announces the new `public_key` in a new node
 * manifest and re-signs the service manifests with it. Peers then refuse service
 * manifests signed by the old key after the rotation, and keep those signed before.
 * Offline on purpose: the running node reads its keys once, at start.
 */
export function registerRotateServiceKey(program: Command): void {
  program
    .command('rotate-service-key')
    .description("give a stopped node a new key for its service manifests (its manifest's public_key); the next dmf up announces it")
    .option('--data <dir>', 'the node\'s data folder (env DMF_DATA_DIR; default ./.dmf)')
    .option('--json', 'print {"did","file"} as JSON', false)
    .action(async (options: { data?: string; json: boolean }) => {
      const dataDir = resolve(options.data ?? process.env.DMF_DATA_DIR ?? '.dmf');
      try {
        await access(join(dataDir, 'keys', 'node.key'));
      } catch {
        throw new CliError(`--data: ${dataDir} holds no node (no keys/node.key); start it once with dmf up first`, EXIT.usage);
      }
      // The running node would keep signing with the old key until restarted: refuse.
      const release = await lockDataDir(dataDir).catch((error: unknown) => {
        throw new CliError(`${(error as Error).message.replace(/; stop it first.*$/, '')}; stop it before rotating its service key`, EXIT.failed);
      });
      try {
        const file = serviceKeyFile(dataDir);
        const key = generateSigningKey();
        // Written beside, then moved over the old one: a crash leaves one whole key file.
        await writeKeyFile(`${file}.new`, key, { overwrite: true });
        await rename(`${file}.new`, file);
        printResult(options.json, { did: key.did, file }, `${key.did}\nnew service key in ${file}; the next dmf up announces it (node manifest seq + 1) and re-signs the service manifests`);
      } finally {
        await release();
      }
    });
}
