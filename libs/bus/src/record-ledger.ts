/**
 * The record ledger: a small, real projection that proves the plumbing. It reads an
 * operator's FEDERATED stream through a consumer group, verifies every record itself
 * (records from peers never passed our adapter), and writes
 * `record id → { kind, first_origin }` into a KV bucket with `kv.create()`, so a record
 * that arrives twice (two operators accepted it, or a redelivery) is projected once.
 *
 * Invalid records are acknowledged, counted against the operator whose ORIGIN carried
 * them (the `Nats-Stream-Source` header, written by our own server), and never projected
 * (DESIGN.md, data-flow rule 1).
 */
import { createHash } from 'node:crypto';
import { JetStreamApiCodes, JetStreamApiError, type JetStreamClient } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import type { Logger } from 'pino';
import { declaredSigner, ProtocolError, verifyBytes, type VerifyBytesOptions } from '@dmf/protocol';
import { federatedStreamName, projectionBucketName, projectionConsumerName, RECORD_LEDGER } from '@dmf/streams';
import { createConsumerGroup, type ConsumerGroupOptions, type ConsumerGroupStats, type GroupMessage } from './consumer-group.ts';
import { defaultLogger } from './logger.ts';
import { checkEnvelope, checkVerifiedEnvelope } from './record-envelope.ts';

/** What the ledger stores per record id. */
export interface LedgerEntry {
  kind: string;
  /** Operator token of the ORIGIN stream the record first arrived from. */
  first_origin: string;
}

export interface RecordLedgerStats {
  /** Records written to the ledger (first arrival). */
  projected: number;
  /** Records already in the ledger (second operator, redelivery): nothing written. */
  duplicates: number;
  /** Records refused by verification or transport checks, acknowledged, not projected. */
  invalid: number;
  /** Invalid records per carrying operator (the ORIGIN they were sourced from; `unknown` if none). */
  invalidByOrigin: Record<string, number>;
  /**
   * Invalid records per reason: a `ProtocolError` code, or `source` (not sourced from an
   * ORIGIN), `subject` (not `dmf.origin.<op>.<kind>`), `foreign_subject` (the subject names
   * another operator than the ORIGIN that carried it), `kind_mismatch`, `msg_id`.
   */
  invalidByReason: Record<string, number>;
  group: ConsumerGroupStats;
}

export interface RecordLedgerOptions {
  js: JetStreamClient;
  /** The operator whose FEDERATED stream is projected (this node's operator). */
  operator: string;
  /**
   * Options passed to `verifyBytes` for every record. Default: none. `now` is always
   * the time FEDERATED stored the record (see GroupMessage.storedAt).
   */
  verify?: VerifyBytesOptions;
  /** Consumer-group tuning (concurrency, batch, retries...). */
  group?: Omit<Partial<ConsumerGroupOptions>, 'js' | 'stream' | 'consumer' | 'handler' | 'logger'>;
  /** Default: a pino logger `{ sub: 'record-ledger' }`. */
  logger?: Logger;
}

export interface RecordLedger {
  start(): Promise<void>;
  /** Drains in-flight records, then stops. Safe twice. */
  close(): Promise<void>;
  stats(): RecordLedgerStats;
  /** The ledger's bucket (after start()). */
  readonly kv: KV | undefined;
}

