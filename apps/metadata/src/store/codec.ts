/** JSON values of the metadata bucket: written and read in one place. */
import type { KvEntry } from '@nats-io/kv';
import type { ManifestHead } from '../domain/decide.ts';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeJson(value: unknown): Uint8Array {
  return encoder.encode(JSON.stringify(value));
}

const RECORD_MEMBER = encoder.encode(',"record":');
const CLOSING_BRACE = 0x7d;

/**
 * A head's JSON, its signed record spliced in as the JSON text it arrived as (the
 * projector verified that text, so it is valid JSON of the same document) rather than
 * stringified again: re-encoding the record was most of the projector thread's encoding
 * time. The record goes last; without the text, the whole head is stringified.
 */
export function encodeHead(head: ManifestHead, recordJson?: Uint8Array): Uint8Array {
  if (!recordJson) return encodeJson(head);
  const { record: _record, ...rest } = head;
  const front = encoder.encode(JSON.stringify(rest)); // an object: ends with `}`
  const out = new Uint8Array(front.length - 1 + RECORD_MEMBER.length + recordJson.length + 1);
  out.set(front.subarray(0, front.length - 1), 0);
  out.set(RECORD_MEMBER, front.length - 1);
  out.set(recordJson, front.length - 1 + RECORD_MEMBER.length);
  out[out.length - 1] = CLOSING_BRACE;
  return out;
}

/** The entry's JSON value, or undefined for a missing, deleted or purged key. */
export function decodeEntry<T>(entry: KvEntry | null): T | undefined {
  if (!entry || entry.operation !== 'PUT') return undefined;
  return JSON.parse(decoder.decode(entry.value)) as T;
}

export function decodeJson<T>(bytes: Uint8Array): T {
  return JSON.parse(decoder.decode(bytes)) as T;
}

export const EMPTY = new Uint8Array(0);
