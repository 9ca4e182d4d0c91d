import { stat } from 'node:fs/promises';
import type { Command } from 'commander';
import { generateSigningKey, writeKeyFile } from '@dmf/protocol';
import { CliError, EXIT } from '../exit-codes.ts';
import { printResult } from '../output.ts';

export function registerKeygen(program: Command): void {
  program
    .command('keygen')
    .description('create an Ed25519 key file (mode 0600) and print its did:key')
    .requiredOption('--out <file>', 'where to write the private key file')
    .option('--force', 'overwrite an existing key file', false)
    .option('--json', 'print {"did","file"} as JSON', false)
    .action(async (options: { out: string; force: boolean; json: boolean }) => {
      if ((await stat(options.out).catch(() => undefined))?.isDirectory()) {
        throw new CliError(`--out: ${options.out} is a folder; give the path of the key file to create`, EXIT.usage);
      }
      const key = generateSigningKey();
      try {
        await writeKeyFile(options.out, key, { overwrite: options.force });
      } catch (cause) {
        const code = (cause as { code?: string }).code;
        if (code === 'keyfile.exists' || code === 'EEXIST') throw new CliError(`${options.out} exists; pass --force to overwrite it`, EXIT.failed, { cause });
        throw new CliError(`cannot write ${options.out}: ${(cause as Error).message}`, EXIT.failed, { cause });
      }
      printResult(options.json, { did: key.did, file: options.out }, key.did);
    });
}
