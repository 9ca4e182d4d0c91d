import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { startNatsServer, type NatsServerHandle } from '@dmf/testing';
import { applyDefinitions, ReconcileError } from '@dmf/bus';
import { definitionsFor, originStream, type Definition, type StreamDefinition } from '@dmf/streams';
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


const limits = { originMaxBytes: 64 << 20, federatedMaxBytes: 256 << 20 };

describe('applyDefinitions', () => {
  it('creates everything on the first run and changes nothing on the second', async () => {
    const defs = definitionsFor({ operator: 'opa', peers: [{ operator: 'opb' }], limits });
    const first = await applyDefinitions(jsm, defs);
    expect(first).toEqual([
      { kind: 'stream', name: 'ORIGIN_opa', action: 'created' },
      { kind: 'stream', name: 'FEDERATED_opa', action: 'created' },
      { kind: 'kv', name: 'record_ledger_opa', action: 'created' },
      { kind: 'consumer', name: 'FEDERATED_opa/record_ledger', action: 'created' },
    ]);
    const before = await jsm.streams.info('FEDERATED_opa');
    const second = await applyDefinitions(jsm, defs);
    expect(second.map((e) => e.action)).toEqual(['unchanged', 'unchanged', 'unchanged', 'unchanged']);
    const after = await jsm.streams.info('FEDERATED_opa');
    expect(after.config).toEqual(before.config);
    expect(after.created).toBe(before.created);
  });

  it('adds a new peer as a source of FEDERATED and leaves the rest unchanged', async () => {
    const defs = definitionsFor({ operator: 'opa', peers: [{ operator: 'opb' }, { operator: 'opc' }], limits });
    const report = await applyDefinitions(jsm, defs);
    expect(report.map((e) => `${e.name}:${e.action}`)).toEqual([
      'ORIGIN_opa:unchanged',
      'FEDERATED_opa:updated',
      'record_ledger_opa:unchanged',
      'FEDERATED_opa/record_ledger:unchanged',
    ]);
    expect(report[1]?.changed?.map((d) => d.field)).toEqual(['sources']);
    const info = await jsm.streams.info('FEDERATED_opa');
    expect(info.config.sources?.map((s) => s.name).sort()).toEqual(['ORIGIN_opa', 'ORIGIN_opb', 'ORIGIN_opc']);
    expect(info.config.sources?.find((s) => s.name === 'ORIGIN_opc')?.external?.api).toBe('$JS.opc.API');
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
    expect(report.map((e) => e.action)).toEqual(['updated', 'unchanged', 'updated', 'updated']);
    expect((await jsm.streams.info('ORIGIN_opa')).config.max_msg_size).toBe(32 * 1024);
    expect((await jsm.streams.info('KV_record_ledger_opa')).config.max_msg_size).toBe(2048);
    expect((await jsm.consumers.info('FEDERATED_opa', 'record_ledger')).config.ack_wait).toBe(5_000_000_000);
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
    expect(e.object).toEqual({ kind: 'stream', name: 'ORIGIN_opa' });
    expect(e.differences).toEqual([{ field: 'allow_msg_ttl', expected: true, actual: undefined }]);
    expect(e.message).toMatch(/stream ORIGIN_opa: .*allow_msg_ttl: expected true/);
  });

  it('reports a change the server refuses, naming the field', async () => {
    const def = originStream('opa', { ...limits, maxRecordBytes: 32 * 1024, storage: 'memory' });
    const error = await catchError(applyDefinitions(jsm, [def]));
    expect(error).toBeInstanceOf(ReconcileError);
    expect((error as ReconcileError).code).toBe('refused');
    expect((error as ReconcileError).message).toMatch(/ORIGIN_opa.*storage/);
    expect((await jsm.streams.info('ORIGIN_opa')).config.storage).toBe('file');
  });

  it('applies streams before the consumers that need them, whatever the order given', async () => {
    const defs = definitionsFor({ operator: 'opz', peers: [], limits });
    const reversed: Definition[] = [...defs].reverse();
    const report = await applyDefinitions(jsm, reversed);
    expect(report.map((e) => e.kind)).toEqual(['stream', 'stream', 'kv', 'consumer']);
    expect(report.every((e) => e.action === 'created')).toBe(true);
  });
});
