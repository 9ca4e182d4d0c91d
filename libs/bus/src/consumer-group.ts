/**
 * A consumer group: N worker processes share one durable pull consumer, and the server
 * splits the messages between them. Each process runs one `ConsumerGroup`.
 *
 * Per message: the handler runs; when it resolves, the message is acknowledged (and the
 * server confirms the ack) — never before. When it throws or overruns its deadline, the
 * message is delivered again later (nak with a growing delay), until it has been handled
 * `maxDeliver` times; then it is terminated. A handler that throws `PermanentError` gets
 * its message terminated at once. Every termination is counted, logged (record id +
 * reason) and passed to `onTerminated`: nothing is retried forever, nothing disappears
 * unreported.
 *
 * The consumer's server-side `max_deliver` is one more than the group's limit (the
 * definitions in `@dmf/streams` set it so). A message whose handler killed or stalled
 * its worker on the last allowed delivery therefore comes back once more, and the group
 * terminates and reports it on that delivery without running the handler again —
 * instead of the server dropping it silently.
 *
 * Pulling is bounded: a process never runs more than `concurrency` handlers (counting
 * ones past their deadline, which still hold a slot until they return), so a killed
 * worker strands at most that many messages until `ack_wait` expires, and the rest of
 * the group keeps working (see DESIGN.md on `max_ack_pending`).
 */
import type { Consumer, JetStreamClient, JsMsg } from '@nats-io/jetstream';
import { ClosedConnectionError } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import { parseRecordMsgId } from '@dmf/streams';
import { ConsumerGroupError, PermanentError } from './errors.ts';
import { defaultLogger } from './logger.ts';
import { sourceOperatorOf } from './stream-source.ts';

/** What a handler receives. */
export interface GroupMessage {
  subject: string;
  /** The record's bytes (canonical JCS). */
  data: Uint8Array;
  /** Record id from `Nats-Msg-Id` (`<op>.<id>`), when the message carries one. */
  recordId: string | undefined;
  /** Operator token from `Nats-Msg-Id`, when the message carries one. */
  msgIdOperator: string | undefined;
  /**
   * Operator whose ORIGIN stream carried the message into the stream the consumer reads
   * (from `Nats-Stream-Source`, which the sourcing server writes); `undefined` when the
   * message was not sourced from an ORIGIN stream. Invalid records are charged to it.
   */
  sourceOperator: string | undefined;
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
  /**
   * Aborted when the handler's deadline passes or close() gives up waiting: the group
   * has then answered (or abandoned) the message, and the handler should stop.
   */
  signal: AbortSignal;
  /** The raw message, for headers; do not ack it yourself. */
  msg: JsMsg;
}

/** A message the group gave up on. */
export interface Termination {
  recordId: string | undefined;
  subject: string;
  streamSequence: number;
  deliveryCount: number;
  /**
   * `permanent:<code>` for a `PermanentError`; `max_deliver` when the handler failed
   * (threw or overran its deadline) on the last allowed delivery;
   * `max_deliver_unanswered` when the message came back beyond the limit because earlier
   * deliveries got no answer (the worker died or stalled) — the handler is not run again.
   */
  reason: string;
  error: unknown;
}

