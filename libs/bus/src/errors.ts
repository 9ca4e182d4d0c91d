/** One field the server holds differently from the definition. */
export interface FieldDifference {
  /** Field name as in the definition (KV fields also name the stream field they map to). */
  field: string;
  expected: unknown;
  actual: unknown;
}

export type ReconcileErrorCode =
  /** The server accepted the create/update but reports a field we defined differently. */
  | 'field_not_applied'
  /** The server refused the create/update (e.g. a field that cannot change). */
  | 'refused'
  /** The server could not be asked (timeout, no JetStream). */
  | 'unreachable';

/** Applying a stream, consumer or KV definition failed. */
export class ReconcileError extends Error {
  override readonly name = 'ReconcileError';
  readonly code: ReconcileErrorCode;
  /** Which object: `stream`, `consumer` (`<stream>/<name>`) or `kv` (bucket). */
  readonly object: { kind: 'stream' | 'consumer' | 'kv'; name: string };
  /** Fields that differ, for `field_not_applied` (and for `refused`, what was asked). */
  readonly differences: readonly FieldDifference[];

  constructor(
    code: ReconcileErrorCode,
    object: { kind: 'stream' | 'consumer' | 'kv'; name: string },
    message: string,
    options: { cause?: unknown; differences?: readonly FieldDifference[] } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.object = object;
    this.differences = options.differences ?? [];
  }
}

export type PublishErrorCode =
  /** The record to publish is malformed (operator, kind, id, or id ≠ sha256(bytes)). */
  | 'invalid_record'
  /** The server did not store it (no stream, too large, stream full, timeout...). */
  | 'not_stored';

/** Publishing a record failed. Publishing again is safe: the msg-id deduplicates. */
export class PublishError extends Error {
  override readonly name = 'PublishError';
  readonly code: PublishErrorCode;
  /** In a bulk publish: index of the first record that failed. */
  readonly index: number | undefined;

  constructor(code: PublishErrorCode, message: string, options: { cause?: unknown; index?: number } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.index = options.index;
  }
}

/**
 * Thrown by a consumer-group handler for a message that can never be processed: the
 * group terminates it at once (no redelivery), counts and reports it.
 */
export class PermanentError extends Error {
  override readonly name = 'PermanentError';
  /** Short machine-readable reason, reported with the termination. */
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

export type ConsumerGroupErrorCode =
  /** The durable consumer does not exist or could not be asked. */
  | 'consumer_missing'
  | 'not_started'
  /** Used after close(), or a handler abandoned by a close() that stopped waiting. */
  | 'closed'
  /** An option is out of range, alone or against the consumer (maxDeliver, handlerTimeoutMs). */
  | 'invalid_options'
  /** A handler overran `handlerTimeoutMs` (the error its message is failed with). */
  | 'handler_timeout'
  /** A message came back beyond `maxDeliver` with no answer to its earlier deliveries. */
  | 'unanswered';

/** The consumer group could not start, was misused, or gave up on a handler. */
export class ConsumerGroupError extends Error {
  override readonly name = 'ConsumerGroupError';
  readonly code: ConsumerGroupErrorCode;

  constructor(code: ConsumerGroupErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
