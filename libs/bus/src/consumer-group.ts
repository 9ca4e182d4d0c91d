/**
 * A consumer group: N worker processes share one durable pull consumer, and the server
 * splits the messages between them. Each process runs one `ConsumerGroup`.
 *
 * Per message: the handler runs; when it resolves, the message is acknowledged (and the
 * server confirms the ack) — never before. When it throws, the message is delivered
 * again later (nak with a growing delay), until it has been delivered `max_deliver`
 * times; then it is terminated. A handler that throws `PermanentError` gets its message
 * terminated at once. Every termination is counted, logged (record id + reason) and
 * passed to `onTerminated`: nothing is retried forever, nothing disappears unreported.
 *
 * Pulling is bounded: a process never holds more than `concurrency` unacknowledged
 * messages, so a killed worker strands at most that many until `ack_wait` expires, and
 * the rest of the group keeps working (see DESIGN.md on `max_ack_pending`).
 */
import type { Consumer, JetStreamClient, JsMsg } from '@nats-io/jetstream';
import { ClosedConnectionError } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import { parseRecordMsgId } from '@dmf/streams';
import { ConsumerGroupError, PermanentError } from './errors.ts';
import { defaultLogger } from './logger.ts';

/** What a handler receives. */
export interface GroupMessage {
  subject: string;
  /** The record's bytes (canonical JCS). */
  data: Uint8Array;
  /** Record id from `Nats-Msg-Id` (`<op>.<id>`), when the message carries one. */
  recordId: string | undefined;
  /** Operator token from `Nats-Msg-Id`, when the message carries one. */
  msgIdOperator: string | undefined;
  /** Sequence in the stream the consumer reads. */
  streamSequence: number;
  /** 1 on first delivery. */
  deliveryCount: number;
  /**
   * When the stream the consumer reads stored the message. Projections verify a record
   * as of this time, so that replaying the log later gives the same result (an expired
   * manifest was valid when it was accepted).
   */
  storedAt: Date;
  /** The raw message, for headers; do not ack it yourself. */
  msg: JsMsg;
}

/** A message the group gave up on. */
export interface Termination {
  recordId: string | undefined;
  subject: string;
  streamSequence: number;
  deliveryCount: number;
  /** `permanent:<code>` for a `PermanentError`, `max_deliver` when deliveries ran out. */
  reason: string;
  error: unknown;
}

export interface ConsumerGroupStats {
  /** Messages received from the server (redeliveries included). */
  received: number;
  /** Handler resolved and the server confirmed the ack. */
  acked: number;
  /** Handler threw a transient error; the message comes back later. */
  retried: number;
  /** Given up: `PermanentError` or `max_deliver` reached. */
  terminated: number;
  /** Handler resolved but the ack was not confirmed: the message may come back (handlers are idempotent). */
  ackFailures: number;
  /** Handlers running now. */
  inFlight: number;
}

export interface ConsumerGroupOptions {
  /** JetStream client of the server holding the stream. */
  js: JetStreamClient;
  /** Stream the durable consumer reads (e.g. `FEDERATED_<op>`). */
  stream: string;
  /** Durable consumer name; it must exist (`applyDefinitions` creates it). */
  consumer: string;
  /** Processes one message. Resolve → ack; throw → retry; throw `PermanentError` → terminate. */
  handler: (message: GroupMessage) => Promise<void>;
  /** Messages handled at once by this process; also the most it holds unacknowledged. Default 16. */
  concurrency?: number;
  /** Largest pull request (messages). Default: `concurrency`. */
  batch?: number;
  /**
   * How long one pull waits for messages. close() waits for the pull under way to end,
   * so this bounds how long close() takes on an idle stream. Default 2000 ms (min 1000).
   */
  pullExpiresMs?: number;
  /** Delay before the first retry; doubles per delivery. Default 500 ms. */
  retryDelayMs?: number;
  /** Longest retry delay. Default 30 000 ms. */
  maxRetryDelayMs?: number;
  /**
   * Deliveries after which a failing message is terminated. Default: the consumer's
   * `max_deliver` (5 if the consumer has none). `ack_wait` is the consumer's, set by its
   * definition in `@dmf/streams`.
   */
  maxDeliver?: number;
  /** Called for every terminated message, after the termination was sent. */
  onTerminated?: (termination: Termination) => void;
  /** Default: a pino logger `{ sub: 'consumer-group' }`. */
  logger?: Logger;
}

export interface ConsumerGroup {
  /** Checks the consumer exists, then starts pulling. */
  start(): Promise<void>;
  /** Stops pulling, waits for running handlers and their acks, then returns. Safe twice. */
  close(): Promise<void>;
  stats(): ConsumerGroupStats;
}

const DEFAULT_MAX_DELIVER = 5;