export interface ConsumerGroupStats {
  /** Messages received from the server (redeliveries included). */
  received: number;
  /** Handler resolved and the server confirmed the ack. */
  acked: number;
  /** Handler threw a transient error or overran its deadline; the message comes back later. */
  retried: number;
  /** Given up: `PermanentError`, or `maxDeliver` reached. */
  terminated: number;
  /** Handlers that overran their deadline (their message was answered as a failure). */
  timedOut: number;
  /** Handler resolved but the ack was not confirmed: the message may come back (handlers are idempotent). */
  ackFailures: number;
  /** Handlers running now (including any past their deadline). */
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
  /** Handlers run at once by this process; also the most messages it holds. Default 16. */
  concurrency?: number;
  /** Largest pull request (messages). Default: `concurrency`. */
  batch?: number;
  /**
   * How long one pull waits for messages. close() waits for the pull under way to end
   * (within `closeTimeoutMs`). Default 2000 ms (min 1000).
   */
  pullExpiresMs?: number;
  /** Delay before the first retry; doubles per delivery. Default 500 ms. */
  retryDelayMs?: number;
  /** Longest retry delay. Default 30 000 ms. */
  maxRetryDelayMs?: number;
  /**
   * Deliveries a message is handled before the group terminates it. Default: the
   * consumer's `max_deliver` − 1 (the definitions set `max_deliver` = limit + 1), or 5
   * when the consumer's `max_deliver` is unbounded. Must be below a bounded
   * `max_deliver`, or start() throws `invalid_options`: the extra delivery is what lets
   * the group report a message whose worker died on its last delivery.
   */
  maxDeliver?: number;
  /**
   * Deadline of one handler call. Past it the message counts as a failed delivery
   * (nak with delay, or terminated at the limit), `signal` is aborted, and the slot
   * stays taken until the handler returns. Must be below the consumer's `ack_wait`, so
   * that the group answers before the server hands the message to another worker.
   * Default: 80% of `ack_wait` (24 s with the default 30 s).
   */
  handlerTimeoutMs?: number;
  /**
   * How long close() waits for the pull under way and for running handlers to be
   * answered. Past it, close() aborts their signals, logs what is left unanswered (the
   * server delivers those again after `ack_wait`) and resolves. Default 8000 ms (inside
   * the 10 s a container runtime usually allows between SIGTERM and SIGKILL).
   */
  closeTimeoutMs?: number;
  /** Called for every terminated message, after the termination was sent. */
  onTerminated?: (termination: Termination) => void;
  /** Default: a pino logger `{ sub: 'consumer-group' }`. */
  logger?: Logger;
}

export interface ConsumerGroup {
  /** Checks the consumer and the options against it, then starts pulling. */
  start(): Promise<void>;
  /**
   * Stops pulling, waits (at most `closeTimeoutMs`) for running handlers to be answered,
   * then returns. Safe twice.
   */
  close(): Promise<void>;
  stats(): ConsumerGroupStats;
}

const DEFAULT_MAX_DELIVER = 5;
const DEFAULT_ACK_WAIT_MS = 30_000;
const HANDLER_DEADLINE_SHARE = 0.8;

function positiveInteger(field: string, value: number | undefined): void {
  if (value !== undefined && (!Number.isSafeInteger(value) || value < 1)) {
    throw new ConsumerGroupError('invalid_options', `${field}: ${String(value)} must be a positive integer`);
  }
}

