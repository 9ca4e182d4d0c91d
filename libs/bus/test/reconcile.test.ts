import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { startNatsServer, type NatsServerHandle } from '@dmf/testing';
import { applyDefinitions, ReconcileError } from '@dmf/bus';
import {
  definitionsFor,
  federatedStream,
  federatedStreamName,
  kvStreamName,
  originStream,
  originStreamName,
  originSubjects,
  projectionBucketName,
  METADATA,
  STORAGE,
  RECORD_LEDGER,
  type Definition,
  type StreamDefinition,
} from '@dmf/streams';
import { catchError } from './fixtures/catch-error.ts';

let server: NatsServerHandle;
let nc: NatsConnection;
let jsm: JetStreamManager;

beforeAll(async () => {
  server = await startNatsServer({ name: 'reconcile', domain: 'opa' });
  nc = await connect({ servers: server.url });
  jsm = await jetstreamManager(nc);
});

afterAll(async () => {
  await nc?.close();
  await server?.close();
});

const FED_A = federatedStreamName('opa');
const ORIGIN_A = originStreamName('opa');
const limits = { originMaxBytes: 64 << 20, federatedMaxBytes: 256 << 20 };

describe('applyDefinitions', () => {
  it('creates everything on the first run and changes nothing on the second', async () => {
    const defs = definitionsFor({ operator: 'opa', peers: [{ operator: 'opb' }], limits });
    const first = await applyDefinitions(jsm, defs);
    expect(first).toEqual([
      { kind: 'stream', name: ORIGIN_A, action: 'created' },
      { kind: 'stream', name: FED_A, action: 'created' },
      { kind: 'kv', name: projectionBucketName(RECORD_LEDGER, 'opa'), action: 'created' },
      { kind: 'kv', name: projectionBucketName(METADATA, 'opa'), action: 'created' },
      { kind: 'kv', name: projectionBucketName(STORAGE, 'opa'), action: 'created' },
      { kind: 'consumer', name: `${FED_A}/${RECORD_LEDGER}`, action: 'created' },
    ]);
    const before = await jsm.streams.info(FED_A);
    const second = await applyDefinitions(jsm, defs);
    expect(second.map((e) => e.action)).toEqual(['unchanged', 'unchanged', 'unchanged', 'unchanged', 'unchanged', 'unchanged']);
    const after = await jsm.streams.info(FED_A);
    expect(after.config).toEqual(before.config);
    expect(after.created).toBe(before.created);
  });

  it('adds a new peer as a source of FEDERATED and leaves the rest unchanged', async () => {
    const defs = definitionsFor({ operator: 'opa', peers: [{ operator: 'opb' }, { operator: 'opc' }], limits });
    const report = await applyDefinitions(jsm, defs);
    expect(report.map((e) => `${e.name}:${e.action}`)).toEqual([
      `${ORIGIN_A}:unchanged`,
      `${FED_A}:updated`,
      `${projectionBucketName(RECORD_LEDGER, 'opa')}:unchanged`,
      `${projectionBucketName(METADATA, 'opa')}:unchanged`,
      `${projectionBucketName(STORAGE, 'opa')}:unchanged`,
      `${FED_A}/${RECORD_LEDGER}:unchanged`,
    ]);
    expect(report[1]?.changed?.map((d) => d.field)).toEqual(['sources']);
    const info = await jsm.streams.info(FED_A);
    expect(info.config.sources?.map((s) => s.name).sort()).toEqual(['opa', 'opb', 'opc'].map(originStreamName));
    expect(info.config.sources?.find((s) => s.name === originStreamName('opc'))?.external?.api).toBe('$JS.opc.API');
    // 2.9.10 keeps a filter on every source, cross-domain ones included.
    for (const source of info.config.sources ?? []) {
      expect(source.filter_subject, source.name).toBe(originSubjects(source.name.slice(source.name.indexOf('_') + 1)));
    }
    // And dropping it again (quarantine) removes the source.
    const back = await applyDefinitions(jsm, definitionsFor({ operator: 'opa', peers: [{ operator: 'opb' }], limits }));
    expect(back[1]?.action).toBe('updated');
  });

  it('updates a changed limit, a changed consumer and a changed bucket', async () => {
    const defs = definitionsFor({
      operator: 'opa',
      peers: [{ operator: 'opb' }],
      limits: { ...limits, maxRecordBytes: 32 * 1024 },
      consumers: { ackWaitMs: 5000 },
    });
    const kv = defs.find((d) => d.kind === 'kv');
    if (kv?.kind !== 'kv') throw new Error('no kv definition');
    kv.config.max_value_size = 2048;
    const report = await applyDefinitions(jsm, defs);
    // ORIGIN, FEDERATED, the ledger bucket, the metadata and storage buckets, the consumer.
    expect(report.map((e) => e.action)).toEqual(['updated', 'unchanged', 'updated', 'unchanged', 'unchanged', 'updated']);
    expect((await jsm.streams.info(ORIGIN_A)).config.max_msg_size).toBe(32 * 1024);
    expect((await jsm.streams.info(kvStreamName(projectionBucketName(RECORD_LEDGER, 'opa')))).config.max_msg_size).toBe(2048);
    expect((await jsm.consumers.info(FED_A, RECORD_LEDGER)).config.ack_wait).toBe(5_000_000_000);
  });

  it('puts the operator filter on the sources of a FEDERATED stream created before filters existed', async () => {
    const def = federatedStream('opf', [{ operator: 'opb' }], { limits });
    const unfiltered = def.config.sources.map(({ filter_subject: _filter, ...rest }) => rest);
    await jsm.streams.add({ ...def.config, sources: unfiltered } as never);
    const report = await applyDefinitions(jsm, [def]);
    expect(report).toEqual([expect.objectContaining({ name: def.name, action: 'updated', changed: [expect.objectContaining({ field: 'sources' })] })]);
    const sources = (await jsm.streams.info(def.name)).config.sources ?? [];
    expect(sources.map((s) => [s.name, s.filter_subject]).sort()).toEqual([
      [originStreamName('opb'), originSubjects('opb')],
      [originStreamName('opf'), originSubjects('opf')],
    ]);
    expect((await applyDefinitions(jsm, [def]))[0]?.action).toBe('unchanged');
  });

  it('fails loudly, naming object and field, when the server drops a field it accepted', async () => {
    // nats-server 2.9.10 accepts `allow_msg_ttl` (a 2.11 field our types leave out) on
    // update, answers success, and does not keep it: the read-back must catch that.
    const def = originStream('opa', { ...limits, maxRecordBytes: 32 * 1024 });
    const crafted: StreamDefinition = { ...def, config: { ...def.config, allow_msg_ttl: true } as StreamDefinition['config'] };
    const error = await catchError(applyDefinitions(jsm, [crafted]));
    expect(error).toBeInstanceOf(ReconcileError);
    const e = error as ReconcileError;
    expect(e.code).toBe('field_not_applied');
    expect(e.object).toEqual({ kind: 'stream', name: ORIGIN_A });
    expect(e.differences).toEqual([{ field: 'allow_msg_ttl', expected: true, actual: undefined }]);
    expect(e.message).toMatch(/stream ORIGIN_opa: .*allow_msg_ttl: expected true/);
  });

  it('reports a change the server refuses, naming the field', async () => {
    const def = originStream('opa', { ...limits, maxRecordBytes: 32 * 1024, storage: 'memory' });
    const error = await catchError(applyDefinitions(jsm, [def]));
    expect(error).toBeInstanceOf(ReconcileError);
    expect((error as ReconcileError).code).toBe('refused');
    expect((error as ReconcileError).message).toMatch(/ORIGIN_opa.*storage/);
    expect((await jsm.streams.info(ORIGIN_A)).config.storage).toBe('file');
  });

  it('applies streams before the consumers that need them, whatever the order given', async () => {
    const defs = definitionsFor({ operator: 'opz', peers: [], limits });
    const reversed: Definition[] = [...defs].reverse();
    const report = await applyDefinitions(jsm, reversed);
    expect(report.map((e) => e.kind)).toEqual(['stream', 'stream', 'kv', 'kv', 'kv', 'consumer']);
    expect(report.every((e) => e.action === 'created')).toBe(true);
  });
});
