/**
 * Creates or updates streams, KV buckets and consumers from their definitions, then
 * reads each back and fails loudly where the server did not take a field: nats-server
 * 2.9.10 accepts some fields on create/update and then ignores them (DESIGN.md).
 *
 * Idempotent: an object that already matches its definition is not touched and is
 * reported `unchanged`.
 */
import {
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamManager,
  type ConsumerConfig,
  type StorageType,
  type StreamConfig,
} from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { kvStreamName, type ConsumerDefinition, type Definition, type KvDefinition, type StreamDefinition } from '@dmf/streams';
import { ReconcileError, type FieldDifference } from '../errors.ts';
import { describeDifferences, diffConsumer, diffKv, diffStream, kvStreamUpdate } from './compare.ts';

export type ApplyAction = 'created' | 'updated' | 'unchanged';

/** What `applyDefinitions` did to one object. */
export interface ApplyReportEntry {
  kind: 'stream' | 'consumer' | 'kv';
  /** Stream name, bucket name, or `<stream>/<consumer>` for a consumer. */
  name: string;
  action: ApplyAction;
  /** For `updated`: the fields that differed before the update. */
  changed?: readonly FieldDifference[];
}

const KIND_ORDER = { stream: 0, kv: 1, consumer: 2 } as const;

function isNotFound(error: unknown, code: number): boolean {
  return error instanceof JetStreamApiError && error.code === code;
}

function refused(object: ReconcileError['object'], verb: string, error: unknown, differences: readonly FieldDifference[] = []): ReconcileError {
  const reason = error instanceof Error ? error.message : String(error);
  const what = differences.length > 0 ? ` (changing ${describeDifferences(differences)})` : '';
  return new ReconcileError(
    error instanceof JetStreamApiError ? 'refused' : 'unreachable',
    object,
    `${object.kind} ${object.name}: the server refused to ${verb} it: ${reason}${what}`,
    { cause: error, differences },
  );
}

function notApplied(object: ReconcileError['object'], differences: readonly FieldDifference[]): ReconcileError {
  return new ReconcileError(
    'field_not_applied',
    object,
    `${object.kind} ${object.name}: the server did not take the definition: ${describeDifferences(differences)}`,
    { differences },
  );
}

/** How to read, create and update one kind of object, and compare it with its definition. */
interface ObjectOps {
  object: ReconcileError['object'];
  /** The server's config, or `undefined` when the object does not exist. */
  read(): Promise<Record<string, unknown> | undefined>;
  create(): Promise<unknown>;
  update(): Promise<unknown>;
  diff(actual: Record<string, unknown>): FieldDifference[];
}

async function readOrMissing(read: () => Promise<{ config: unknown }>, notFoundCode: number): Promise<Record<string, unknown> | undefined> {
  try {
    return (await read()).config as Record<string, unknown>;
  } catch (error) {
    if (isNotFound(error, notFoundCode)) return undefined;
    throw error;
  }
}

async function applyOne(ops: ObjectOps): Promise<ApplyReportEntry> {
  const { object } = ops;
  const read = async () => {
    try {
      return await ops.read();
    } catch (error) {
      throw refused(object, 'describe', error);
    }
  };
  const current = await read();
  let action: ApplyAction;
  let changed: FieldDifference[] = [];
  if (current === undefined) {
    try {
      await ops.create();
    } catch (error) {
      throw refused(object, 'create', error);
    }
    action = 'created';
  } else {
    changed = ops.diff(current);
    if (changed.length === 0) {
      action = 'unchanged';
    } else {
      try {
        await ops.update();
      } catch (error) {
        throw refused(object, 'update', error, changed);
      }
      action = 'updated';
    }
  }
  // Read back even when nothing was sent: a server that lost a field is caught too.
  const after = await read();
  const left = after === undefined ? [{ field: '(object)', expected: 'present', actual: undefined }] : ops.diff(after);
  if (left.length > 0) throw notApplied(object, left);
  return action === 'updated' ? { ...object, action, changed } : { ...object, action };
}

function streamOps(jsm: JetStreamManager, def: StreamDefinition): ObjectOps {
  const { name: _name, ...update } = def.config as unknown as StreamConfig;
  return {
    object: { kind: 'stream', name: def.name },
    read: () => readOrMissing(() => jsm.streams.info(def.name), JetStreamApiCodes.StreamNotFound),
    create: () => jsm.streams.add({ ...def.config } as unknown as StreamConfig),
    update: () => jsm.streams.update(def.name, update),
    diff: (actual) => diffStream(def.config, actual),
  };
}

function consumerOps(jsm: JetStreamManager, def: ConsumerDefinition): ObjectOps {
  const config = { ...def.config } as unknown as ConsumerConfig;
  return {
    object: { kind: 'consumer', name: `${def.stream}/${def.name}` },
    read: () => readOrMissing(() => jsm.consumers.info(def.stream, def.name), JetStreamApiCodes.ConsumerNotFound),
    create: () => jsm.consumers.add(def.stream, config),
    update: () => jsm.consumers.update(def.stream, def.name, config),
    diff: (actual) => diffConsumer(def.config, actual),
  };
}

function kvOps(jsm: JetStreamManager, def: KvDefinition): ObjectOps {
  const streamName = kvStreamName(def.name);
  const c = def.config;
  return {
    object: { kind: 'kv', name: def.name },
    read: () => readOrMissing(() => jsm.streams.info(streamName), JetStreamApiCodes.StreamNotFound),
    // Created through the KV client so the bucket gets the stream layout it expects
    // (subjects, discard new, rollup headers, direct get).
    create: () =>
      new Kvm(jsm.jetstream()).create(def.name, {
        description: c.description,
        history: c.history,
        max_bytes: c.max_bytes,
        maxValueSize: c.max_value_size,
        storage: c.storage as StorageType,
        ttl: c.max_age / 1_000_000,
      }),
    update: () => jsm.streams.update(streamName, kvStreamUpdate(c)),
    diff: (actual) => diffKv(c, actual),
  };
}

/**
 * Applies `definitions` to the server behind `jsm`: streams first, then KV buckets, then
 * consumers (which need their streams). Stops at the first failure with a
 * `ReconcileError` naming the object and field; what was applied before stays applied
 * (applying again is safe).
 */
export async function applyDefinitions(jsm: JetStreamManager, definitions: readonly Definition[]): Promise<ApplyReportEntry[]> {
  const ordered = definitions
    .map((def, index) => ({ def, index }))
    .sort((a, b) => KIND_ORDER[a.def.kind] - KIND_ORDER[b.def.kind] || a.index - b.index);
  const report: ApplyReportEntry[] = [];
  for (const { def } of ordered) {
    switch (def.kind) {
      case 'stream':
        report.push(await applyOne(streamOps(jsm, def)));
        break;
      case 'kv':
        report.push(await applyOne(kvOps(jsm, def)));
        break;
      case 'consumer':
        report.push(await applyOne(consumerOps(jsm, def)));
        break;
    }
  }
  return report;
}