export function createConsumerGroup(options: ConsumerGroupOptions): ConsumerGroup {
  const o = { ...options };
  const concurrency = o.concurrency ?? 16;
  const batch = Math.min(o.batch ?? concurrency, concurrency);
  const pullExpiresMs = Math.max(o.pullExpiresMs ?? 2000, 1000);
  const retryDelayMs = o.retryDelayMs ?? 500;
  const maxRetryDelayMs = o.maxRetryDelayMs ?? 30_000;
  const closeTimeoutMs = o.closeTimeoutMs ?? 8000;
  const log = (o.logger ?? defaultLogger()).child({ sub: 'consumer-group', stream: o.stream, consumer: o.consumer });
  positiveInteger('concurrency', o.concurrency);
  positiveInteger('maxDeliver', o.maxDeliver);
  positiveInteger('handlerTimeoutMs', o.handlerTimeoutMs);
  positiveInteger('closeTimeoutMs', o.closeTimeoutMs);

  const counters = { received: 0, acked: 0, retried: 0, terminated: 0, timedOut: 0, ackFailures: 0 };
  /** Slot holders: a message is held until it was answered and its handler returned. */
  const held = new Set<Promise<void>>();
  /** Messages not yet answered (acked, naked or terminated), by their stream sequence. */
  const unanswered = new Map<Promise<void>, number>();
  const controllers = new Set<AbortController>();
  let maxDeliver = o.maxDeliver ?? DEFAULT_MAX_DELIVER;
  let handlerTimeoutMs = o.handlerTimeoutMs ?? Math.floor(DEFAULT_ACK_WAIT_MS * HANDLER_DEADLINE_SHARE);
  let loop: Promise<void> | undefined;
  let closing = false;
  /** close() stopped waiting: messages that still arrive are handed back at once. */
  let abandoned = false;
  let closed: Promise<void> | undefined;
  let slotFreed: (() => void) | undefined;

  const freeSlot = () => {
    const wake = slotFreed;
    slotFreed = undefined;
    wake?.();
  };

  function terminate(m: JsMsg, message: GroupMessage, reason: string, error: unknown): void {
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

  function fail(m: JsMsg, message: GroupMessage, error: unknown): void {
    if (error instanceof PermanentError) {
      terminate(m, message, `permanent:${error.code}`, error);
    } else if (message.deliveryCount >= maxDeliver) {
      terminate(m, message, 'max_deliver', error);
    } else {
      const delay = Math.min(retryDelayMs * 2 ** (message.deliveryCount - 1), maxRetryDelayMs);
      m.nak(delay);
      counters.retried++;
      log.debug({ recordId: message.recordId, seq: message.streamSequence, delay, err: error }, 'handler failed; retrying later');
    }
  }

  async function ack(m: JsMsg, message: GroupMessage): Promise<void> {
    try {
      await m.ackAck();
      counters.acked++;
    } catch (error) {
      counters.ackFailures++;
      log.warn({ recordId: message.recordId, seq: message.streamSequence, err: error }, 'ack not confirmed; the message may be delivered again');
    }
  }

  /** Starts handling `m`: `answered` settles once the server has our answer, `settled` once the handler returned. */
  function handle(m: JsMsg): { answered: Promise<void>; settled: Promise<void> } {
    const controller = new AbortController();
    const msgId = m.headers?.get('Nats-Msg-Id');
    const parsed = msgId ? parseRecordMsgId(msgId) : undefined;
    const message: GroupMessage = {
      subject: m.subject,
      data: m.data,
      recordId: parsed?.id,
      msgIdOperator: parsed?.operator,
      sourceOperator: sourceOperatorOf(m),
      streamSequence: m.info.streamSequence,
      deliveryCount: m.info.deliveryCount,
      storedAt: new Date(Math.floor(m.info.timestampNanos / 1e6)),
      signal: controller.signal,
      msg: m,
    };
    if (message.deliveryCount > maxDeliver) {
      // The server's extra delivery: every allowed delivery ended without an answer
      // (worker killed, or stalled past ack_wait). Report it instead of running it again.
      const error = new ConsumerGroupError(
        'unanswered',
        `message ${message.streamSequence}: delivered ${message.deliveryCount} times, beyond maxDeliver ${maxDeliver}, with no answer to the earlier deliveries (a worker died or stalled)`,
      );
      terminate(m, message, 'max_deliver_unanswered', error);
      return { answered: Promise.resolve(), settled: Promise.resolve() };
    }

    controllers.add(controller);
    let timer: NodeJS.Timeout | undefined;
    let overran = false;
    const run = (async () => o.handler(message))();
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        overran = true;
        counters.timedOut++;
        const error = new ConsumerGroupError('handler_timeout', `message ${message.streamSequence}: handler still running after handlerTimeoutMs ${handlerTimeoutMs} ms`);
        controller.abort(error);
        reject(error);
      }, handlerTimeoutMs);
    });
    const answered = Promise.race([run, deadline]).then(
      () => ack(m, message),
      (error: unknown) => fail(m, message, error),
    );
    const settled = run
      .then(
        () => undefined,
        () => undefined,
      )
      .finally(() => {
        clearTimeout(timer);
        controllers.delete(controller);
        if (overran) log.warn({ recordId: message.recordId, seq: message.streamSequence }, 'handler returned after its deadline');
      });
    return { answered, settled };
  }

  function dispatch(m: JsMsg): void {
    counters.received++;
    if (abandoned) {
      // close() has returned: give it straight back rather than run it unobserved.
      m.nak();
      return;
    }
    const { answered, settled } = handle(m);
    const answer: Promise<void> = answered
      .catch((error: unknown) => log.error({ err: error }, 'answering a message failed'))
      .finally(() => unanswered.delete(answer));
    unanswered.set(answer, m.info.streamSequence);
    const slot: Promise<void> = Promise.allSettled([answer, settled]).then(() => {
      held.delete(slot);
      freeSlot();
    });
    held.add(slot);
  }

  async function pullLoop(c: Consumer): Promise<void> {
    // Pull again once half the slots (or a full batch) are free: bigger pulls, fewer requests.
    const refillAt = Math.max(1, Math.min(batch, Math.ceil(concurrency / 2)));
    while (!closing) {
      const room = concurrency - held.size;
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
        // Transient (a missed heartbeat under load, a server restart): the message says which; a stack would not help.
        log.warn({ err: (error as Error).message }, 'pull failed; pulling again shortly');
        await new Promise((resolve) => setTimeout(resolve, Math.min(pullExpiresMs, 1000)));
      }
    }
  }

  return {
    async start() {
      if (closing) throw new ConsumerGroupError('closed', `consumer ${o.stream}/${o.consumer}: start() after close()`);
      if (loop) return;
      let consumer: Consumer;
      let info;
      try {
        consumer = await o.js.consumers.get(o.stream, o.consumer);
        info = await consumer.info(true);
      } catch (error) {
        throw new ConsumerGroupError('consumer_missing', `consumer ${o.stream}/${o.consumer}: not found or not reachable; apply the stream definitions first`, {
          cause: error,
        });
      }
      const serverMaxDeliver = info.config.max_deliver ?? -1;
      const bounded = serverMaxDeliver > 0;
      maxDeliver = o.maxDeliver ?? (bounded ? serverMaxDeliver - 1 : DEFAULT_MAX_DELIVER);
      if (maxDeliver < 1 || (bounded && maxDeliver >= serverMaxDeliver)) {
        throw new ConsumerGroupError(
          'invalid_options',
          `consumer ${o.stream}/${o.consumer}: maxDeliver ${maxDeliver} must be at least 1 and below the consumer's max_deliver ${serverMaxDeliver}: ` +
            'the server must deliver once more than the group handles, or a message whose worker died on its last delivery is dropped unreported',
        );
      }
      const ackWaitMs = info.config.ack_wait ? info.config.ack_wait / 1e6 : DEFAULT_ACK_WAIT_MS;
      handlerTimeoutMs = o.handlerTimeoutMs ?? Math.floor(ackWaitMs * HANDLER_DEADLINE_SHARE);
      if (handlerTimeoutMs >= ackWaitMs) {
        throw new ConsumerGroupError(
          'invalid_options',
          `consumer ${o.stream}/${o.consumer}: handlerTimeoutMs ${handlerTimeoutMs} must be below the consumer's ack_wait ${ackWaitMs} ms, or the server hands a running message to another worker`,
        );
      }
      log.info({ concurrency, batch, maxDeliver, handlerTimeoutMs }, 'consumer group worker started');
      loop = pullLoop(consumer);
    },

    close() {
      if (closed) return closed;
      closing = true;
      freeSlot();
      closed = (async () => {
        const drained = (async () => {
          await loop;
          while (unanswered.size > 0) await Promise.allSettled([...unanswered.keys()]);
        })();
        let timer: NodeJS.Timeout | undefined;
        const gaveUp = await Promise.race([
          drained.then(() => false),
          new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), closeTimeoutMs))),
        ]);
        clearTimeout(timer);
        if (gaveUp) {
          abandoned = true;
          const reason = new ConsumerGroupError('closed', `consumer ${o.stream}/${o.consumer}: closed before the handler finished`);
          for (const c of controllers) c.abort(reason);
          log.warn(
            { unanswered: unanswered.size, seqs: [...unanswered.values()], closeTimeoutMs },
            'close() stopped waiting: these messages were not answered; the server delivers them again after ack_wait',
          );
        }
        if (controllers.size > 0) {
          log.warn({ running: controllers.size }, 'handlers still running after close() (past their deadline, or abandoned); their signals are aborted');
        }
        log.info({ ...counters }, 'consumer group worker closed');
      })();
      return closed;
    },

    stats() {
      return { ...counters, inFlight: controllers.size };
    },
  };
}
