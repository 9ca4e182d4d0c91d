/** JSON values of the metadata bucket: written and read in one place. */
import type { KvEntry } from '@nats-io/kv';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeJson(value: unknown): Uint8Array {
  return encoder.encode(JSON.stringify(value));
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
