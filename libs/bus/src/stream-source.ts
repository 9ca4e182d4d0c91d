/**
 * Reads the `Nats-Stream-Source` header that a stream adds to every message it sources.
 * On nats-server 2.9.10 (checked on the real server) the value is `<stream> <seq>` for a
 * source in the same domain and `<stream>:<hash of the API prefix> <seq>` for an
 * `external` one, e.g. `ORIGIN_opb:NhMByGMo 12`; later servers append more fields.
 *
 * The sourcing server writes it itself: a value a peer stored in its own ORIGIN is
 * replaced (tested), so it says truthfully which stream carried the message.
 */
import type { JsMsg } from '@nats-io/jetstream';
import { parseOriginStreamName } from '@dmf/streams';

export const STREAM_SOURCE_HEADER = 'Nats-Stream-Source';

/** The stream name and sequence of a `Nats-Stream-Source` value; `undefined` if malformed. */
export function parseStreamSource(value: string): { stream: string; sequence: number } | undefined {
  const [where, seq] = value.trim().split(/\s+/);
  if (!where || !seq) return undefined;
  const colon = where.indexOf(':');
  const stream = colon < 0 ? where : where.slice(0, colon);
  const sequence = Number(seq);
  if (stream === '' || !Number.isSafeInteger(sequence) || sequence < 1) return undefined;
  return { stream, sequence };
}

/** The operator whose ORIGIN stream `m` was sourced from, or `undefined`. */
export function sourceOperatorOf(m: Pick<JsMsg, 'headers'>): string | undefined {
  const value = m.headers?.get(STREAM_SOURCE_HEADER);
  const source = value ? parseStreamSource(value) : undefined;
  return source ? parseOriginStreamName(source.stream) : undefined;
}
