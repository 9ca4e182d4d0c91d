/**
 * Publishing records into an operator's ORIGIN stream.
 *
 * A record goes to `dmf.origin.<op>.<kind>` with `Nats-Msg-Id: <op>.<record id>` and no
 * other header. Never a `Nats-Expected-*` header: on 2.9.10 a source that meets one
 * stalls for good (DESIGN.md), so rollback and ownership checks happen before publish.
 * The payload is the record's canonical JCS bytes, so record id = sha256(payload).
 */
import { hash } from 'node:crypto';
import type { JetStreamClient, PubAck } from '@nats-io/jetstream';
import { originSubject, recordMsgId } from '@dmf/streams';
import { PublishError } from './errors.ts';

/** A signed record, ready for the bus. */
export interface RecordToPublish {
  /** Token of the operator whose ORIGIN stream receives it (this node's operator). */
  operator: string;
  /** Record id: lowercase hex SHA-256 of `bytes`. */
  id: string;
  /** Record kind (`content_manifest`, ...): the last subject token. */
  kind: string;
  /** Canonical JCS bytes of the signed document. */
  bytes: Uint8Array;
}

/** Where the record is stored; `duplicate` when its msg-id was already in the window. */
export interface PublishedRecord {
  stream: string;
  seq: number;
  /** True when ORIGIN already held this record (within the duplicate window): not an error. */
  duplicate: boolean;
}

export interface PublishOptions {
  /** Wait this long for the server's acknowledgement. Default: the client's (5 s). */
  timeoutMs?: number;
  /** Check that `id` is sha256(bytes) before publishing. Default true. */
  checkId?: boolean;
}

export interface BulkPublishOptions extends PublishOptions {
  /** Publishes awaiting their acknowledgement at once. Default 1000. */
  window?: number;
}

function sha256Hex(bytes: Uint8Array): string {
  // The one-shot form skips a Hash object per record (~0.4 µs of ~1.2 µs for 1 KB).
  return hash('sha256', bytes, 'hex');
}

/** Subjects already built (and so validated), per operator and kind: the hot path of bulk publishing. */
const subjects = new Map<string, string>();

function subjectOf(operator: string, kind: string): string {
  const key = `${operator}\u0000${kind}`;
  let subject = subjects.get(key);
  if (subject === undefined) {
    subject = originSubject(operator, kind);
    if (subjects.size >= 1024) subjects.clear(); // a handful in practice; bounded anyway
    subjects.set(key, subject);
  }
  return subject;
}

/** Subject and msg-id of a record, validated; throws `PublishError('invalid_record')`. */
function addressOf(record: RecordToPublish, checkId: boolean, index?: number): { subject: string; msgID: string } {
  try {
    if (!(record.bytes instanceof Uint8Array) || record.bytes.length === 0) {
      throw new Error('bytes: must be a non-empty Uint8Array');
    }
    const subject = subjectOf(record.operator, record.kind);
    const msgID = recordMsgId(record.operator, record.id);
    if (checkId && sha256Hex(record.bytes) !== record.id) {
      throw new Error(`id: ${record.id} is not the SHA-256 of the record bytes`);
    }
    return { subject, msgID };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    const where = index === undefined ? '' : `records[${index}]: `;
    throw new PublishError('invalid_record', `${where}${reason}`, { cause: error, index });
  }
}

function toPublished(ack: PubAck): PublishedRecord {
  return { stream: ack.stream, seq: ack.seq, duplicate: ack.duplicate };
}

function notStored(error: unknown, index?: number): PublishError {
  const reason = error instanceof Error ? error.message : String(error);
  const where = index === undefined ? '' : `records[${index}]: `;
  return new PublishError('not_stored', `${where}the server did not store the record: ${reason}`, { cause: error, index });
}

/** Publishes one record; a duplicate (same msg-id in the window) resolves with `duplicate: true`. */
export async function publishRecord(js: JetStreamClient, record: RecordToPublish, options: PublishOptions = {}): Promise<PublishedRecord> {
  const { subject, msgID } = addressOf(record, options.checkId ?? true);
  try {
    const ack = await js.publish(subject, record.bytes, options.timeoutMs === undefined ? { msgID } : { msgID, timeout: options.timeoutMs });
    return toPublished(ack);
  } catch (error) {
    throw notStored(error);
  }
}

/**
 * Publishes many records with up to `window` acknowledgements outstanding, and returns
 * their results in input order. On the first failure it stops sending, waits for the
 * publishes in flight, and throws a `PublishError` with the failed record's `index`.
 * Publishing the same records again is safe (duplicates are reported, not stored twice)
 * while the duplicate window lasts.
 */
export async function publishRecords(
  js: JetStreamClient,
  records: Iterable<RecordToPublish> | AsyncIterable<RecordToPublish>,
  options: BulkPublishOptions = {},
): Promise<PublishedRecord[]> {
  const window = options.window ?? 1000;
  if (!Number.isSafeInteger(window) || window < 1) {
    throw new PublishError('invalid_record', `window: ${String(window)} must be a positive integer`);
  }
  const checkId = options.checkId ?? true;
  const publishOptions = (msgID: string) => (options.timeoutMs === undefined ? { msgID } : { msgID, timeout: options.timeoutMs });
  const results: PublishedRecord[] = [];
  let inFlight = 0;
  let failure: PublishError | undefined;
  let wake: (() => void) | undefined;
  const settled = () => {
    inFlight--;
    const w = wake;
    wake = undefined;
    w?.();
  };
  const room = () => new Promise<void>((resolve) => (wake = resolve));

  let index = 0;
  /** Sends one record; false once sending must stop. */
  const send = (record: RecordToPublish): boolean => {
    if (failure) return false;
    const i = index++;
    let address: { subject: string; msgID: string };
    try {
      address = addressOf(record, checkId, i);
    } catch (error) {
      failure = error as PublishError;
      return false;
    }
    inFlight++;
    js.publish(address.subject, record.bytes, publishOptions(address.msgID)).then(
      (ack) => {
        results[i] = toPublished(ack);
        settled();
      },
      (error: unknown) => {
        if (!failure || (failure.index ?? Infinity) > i) failure = notStored(error, i);
        settled();
      },
    );
    return true;
  };
  // A plain loop for arrays and other sync iterables: `for await` would yield after
  // every record, and the client would then write each publish to the socket alone
  // instead of batching the writes (measured: about a third less throughput).
  if (Symbol.iterator in records) {
    for (const record of records) {
      if (!send(record)) break;
      while (inFlight >= window && !failure) await room();
    }
  } else {
    for await (const record of records) {
      if (!send(record)) break;
      while (inFlight >= window && !failure) await room();
    }
  }
  while (inFlight > 0) await room();
  if (failure) throw failure;
  return results;
}
