import { describe, expect, it } from 'vitest';
import { diffConsumer, diffKv, diffStream } from '@dmf/bus';
import { federatedStream, kvStreamName, originStream, originStreamName, originSubjects, projectionBucket, projectionConsumer } from '@dmf/streams';

// Server replies below are shaped like nats-server 2.9.10's STREAM.INFO / CONSUMER.INFO
// `config` (captured from the real server): a stream without subjects has no
// `subjects` member, `description` is absent when empty, a cross-domain source echoes
// `external: { api, deliver: '' }` and its `filter_subject`, and a consumer has no
// `filter_subject` when unset.

/** A source as the server echoes it. */
const src = (op: string, external?: { api: string; deliver?: string }) => ({
  name: originStreamName(op),
  filter_subject: originSubjects(op),
  ...(external ? { external } : {}),
});

function serverStream(def: ReturnType<typeof federatedStream>, overrides: Record<string, unknown> = {}) {
  const { subjects, description, ...rest } = def.config;
  return {
    ...rest,
    ...(subjects.length > 0 ? { subjects } : {}),
    ...(description ? { description } : {}),
    max_consumers: -1,
    sealed: false,
    allow_direct: false,
    mirror_direct: false,
    ...overrides,
  };
}

describe('diffStream', () => {
  const def = federatedStream('opa', [{ operator: 'opb' }, { operator: 'opc' }]);

  it('finds no difference in what the server echoes for our definition', () => {
    expect(diffStream(def.config, serverStream(def))).toEqual([]);
  });

  it('treats source order and an omitted deliver prefix as the same', () => {
    const sources = [src('opc', { api: '$JS.opc.API' }), src('opa'), src('opb', { api: '$JS.opb.API', deliver: '' })];
    expect(diffStream(def.config, serverStream(def, { sources }))).toEqual([]);
  });

  it('treats an empty external api as a local source', () => {
    const local = originStream('opa');
    const withEmpty = { ...federatedStream('opa', []).config };
    const server = serverStream(federatedStream('opa', []), { sources: [src('opa', { api: '', deliver: '' })] });
    expect(local.name).toBe(originStreamName('opa'));
    expect(diffStream(withEmpty, server)).toEqual([]);
  });

  it('names a missing source, a changed limit and a field the server dropped', () => {
    const server = serverStream(def, {
      sources: [src('opa'), src('opb', { api: '$JS.opb.API', deliver: '' })],
      max_bytes: 1024,
    });
    const crafted = { ...def.config, allow_msg_ttl: true } as typeof def.config;
    const diffs = diffStream(crafted, server);
    expect(diffs.map((d) => d.field).sort()).toEqual(['allow_msg_ttl', 'max_bytes', 'sources']);
    const ttl = diffs.find((d) => d.field === 'allow_msg_ttl');
    expect(ttl).toEqual({ field: 'allow_msg_ttl', expected: true, actual: undefined });
  });

  it('notices a source whose filter is missing (a stream from before filters) or different', () => {
    const unfiltered = serverStream(def, {
      sources: [src('opa'), { name: originStreamName('opb'), external: { api: '$JS.opb.API', deliver: '' } }, src('opc', { api: '$JS.opc.API', deliver: '' })],
    });
    expect(diffStream(def.config, unfiltered).map((d) => d.field)).toEqual(['sources']);
    const narrowed = serverStream(def, {
      sources: [{ ...src('opa'), filter_subject: 'dmf.origin.opa.node_manifest' }, src('opb', { api: '$JS.opb.API', deliver: '' }), src('opc', { api: '$JS.opc.API', deliver: '' })],
    });
    expect(diffStream(def.config, narrowed).map((d) => d.field)).toEqual(['sources']);
  });

  it('notices a start sequence put on a source by hand', () => {
    const server = serverStream(def, {
      sources: [{ ...src('opa'), opt_start_seq: 40 }, src('opb', { api: '$JS.opb.API', deliver: '' }), src('opc', { api: '$JS.opc.API', deliver: '' })],
    });
    expect(diffStream(def.config, server).map((d) => d.field)).toEqual(['sources']);
  });

  it('notices subjects bound by hand on a stream that should have none', () => {
    expect(diffStream(def.config, serverStream(def, { subjects: ['x.>'] })).map((d) => d.field)).toEqual(['subjects']);
  });
});

describe('diffConsumer', () => {
  const def = projectionConsumer('opa', 'record_ledger', { tuning: { ackWaitMs: 2000 } });
  const server = {
    ...def.config,
    name: 'record_ledger',
    max_waiting: 512,
    num_replicas: 0,
  };

  it('finds no difference in the echo', () => {
    expect(diffConsumer(def.config, server)).toEqual([]);
  });

  it('sees a filter the definition does not have', () => {
    expect(diffConsumer(def.config, { ...server, filter_subject: 'dmf.origin.*.x' }).map((d) => d.field)).toEqual(['filter_subject']);
  });

  it('sees a changed ack_wait', () => {
    expect(diffConsumer(def.config, { ...server, ack_wait: 30_000_000_000 })).toEqual([
      { field: 'ack_wait', expected: 2_000_000_000, actual: 30_000_000_000 },
    ]);
  });
});

describe('diffKv', () => {
  const def = projectionBucket('opa', 'record_ledger');
  const stream = {
    name: kvStreamName(def.name),
    subjects: ['$KV.record_ledger_opa.>'],
    description: def.config.description,
    max_msgs_per_subject: 1,
    max_bytes: def.config.max_bytes,
    max_msg_size: def.config.max_value_size,
    storage: 'file',
    max_age: 0,
    discard: 'new',
  };

  it('compares KV fields with the stream fields that hold them', () => {
    expect(diffKv(def.config, stream)).toEqual([]);
    expect(diffKv(def.config, { ...stream, max_msgs_per_subject: 5 })).toEqual([
      { field: 'history (max_msgs_per_subject)', expected: 1, actual: 5 },
    ]);
  });
});
