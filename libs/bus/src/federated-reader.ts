/**
 * Reading one operator's FEDERATED stream into a projection kept in memory (the
 * federation registry, storage coordination): one ordered consumer from sequence 1 at
 * every start, other kinds skipped by subject unparsed, and each record of the kinds
 * wanted checked as every projector must check what peers carried (DESIGN.md rule 1):
 * the envelope (carrier, subject, msg-id), the signature, the schema, the lifetime rules
 * as of the record's own issued_at (what is current is the projection's question), and
 * the canonical bytes (the same record re-encoded is a replay by someone else).
 *
 * Why not a consumer filter: nats-server 2.9.10 refuses one such as
 * `dmf.origin.*.node_manifest` on a stream whose only local source is filtered to
 * `dmf.origin.<own>.>` ("filter subject is not a valid subset").
 */
import type { JetStreamClient, JetStreamManager, JsMsg } from '@nats-io/jetstream';
import type { Logger } from 'pino';
import { checkFreshness, ProtocolError, verifyBytes, type VerifiedRecord } from '@dmf/protocol';
import { federatedStreamName, parseRecordMsgId } from '@dmf/streams';
import { OrderedFeed } from './ordered-feed.ts';
import { checkEnvelope, checkVerifiedEnvelope, type RecordEnvelope } from './record-envelope.ts';
import { sourceOperatorOf } from './stream-source.ts';

/** A checked message: the verified record and the operator whose ORIGIN carried it, or why it was refused. */
export type CheckedRecord = { ok: true; origin: string; record: VerifiedRecord } | { ok: false; origin: string; reason: string };

export interface CheckRecordOptions {
  /** The kinds accepted; another kind under a matching subject is refused (`kind_mismatch`). */
  kinds: readonly string[];
  /** The key a record's signature is checked with when its signer rule needs one (service manifests: the `kid` it names). */
  nodePublicKey?: (data: Uint8Array) => string | undefined;
}

/** The checks of the top of this file, for one message. Never throws for a bad record. */
export function checkRecordMessage(m: JsMsg, options: CheckRecordOptions): CheckedRecord {
  const msgId = m.headers?.get('Nats-Msg-Id');
  const parsedId = msgId ? parseRecordMsgId(msgId) : undefined;
  const envelope: RecordEnvelope = { subject: m.subject, sourceOperator: sourceOperatorOf(m), recordId: parsedId?.id, msgIdOperator: parsedId?.operator };
  const checked = checkEnvelope(envelope);
  if (!checked.ok) return checked;
  const { origin } = checked;
  try {
    const kid = options.nodePublicKey?.(m.data);
    const verified = verifyBytes(m.data, { freshness: false, nodePublicKey: () => kid, reportCanonical: true });
    const issued = (verified.document as { issued_at: string }).issued_at;
    checkFreshness(verified.document as { issued_at: string; expires_at?: string }, new Date(Date.parse(issued)));
    const mismatch = checkVerifiedEnvelope(envelope, origin, checked.kind, verified);
    if (mismatch) return { ok: false, origin, reason: mismatch };
    if (verified.canonical === false) return { ok: false, origin, reason: 'not_canonical' };
    if (!options.kinds.includes(verified.kind)) return { ok: false, origin, reason: 'kind_mismatch' };
    return { ok: true, origin, record: verified };
  } catch (error) {
    if (error instanceof ProtocolError) return { ok: false, origin, reason: error.code };
    return { ok: false, origin, reason: `error: ${(error as Error).message}` };
  }
}

export interface FederatedReaderOptions {
  js: JetStreamClient;
  jsm: JetStreamManager;
  /** Whose FEDERATED stream. */
  operator: string;
  /** Subjects read (others are skipped unparsed), e.g. `^dmf\.origin\.[^.]+\.(?:a|b)$`. */
  subjects: RegExp;
  /** Takes one message of a wanted subject; returns whether the projection changed. */
  apply: (m: JsMsg) => boolean;
  /** After each batch: whether any message changed the projection, and whether the replay at start is done. */
  afterBatch?: (changed: boolean, caughtUp: boolean) => void;
  /** Names the projection in logs. */
  name: string;
  logger: Logger;
}

export class FederatedReader {
  readonly #o: FederatedReaderOptions;
  #feed: OrderedFeed | undefined;
  #loop: Promise<void> | undefined;
  #closed = false;

  constructor(options: FederatedReaderOptions) {
    this.#o = options;
  }

  /** Starts reading; resolves once every record stored at start has been read. */
  async start(): Promise<void> {
    const stream = federatedStreamName(this.#o.operator);
    const lastAtStart = (await this.#o.jsm.streams.info(stream)).state.last_seq;
    this.#feed = new OrderedFeed(this.#o.js, stream, 1, { high: 4096, low: 1024 });
    let resolveReplayed!: () => void;
    const replayed = new Promise<void>((resolve) => (resolveReplayed = resolve));
    this.#loop = this.#read(this.#feed, lastAtStart, resolveReplayed);
    await this.#feed.start();
    await replayed;
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#feed?.close();
    await this.#loop?.catch(() => undefined);
  }

  async #read(feed: OrderedFeed, lastAtStart: number, replayed: () => void): Promise<void> {
    let caughtUp = lastAtStart === 0;
    if (caughtUp) replayed();
    while (!this.#closed) {
      await feed.wait();
      if (feed.ended) {
        if (feed.error && !this.#closed) this.#o.logger.error({ err: feed.error.message }, `${this.#o.name} feed ended`);
        replayed();
        return;
      }
      let changed = false;
      for (const m of feed.take(1024)) {
        if (this.#o.subjects.test(m.subject)) changed = this.#o.apply(m) || changed;
        if (!caughtUp && m.seq >= lastAtStart) {
          caughtUp = true;
          replayed();
        }
      }
      this.#o.afterBatch?.(changed, caughtUp);
    }
  }
}
