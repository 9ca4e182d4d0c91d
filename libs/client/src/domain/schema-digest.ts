/**
 * Schema pinning (spec 5.1 `schema`, PROTOCOL.md 4): a service manifest names its
 * OpenAPI document and the SHA-256 of its exact bytes; a document that hashes
 * differently is not the one the node signed for. Pure.
 */
import { createHash } from 'node:crypto';
import { ClientError } from '../errors.ts';

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Throws ClientError `schema.mismatch` unless `bytes` hash to `expected`. */
export function checkSchemaDigest(bytes: Uint8Array, expected: string, url: string): void {
  const actual = sha256Hex(bytes);
  if (actual !== expected) {
    throw new ClientError('schema.mismatch', url, `SHA-256 of the ${bytes.byteLength} bytes served is ${actual}, the service manifest pins ${expected}`);
  }
}
