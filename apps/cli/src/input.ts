import { createReadStream } from 'node:fs';
import { MAX_DOCUMENT_BYTES, ProtocolError } from '@dmf/protocol';
import { CliError, EXIT } from './exit-codes.ts';

/**
 * Reads a whole document from a file, or standard input for `-` or no argument,
 * stopping past the protocol's document limit (so a huge input is refused, not loaded).
 * Unreadable → CliError (exit 2); too large → ProtocolError `json.too_large` (exit 1).
 */
export async function readInput(path: string | undefined, stdin: NodeJS.ReadableStream = process.stdin): Promise<Buffer> {
  const fromStdin = path === undefined || path === '-';
  if (fromStdin && (stdin as { isTTY?: boolean }).isTTY) {
    throw new CliError('no input: give a FILE or pipe a document into standard input', EXIT.usage);
  }
  const source = fromStdin ? stdin : createReadStream(path);
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of source) {
      const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
      size += buffer.length;
      if (size > MAX_DOCUMENT_BYTES) {
        if (!fromStdin) (source as ReturnType<typeof createReadStream>).destroy();
        throw new ProtocolError('json.too_large', `input is larger than ${MAX_DOCUMENT_BYTES} bytes`);
      }
      chunks.push(buffer);
    }
  } catch (cause) {
    if (cause instanceof ProtocolError) throw cause;
    const code = (cause as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a folder' : (cause as Error).message;
    throw new CliError(`cannot read ${path ?? 'standard input'}: ${reason}`, EXIT.usage, { cause });
  }
  return Buffer.concat(chunks);
}