export function createConsumerGroup(options: ConsumerGroupOptions): ConsumerGroup {
  const o = { ...options };
  const concurrency = o.concurrency ?? 16;
  const batch = Math.min(o.batch ?? concurrency, concurrency);
  const pullExpiresMs = Math.max(o.pullExpiresMs ?? 2000, 1000);
  const retryDelayMs = o.retryDelayMs ?? 500;
  const maxRetryDelayMs = o.maxRetryDelayMs ?? 30_000;
  const log = (o.logger ?? defaultLogger()).child({ sub: 'consumer-group', stream: o.stream, consumer: o.consumer });
  if (!Number.isSafeInteger(concurrency) || concurrency < 1) {
    throw new RangeError(`concurrency: ${String(o.concurrency)} must be a positive integer`);
  }

  const counters = { received: 0, acked: 0, retried: 0, terminated: 0, ackFailures: 0 };
  const running = new Set<Promise<void>>();
  let maxDeliver = o.maxDeliver ?? DEFAULT_MAX_DELIVER;
  let consumer: Consumer | undefined;
  let loop: Promise<void> | undefined;
  let closing = false;
  let closed: Promise<void> | undefined;
  let slotFreed: (() => void) | undefined;

  const freeSlot = () => {
    const wake = slotFreed;
    slotFreed = undefined;
    wake?.();
  };

  async function terminate(m: JsMsg, message: GroupMessage, reason: string, error: unknown): Promise<void> {
    // No reason string: 2.9.10 ignores `+TERM <reason>` and redelivers (reason came in 2.10.4).
    m.term();
    counters.terminated++;
    log.warn(
      { recordId: message.recordId, seq: message.streamSequence, deliveries: message.deliveryCount, reason, err: error },
      'message terminated: it will not be delivered again',
    );
    try {
      o.onTerminated?.({
        recordId: message.recordId,
        subject: message.subject,
        streamSequence: message.streamSequence,
        deliveryCount: message.deliveryCount,
        reason,
        error,
      });
    } catch (callbackError) {
      log.error({ err: callbackError }, 'onTerminated threw');
    }
  }

  async function handle(m: JsMsg): Promise<void> {
    const msgId = m.headers?.get('Nats-Msg-Id');
    const parsed = msgId ? parseRecordMsgId(msgId) : undefined;
    const message: GroupMessage = {
      subject: m.subject,
      data: m.data,
      recordId: parsed?.id,
      msgIdOperator: parsed?.operator,
      streamSequence: m.info.streamSequence,
      deliveryCount: m.info.deliveryCount,
      storedAt: new Date(Math.floor(m.info.timestampNanos / 1e6)),
      msg: m,
    };
    try {
      await o.handler(message);
    } catch (error) {
      if (error instanceof PermanentError) {
        await terminate(m, message, `permanent:${error.code}`, error);
      } else if (message.deliveryCount >= maxDeliver) {
        await terminate(m, message, 'max_deliver', error);
      } else {
        const delay = Math.min(retryDelayMs * 2 ** (message.deliveryCount - 1), maxRetryDelayMs);
        m.nak(delay);
        counters.retried++;
        log.debug({ recordId: message.recordId, seq: message.streamSequence, delay, err: error }, 'handler failed; retrying later');
      }
      return;
    }
    try {
      await m.ackAck();
      counters.acked++;
    } catch (error) {
      counters.ackFailures++;
      log.warn({ recordId: message.recordId, seq: message.streamSequence, err: error }, 'ack not confirmed; the message may be delivered again');
    }
  }

  function dispatch(m: JsMsg): void {
    counters.received++;
    const p: Promise<void> = handle(m)
      .catch((error: unknown) => log.error({ err: error }, 'message handling failed'))
      .finally(() => {
        running.delete(p);
        freeSlot();
      });
    running.add(p);
  }

  async function pullLoop(c: Consumer): Promise<void> {
    // Pull again once half the slots (or a full batch) are free: bigger pulls, fewer requests.
    const refillAt = Math.max(1, Math.min(batch, Math.ceil(concurrency / 2)));
    while (!closing) {
      const room = concurrency - running.size;
      if (room < refillAt) {
        await new Promise<void>((resolve) => (slotFreed = resolve));
        continue;
      }
      try {
        const messages = await c.fetch({ max_messages: Math.min(batch, room), expires: pullExpiresMs });
        // Every message of this pull is handled, even when close() was called meanwhile:
        // stopping a pull half-way would strand delivered messages until ack_wait.
        for await (const m of messages) dispatch(m);
      } catch (error) {
        if (closing) break;
        if (error instanceof ClosedConnectionError) {
          log.error('connection closed under the consumer group; it stops pulling (close the group before the connection)');
          break;
        }
        log.warn({ err: error }, 'pull failed; pulling again shortly');
        await new Promise((resolve) => setTimeout(resolve, Math.min(pullExpiresMs, 1000)));
      }
    }
  }

  return {
    async start() {
      if (closing) throw new ConsumerGroupError('closed', `consumer ${o.stream}/${o.consumer}: start() after close()`);
      if (loop) return;
      let info;
      try {
        consumer = await o.js.consumers.get(o.stream, o.consumer);
        info = await consumer.info(true);
      } catch (error) {
        throw new ConsumerGroupError('consumer_missing', `consumer ${o.stream}/${o.consumer}: not found or not reachable; apply the stream definitions first`, {
          cause: error,
        });
      }
      if (o.maxDeliver === undefined) {
        maxDeliver = info.config.max_deliver && info.config.max_deliver > 0 ? info.config.max_deliver : DEFAULT_MAX_DELIVER;
      }
      log.info({ concurrency, batch, maxDeliver }, 'consumer group worker started');
      loop = pullLoop(consumer);
    },

    close() {
      if (closed) return closed;
      closing = true;
      freeSlot();
      closed = (async () => {
        await loop;
        while (running.size > 0) await Promise.allSettled([...running]);
        log.info({ ...counters }, 'consumer group worker closed');
      })();
      return closed;
    },

    stats() {
      return { ...counters, inFlight: running.size };
    },
  };
}
