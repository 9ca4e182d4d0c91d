import { readFile } from 'node:fs/promises';
import { CliError, EXIT } from './exit-codes.ts';

/** Reads a whole file, or standard input for `-` or no argument. Unreadable → exit 2. */
export async function readInput(path: string | undefined, stdin: NodeJS.ReadableStream = process.stdin): Promise<Buffer> {
  if (path === undefined || path === '-') {
    if ((stdin as { isTTY?: boolean }).isTTY) {
      throw new CliError('no input: give a FILE or pipe a document into standard input', EXIT.usage);
    }
    const chunks: Buffer[] = [];
    for await (const chunk of stdin) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
    return Buffer.concat(chunks);
  }
  try {
    return await readFile(path);
  } catch (cause) {
    const reason = (cause as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (cause as Error).message;
    throw new CliError(`cannot read ${path}: ${reason}`, EXIT.usage, { cause });
  }
}
