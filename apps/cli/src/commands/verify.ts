import type { Command } from 'commander';
import { ProtocolError, verifyDocument } from '@dmf/protocol';
import { CliError, EXIT } from '../exit-codes.ts';
import { readInput } from '../input.ts';
import { parseDocumentInput, protocolFailure, readDocument } from '../documents.ts';
import { parseTimestamp } from '../values.ts';

interface VerifyOptions {
  nodeManifest?: string;
  at?: string;
  json: boolean;
}

export function registerVerify(program: Command): void {
  program
    .command('verify')
    .description(
      'check a signed document against every protocol rule; prints `valid <kind> <record-id> <signer-did>` (exit 0) ' +
        'or one line naming the failing rule (exit 1); unreadable input or usage errors exit 2',
    )
    .argument('[input]', 'the signed JSON document; - or nothing for stdin')
    .option('--node-manifest <file>', 'for a service_manifest: the node manifest whose public_key must have signed it')
    .option('--at <time>', 'check freshness and expiry as of this RFC 3339 UTC time instead of now')
    .option('--json', 'print the result as one JSON object', false)
    .action(async (input: string | undefined, options: VerifyOptions) => {
      const now = options.at === undefined ? new Date() : parseTimestamp('--at', options.at);
      const nodePublicKey = options.nodeManifest ? await nodeKeyResolver(options.nodeManifest, now) : undefined;
      try {
        const verified = verifyDocument(parseDocumentInput(await readInput(input)), { now, nodePublicKey });
        const result = { valid: true, kind: verified.kind, id: verified.id, signer: verified.signer };
        process.stdout.write(
          options.json ? `${JSON.stringify(result)}\n` : `valid ${verified.kind} ${verified.id} ${verified.signer}\n`,
        );
      } catch (error) {
        if (options.json && error instanceof ProtocolError) {
          process.stdout.write(`${JSON.stringify({ valid: false, rule: error.code, path: error.path, reason: error.message })}\n`);
          throw new CliError('', EXIT.failed);
        }
        throw protocolFailure(error);
      }
    });
}

/** Reads and verifies a node manifest, and answers for its node_id with its public_key. */
async function nodeKeyResolver(path: string, now: Date): Promise<(nodeId: string) => string | undefined> {
  const manifest = await readDocument(path);
  try {
    const verified = verifyDocument(manifest, { now });
    if (verified.kind !== 'node_manifest') throw new CliError(`--node-manifest: ${path} is a ${verified.kind}, not a node_manifest`, EXIT.usage);
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError(`--node-manifest: ${path} is not a valid node manifest: ${(error as Error).message}`, EXIT.usage, { cause: error });
  }
  return (nodeId) => (nodeId === manifest.node_id ? String(manifest.public_key) : undefined);
}
