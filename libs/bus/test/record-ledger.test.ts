import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { pino } from 'pino';
import { startNatsServer, waitFor, type NatsServerHandle } from '@dmf/testing';
import { applyDefinitions, createRecordLedger, ledgerDigest, publishRecord, publishRecords, readLedger, type RecordLedger } from '@dmf/bus';
import { definitionsFor, federatedStreamName, kvStreamName, originStream, projectionBucketName, RECORD_LEDGER } from '@dmf/streams';
import { expiringNodeManifest, signedManifest, signedManifests } from './fixtures/records.ts';

// Two operators on one server (one JetStream domain): FEDERATED_led sources ORIGIN_led
// and ORIGIN_led2 locally. The cross-domain case is in test/federation-ledger.test.ts.
const OP = 'led';
const PEER = 'led2';
const logger = pino({ level: 'silent' });

let server: NatsServerHandle;
let nc: NatsConnection;
let js: JetStreamClient;
let jsm: JetStreamManager;
const ledgers: RecordLedger[] = [];

const definitions = () =>
  definitionsFor({
    operator: OP,
    domain: 'shared',
    peers: [{ operator: PEER, domain: 'shared' }],
    limits: { originMaxBytes: 64 << 20, federatedMaxBytes: 64 << 20 },
    consumers: { ackWaitMs: 2000, maxDeliver: 3 },
  });

beforeAll(async () => {
  server = await startNatsServer({ name: 'ledger', domain: 'shared' });
  nc = await connect({ servers: server.url });
  jsm = await jetstreamManager(nc);
  js = jetstream(nc);
  // The peer's ORIGIN first: a source whose stream is missing is retried only every ~2 s.
  await applyDefinitions(jsm, [originStream(PEER, { originMaxBytes: 64 << 20 }), ...definitions()]);
});

afterAll(async () => {
  await Promise.all(ledgers.map((l) => l.close()));
  await nc?.close();
  await server?.close();
});

function ledger(): RecordLedger {
  const l = createRecordLedger({ js, operator: OP, logger, group: { pullExpiresMs: 1000 } });
  ledgers.push(l);
  return l;
}

function tampered(): { id: string; kind: string; bytes: Uint8Array } {
  const good = signedManifest('tampered');
  const text = new TextDecoder().decode(good.bytes).replace('record tampered', 'record TAMPERED');
  const bytes = new TextEncoder().encode(text);
  return { id: createHash('sha256').update(bytes).digest('hex'), kind: 'content_manifest', bytes };
}

describe('record ledger', () => {
  it('projects valid records once, counts invalid ones per origin, and replays to the same digest', async () => {
    const valid = signedManifests(20, 'ledger');
    const shared = signedManifest('shared');
    const wrongKind = signedManifest('wrong-kind');
    // Valid when stored, expired by the time of the replay below.
    const expiring = expiringNodeManifest(1_500);
    await publishRecord(js, { operator: OP, ...expiring });
    await publishRecords(js, valid.map((r) => ({ operator: OP, ...r })));
    await publishRecord(js, { operator: OP, ...shared });
    await publishRecord(js, { operator: PEER, ...shared });
    await publishRecord(js, { operator: PEER, ...tampered() });
    await publishRecord(js, { operator: OP, ...wrongKind, kind: 'node_manifest' });

    const l = ledger();
    await l.start();
    // expiring + 20 valid + shared + wrong kind at led; shared + tampered at led2.
    await waitFor(() => l.stats().group.acked === 25, { timeoutMs: 10_000, description: '25 messages acked' });
    const stats = l.stats();
    expect(stats).toMatchObject({ projected: 22, duplicates: 1, invalid: 2 });
    expect(stats.invalidByOrigin).toEqual({ [OP]: 1, [PEER]: 1 });
    expect(stats.invalidByReason).toEqual({ 'signature.invalid': 1, kind_mismatch: 1 });
    expect(stats.group.terminated).toBe(0);

    const entries = await readLedger(l.kv!);
    expect(entries.size).toBe(22);
    expect(entries.get(expiring.id)?.kind).toBe('node_manifest');
    // Whichever ORIGIN's copy FEDERATED stored first; the other copy is a duplicate.
    const firstOrigin = entries.get(shared.id)?.first_origin;
    expect([OP, PEER]).toContain(firstOrigin);
    expect(entries.get(shared.id)?.kind).toBe('content_manifest');
    for (const r of valid) expect(entries.get(r.id)?.kind).toBe('content_manifest');
    const live = ledgerDigest(entries);
    await l.close();

    // Reset the projection (drop bucket and consumer) and replay FEDERATED from seq 1,
    // once the node manifest has expired: the replay must still decide as the live run did.
    await waitFor(() => Date.now() > expiring.expiresAt + 50, { timeoutMs: 5_000, description: 'the manifest to expire' });
    await jsm.consumers.delete(federatedStreamName(OP), RECORD_LEDGER);
    await jsm.streams.delete(kvStreamName(projectionBucketName(RECORD_LEDGER, OP)));
    const report = await applyDefinitions(jsm, definitions());
    expect(report.filter((e) => e.action === 'created').map((e) => e.kind)).toEqual(['kv', 'consumer']);
    const replay = ledger();
    await replay.start();
    await waitFor(() => replay.stats().group.acked === 25, { timeoutMs: 10_000, description: 'replay acked' });
    expect(replay.stats()).toMatchObject({ projected: 22, invalid: 2 });
    const replayed = await readLedger(await new Kvm(js).open(projectionBucketName(RECORD_LEDGER, OP)));
    expect(ledgerDigest(replayed)).toBe(live);
    // Replaying the same stream meets the copies in the same order.
    expect(replayed.get(shared.id)?.first_origin).toBe(firstOrigin);
  });
});
