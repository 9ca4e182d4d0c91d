/**
 * Definitions are plain data: what DMF asks nats-server for. Field names and units are
 * JetStream's own (snake_case, durations in nanoseconds, sizes in bytes, -1 for
 * "unlimited"), so a definition reads like `nats stream info` and the reconciler in
 * `@dmf/bus` can compare it with what the server reports field by field.
 *
 * Only nats-server 2.9 fields appear here: no multiple filter subjects, subject
 * transforms, metadata or compression (see streams/README.md).
 */

export type StorageType = 'file' | 'memory';
export type DiscardPolicy = 'old' | 'new';

/** One source of a stream. `external` is absent for a stream in the same domain. */
export interface StreamSourceSpec {
  name: string;
  /**
   * Only messages on these subjects are sourced (one filter; 2.9 has no multiple
   * filters on a source). For an ORIGIN source: that operator's own subjects, so a peer
   * that binds other operators' subjects in its ORIGIN cannot pass them on.
   */
  filter_subject: string;
  /** Cross-domain source: `api` is `$JS.<domain>.API`; `deliver` is always `''`. */
  external?: { api: string; deliver: string };
}

/** The stream fields DMF defines (and the reconciler checks). */
export interface StreamSpec {
  name: string;
  description: string;
  /** Subjects bound by this stream; empty for a stream that only sources. */
  subjects: string[];
  /** Streams sourced into this one; empty for an ORIGIN stream. */
  sources: StreamSourceSpec[];
  /** Logs are kept by limits, never by interest or work-queue retention. */
  retention: 'limits';
  storage: StorageType;
  discard: DiscardPolicy;
  max_msgs: number;
  max_bytes: number;
  /** Nanoseconds; 0 keeps messages forever. */
  max_age: number;
  max_msg_size: number;
  max_msgs_per_subject: number;
  /** Nanoseconds. */
  duplicate_window: number;
  num_replicas: number;
  allow_rollup_hdrs: boolean;
  deny_delete: boolean;
  deny_purge: boolean;
}

/** The consumer fields DMF defines (and the reconciler checks). Durable pull consumers only. */
export interface ConsumerSpec {
  durable_name: string;
  description: string;
  ack_policy: 'explicit';
  deliver_policy: 'all';
  replay_policy: 'instant';
  /** Nanoseconds before an unacknowledged message is delivered again. */
  ack_wait: number;
  /**
   * Deliveries before the server gives up on a message; never -1 (unbounded). One more
   * than the consumer group's limit: the group terminates and reports a message on
   * that last delivery instead of the server dropping it silently.
   */
  max_deliver: number;
  /** Unacknowledged messages the server lets out at once, across all workers. */
  max_ack_pending: number;
  /** Pull requests that may wait at once (one per worker process). */
  max_waiting: number;
  /** One subject filter (2.9 has no multiple filter subjects); absent for all subjects. */
  filter_subject?: string;
}

/** The KV bucket fields DMF defines. Stored in stream `KV_<bucket>`. */
export interface KvSpec {
  description: string;
  /** Values kept per key (the stream's `max_msgs_per_subject`). */
  history: number;
  max_bytes: number;
  /** Largest value (the stream's `max_msg_size`). */
  max_value_size: number;
  storage: StorageType;
  /** Nanoseconds; 0 keeps keys forever. Per-key TTL does not exist on 2.9. */
  max_age: number;
}

export interface StreamDefinition {
  kind: 'stream';
  name: string;
  config: StreamSpec;
}

export interface ConsumerDefinition {
  kind: 'consumer';
  /** The stream the consumer reads. */
  stream: string;
  name: string;
  config: ConsumerSpec;
}

export interface KvDefinition {
  kind: 'kv';
  /** Bucket name (its stream is `KV_<name>`). */
  name: string;
  config: KvSpec;
}

export type Definition = StreamDefinition | ConsumerDefinition | KvDefinition;
