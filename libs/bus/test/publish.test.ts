import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { startNatsServer, type NatsServerHandle } from '@dmf/testing';
import { applyDefinitions, PublishError, publishRecord, publishRecords } from '@dmf/bus';
import { MAX_DOCUMENT_BYTES } from '@dmf/protocol';
import { DEFAULT_STREAM_LIMITS, originStream, originStreamName } from '@dmf/streams';
import { signedManifest, signedManifests } from './fixtures/records.ts';
import { catchError } from './fixtures/catch-error.ts';

let server: NatsServerHandle;
let nc: NatsConnection;
let js: JetStreamClient;
let jsm: JetStreamManager;

beforeAll(async () => {
  server = await startNatsServer({ name: 'publish', domain: 'opa' });
  nc = await connect({ servers: server.url });
  jsm = await jetstreamManager(nc);
  js = jetstream(nc);
  await applyDefinitions(jsm, [originStream('opa', { originMaxBytes: 64 << 20, maxRecordBytes: 4096 })]);
});

afterAll(async () => {
  await nc?.close();
  await server?.close();
});


describe('publishRecord', () => {
  it('stores the canonical bytes on dmf.origin.<op>.<kind> with Nats-Msg-Id <op>.<id> and no other header', async () => {
    const record = signedManifest('one');
    const published = await publishRecord(js, { operator: 'opa', ...record });
    expect(published).toEqual({ stream: originStreamName('opa'), seq: expect.any(Number), duplicate: false });
    const stored = await jsm.streams.getMessage(originStreamName('opa'), { seq: published.seq });
    if (!stored) throw new Error('record not stored');
    expect(stored.subject).toBe('dmf.origin.opa.content_manifest');
    expect([...stored.header.keys()]).toEqual(['Nats-Msg-Id']);
    expect(stored.header.get('Nats-Msg-Id')).toBe(`opa.${record.id}`);
    expect(createHash('sha256').update(stored.data).digest('hex')).toBe(record.id);
  });

  it('reports a second publish of the same record as a duplicate, not an error', async () => {
    const record = signedManifest('twice');
    const first = await publishRecord(js, { operator: 'opa', ...record });
    const second = await publishRecord(js, { operator: 'opa', ...record });
    expect(first.duplicate).toBe(false);
    expect(second).toEqual({ ...first, duplicate: true });
  });

  it('refuses a record whose id is not the hash of its bytes, or whose names are not tokens', async () => {
    const record = signedManifest('bad');
    const wrongId = await catchError(publishRecord(js, { operator: 'opa', ...record, id: 'f'.repeat(64) }));
    expect(wrongId).toBeInstanceOf(PublishError);
    expect((wrongId as PublishError).code).toBe('invalid_record');
    expect((wrongId as Error).message).toMatch(/SHA-256/);
    const badKind = await catchError(publishRecord(js, { operator: 'opa', ...record, kind: 'a.b' }));
    expect((badKind as PublishError).code).toBe('invalid_record');
    const badOperator = await catchError(publishRecord(js, { operator: 'OPA', ...record }));
    expect((badOperator as PublishError).code).toBe('invalid_record');
  });

  it('reports a record the stream refuses (too large) as not stored', async () => {
    const bytes = new TextEncoder().encode(JSON.stringify({ kind: 'content_manifest', pad: 'x'.repeat(5000) }));
    const id = createHash('sha256').update(bytes).digest('hex');
    const error = await catchError(publishRecord(js, { operator: 'opa', id, kind: 'content_manifest', bytes }));
    expect(error).toBeInstanceOf(PublishError);
    expect((error as PublishError).code).toBe('not_stored');
    expect((error as Error).message).toMatch(/maximum/);
  });
});

describe('publishRecords', () => {
  it('publishes many with a bounded window, in order, and reports a replay as duplicates', async () => {
    const records = signedManifests(300, 'bulk').map((r) => ({ operator: 'opa', ...r }));
    const before = (await jsm.streams.info(originStreamName('opa'))).state.messages;
    const results = await publishRecords(js, records, { window: 32 });
    expect(results).toHaveLength(300);
    expect(results.every((r) => !r.duplicate)).toBe(true);
    const seqs = results.map((r) => r.seq);
    expect(new Set(seqs).size).toBe(300);
    const stored = await jsm.streams.getMessage(originStreamName('opa'), { seq: results[123]?.seq ?? 0 });
    if (!stored) throw new Error('record not stored');
    expect(stored.header.get('Nats-Msg-Id')).toBe(`opa.${records[123]?.id}`);
    expect((await jsm.streams.info(originStreamName('opa'))).state.messages).toBe(before + 300);

    const again = await publishRecords(js, records, { window: 32 });
    expect(again.every((r) => r.duplicate)).toBe(true);
    expect(again.map((r) => r.seq)).toEqual(seqs);
    expect((await jsm.streams.info(originStreamName('opa'))).state.messages).toBe(before + 300);
  });

  it('stops at the first invalid record and names its index', async () => {
    const records = signedManifests(5, 'stop').map((r) => ({ operator: 'opa', ...r }));
    const broken = records.map((r, i) => (i === 3 ? { ...r, kind: 'Bad' } : r));
    const error = await catchError(publishRecords(js, broken));
    expect(error).toBeInstanceOf(PublishError);
    expect((error as PublishError).index).toBe(3);
    expect((error as Error).message).toMatch(/^records\[3\]: kind/);
  });
});

describe('limits', () => {
  it('let ORIGIN store the largest document the protocol accepts, with its msg-id header', () => {
    const header = `Nats-Msg-Id: ${'x'.repeat(32)}.${'f'.repeat(64)}\r\n`.length + 'NATS/1.0\r\n\r\n'.length;
    expect(DEFAULT_STREAM_LIMITS.maxRecordBytes).toBeGreaterThanOrEqual(MAX_DOCUMENT_BYTES + header);
  });
});
