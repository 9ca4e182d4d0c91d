import { ProtocolError, parseJson } from '@dmf/protocol';
import { CliError, EXIT } from './exit-codes.ts';
import { readInput } from './input.ts';

/**
 * Input bytes → a JSON object, under the protocol's value rules. Bytes that are not
 * JSON at all are unreadable input (CliError, exit 2); JSON that breaks a protocol rule
 * (duplicate key, non-integer number, not an object...) throws the ProtocolError, an
 * invalid document (exit 1 through protocolFailure).
 */
const UTF8_BOM = [0xef, 0xbb, 0xbf];

export function parseDocumentInput(bytes: Uint8Array): Record<string, unknown> {
  // Editors on some systems start files with a byte-order mark; it is not part of the
  // document (signatures cover the JCS form), so a file saved that way still reads.
  const text = UTF8_BOM.every((b, i) => bytes[i] === b) ? bytes.subarray(3) : bytes;
  let value: unknown;
  try {
    value = parseJson(text);
  } catch (error) {
    if (error instanceof ProtocolError && error.code !== 'json.syntax' && error.code !== 'json.encoding') throw error;
    throw new CliError(`input is not JSON: ${(error as Error).message}`, EXIT.usage, { cause: error });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ProtocolError('document.not_object', 'a signed document must be a JSON object', { path: '$' });
  }
  return value as Record<string, unknown>;
}

/** Reads input and parses it, for commands that only need the object: rule failures exit 1. */
export async function readDocument(path: string | undefined): Promise<Record<string, unknown>> {
  try {
    return parseDocumentInput(await readInput(path));
  } catch (error) {
    throw protocolFailure(error);
  }
}

/** A protocol rule failure as the one line `invalid <rule>: <path>: <reason>` (exit 1). */
export function protocolFailure(error: unknown): CliError {
  if (error instanceof ProtocolError) {
    return new CliError(`invalid ${error.message}`, EXIT.failed, { cause: error });
  }
  return error instanceof CliError ? error : new CliError((error as Error).message, EXIT.failed, { cause: error });
}
