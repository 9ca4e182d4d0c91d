import type { Command } from 'commander';
import { EXPIRING_KINDS, canonicalBytes, readKeyFile, signDocument, type DocumentKind } from '@dmf/protocol';
import { CliError, EXIT } from '../exit-codes.ts';
import { protocolFailure, readDocument } from '../documents.ts';
import { parseDuration, parseTimestamp, parseSeq } from '../values.ts';

interface SignOptions {
  key: string;
  seq?: string;
  issuedAt?: string;
  expiresAt?: string;
  expiresIn: string;
  compact: boolean;
}

export function registerSign(program: Command): void {
  program
    .command('sign')
    .description('sign a document with a key file and print it (fills issued_at, seq, expires_at and signature)')
    .argument('[input]', 'the unsigned (or previously signed) JSON document; - or nothing for stdin')
    .requiredOption('--key <file>', 'private key file from `dmf keygen`')
    .option('--seq <n>', 'version order of this document (integer >= 1); default: the input\'s seq, else 1')
    .option('--issued-at <time>', 'RFC 3339 UTC time with milliseconds; default: now')
    .option('--expires-at <time>', 'for expiring kinds; default: the input\'s, else issued_at + --expires-in')
    .option('--expires-in <duration>', 'validity of expiring kinds when no expires_at is given (e.g. 12h, 7d)', '7d')
    .option('--compact', 'print the canonical (JCS) form on one line instead of indented JSON', false)
    .action(async (input: string | undefined, options: SignOptions) => {
      const seq = options.seq === undefined ? undefined : parseSeq('--seq', options.seq);
      const issuedAt = options.issuedAt === undefined ? new Date() : parseTimestamp('--issued-at', options.issuedAt);
      const expiresIn = parseDuration('--expires-in', options.expiresIn);
      const expiresAt = options.expiresAt === undefined ? undefined : parseTimestamp('--expires-at', options.expiresAt);
      const key = await loadKey(options.key);
      const document = await readDocument(input);

      const unsigned: Record<string, unknown> = { ...document, issued_at: issuedAt.toISOString() };
      delete unsigned.signature;
      if (seq !== undefined) unsigned.seq = seq;
      else if (unsigned.seq === undefined) unsigned.seq = 1;
      if (EXPIRING_KINDS.has(unsigned.kind as DocumentKind)) {
        // An unsigned input's expires_at is the author's; a re-signed document gets a
        // fresh validity from the new issued_at, as its old expiry no longer fits.
        const keepGiven = unsigned.expires_at !== undefined && document.signature === undefined;
        if (expiresAt) unsigned.expires_at = expiresAt.toISOString();
        else if (!keepGiven) unsigned.expires_at = new Date(issuedAt.getTime() + expiresIn).toISOString();
      }
      let signed: Record<string, unknown>;
      try {
        // Checked as of its issued_at (so a back-dated document can be signed), but never
        // as of a future time: a document dated ahead is refused as verify would refuse it.
        const checkAt = Math.min(issuedAt.getTime(), Date.now());
        signed = signDocument(unsigned, key, { now: new Date(checkAt) }) as Record<string, unknown>;
      } catch (error) {
        throw protocolFailure(error);
      }
      process.stdout.write(options.compact ? `${canonicalLine(signed)}\n` : `${JSON.stringify(signed, null, 2)}\n`);
    });
}

async function loadKey(path: string) {
  try {
    return await readKeyFile(path);
  } catch (cause) {
    throw new CliError(`--key: ${(cause as Error).message}`, EXIT.usage, { cause });
  }
}

function canonicalLine(document: Record<string, unknown>): string {
  return new TextDecoder().decode(canonicalBytes(document));
}