export function createRecordLedger(options: RecordLedgerOptions): RecordLedger {
  const o = { ...options };
  const log = (o.logger ?? defaultLogger()).child({ sub: 'record-ledger', operator: o.operator });
  const bucket = projectionBucketName(RECORD_LEDGER, o.operator);
  const counts = { projected: 0, duplicates: 0, invalid: 0 };
  const invalidByOrigin: Record<string, number> = {};
  const invalidByReason: Record<string, number> = {};
  let kv: KV | undefined;

  function countInvalid(origin: string, reason: string, detail: unknown): void {
    counts.invalid++;
    invalidByOrigin[origin] = (invalidByOrigin[origin] ?? 0) + 1;
    invalidByReason[reason] = (invalidByReason[reason] ?? 0) + 1;
    log.warn({ origin, reason, err: detail }, 'invalid record acknowledged, not projected');
  }

  /** Why a message is not a record we can project, or the entry to write (checks: ./record-envelope.ts). */
  function check(message: GroupMessage): { invalid: { origin: string; reason: string; detail?: unknown } } | { id: string; entry: LedgerEntry } {
    const envelope = checkEnvelope(message);
    if (!envelope.ok) return { invalid: { origin: envelope.origin, reason: envelope.reason } };
    const { origin } = envelope;
    let verified: { kind: string; id: string; canonical?: boolean };
    try {
      // As of the time the record was stored, so a replay decides as the live run did.
      // A service manifest's rightful key depends on its node's history, which the ledger
      // does not keep: its signature is checked against the key it names (the federation
      // registry judges the key).
      const nodePublicKey = o.verify?.nodePublicKey ?? (() => declaredSigner(message.data));
      verified = verifyBytes(message.data, { ...o.verify, nodePublicKey, now: message.storedAt, reportCanonical: true });
    } catch (error) {
      if (error instanceof ProtocolError) return { invalid: { origin, reason: error.code, detail: error } };
      throw error;
    }
    const broken = checkVerifiedEnvelope(message, origin, envelope.kind, verified);
    if (broken) return { invalid: { origin, reason: broken } };
    // Records travel in their canonical bytes; the same record re-encoded is someone's replay.
    if (verified.canonical === false) return { invalid: { origin, reason: 'not_canonical' } };
    return { id: verified.id, entry: { kind: verified.kind, first_origin: origin } };
  }

  async function project(message: GroupMessage): Promise<void> {
    const checked = check(message);
    if ('invalid' in checked) {
      countInvalid(checked.invalid.origin, checked.invalid.reason, checked.invalid.detail);
      return;
    }
    try {
      await (kv as KV).create(checked.id, JSON.stringify(checked.entry));
      counts.projected++;
    } catch (error) {
      // kv.create is a compare-and-set (the bucket is not sourced, so that is safe on
      // 2.9.10): "wrong last sequence" means the record is already in the ledger.
      if (error instanceof JetStreamApiError && error.code === JetStreamApiCodes.StreamWrongLastSequence) {
        counts.duplicates++;
        return;
      }
      throw error;
    }
  }

  const group = createConsumerGroup({
    ...o.group,
    js: o.js,
    stream: federatedStreamName(o.operator),
    consumer: projectionConsumerName(RECORD_LEDGER),
    handler: project,
    logger: o.logger ?? defaultLogger(),
  });

  return {
    async start() {
      kv ??= await new Kvm(o.js).open(bucket);
      await group.start();
    },
    close: () => group.close(),
    stats() {
      return { ...counts, invalidByOrigin: { ...invalidByOrigin }, invalidByReason: { ...invalidByReason }, group: group.stats() };
    },
    get kv() {
      return kv;
    },
  };
}

/** Every entry of a ledger bucket, read in one pass over its stream. */
export async function readLedger(kv: KV): Promise<Map<string, LedgerEntry>> {
  const entries = new Map<string, LedgerEntry>();
  const history = await kv.history();
  for await (const e of history) {
    if (e.operation !== 'PUT') continue;
    entries.set(e.key, e.json<LedgerEntry>());
  }
  return entries;
}

/**
 * SHA-256 over the sorted `id kind` lines of a ledger. `first_origin` is left out: it
 * depends on arrival order, which differs between operators, while the set of records
 * and their kinds must not.
 */
export function ledgerDigest(entries: ReadonlyMap<string, LedgerEntry>): string {
  const hash = createHash('sha256');
  for (const id of [...entries.keys()].sort()) hash.update(`${id} ${(entries.get(id) as LedgerEntry).kind}\n`);
  return hash.digest('hex');
}
