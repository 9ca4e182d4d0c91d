/** Record ids (PROTOCOL.md section 2). */
import { createHash } from 'node:crypto';
import { canonicalBytes } from './jcs.ts';

/** Lowercase hex SHA-256 of the JCS of the whole document, `signature` included. */
export function recordId(document: unknown): string {
  return createHash('sha256').update(canonicalBytes(document)).digest('hex');
}
