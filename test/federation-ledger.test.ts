import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { startFederation, waitFor, type Federation } from '@dmf/testing';
import { createRecordLedger, publishRecord, publishRecords, readLedger, type RecordLedger } from '@dmf/bus';
import { federatedStreamName, recordMsgId } from '@dmf/streams';
import { signedManifest, signedManifests } from '../libs/bus/test/fixtures/records.ts';
import { applyFederation, connectOperator, msgIds, waitForMsgIds, type OperatorClient } from './federation-helpers.ts';

const OPERATORS = ['opa', 'opb', 'opc'] as const;
let fed: Federation;
const clients: Record<string, OperatorClient> = {};
let ledger: RecordLedger | undefined;

beforeAll(async () => {
  fed = await startFederation({ operators: [...OPERATORS] });
  for (const op of OPERATORS) clients[op] = await connectOperator(fed, op);
  await applyFederation(Object.values(clients), { ackWaitMs: 2000 });
});

afterAll(async () => {
  await ledger?.close();
  await Promise.all(Object.values(clients).map((c) => c.nc.close()));
  await fed?.close();
});

const client = (op: string) => clients[op] as OperatorClient;

describe('one signed record accepted by two operators', () => {
  it('reaches opc from both ORIGINs without stalling either source, and the ledger projects it once', async () => {
    const shared = signedManifest('accepted-twice');
    const atA = await publishRecord(client('opa').js, { operator: 'opa', ...shared });
    const atB = await publishRecord(client('opb').js, { operator: 'opb', ...shared });
    expect([atA.duplicate, atB.duplicate]).toEqual([false, false]);

    // Publishing it again where it already is: a duplicate, not an error, not stored twice.
    const again = await publishRecord(client('opa').js, { operator: 'opa', ...shared });
    expect(again).toEqual({ ...atA, duplicate: true });

    const fedC = federatedStreamName('opc');
    await waitForMsgIds(client('opc').jsm, fedC, [recordMsgId('opa', shared.id), recordMsgId('opb', shared.id)]);

    // Both sources keep flowing after the shared record (nats-server#4459 would stall one).
    const afterA = signedManifests(4, 'after-a').map((r) => ({ operator: 'opa', ...r }));
    const afterB = signedManifests(4, 'after-b').map((r) => ({ operator: 'opb', ...r }));
    await publishRecords(client('opa').js, afterA);
    await publishRecords(client('opb').js, afterB);
    const expected = [...afterA, ...afterB].map((r) => recordMsgId(r.operator, r.id));
    const ids = await waitForMsgIds(client('opc').jsm, fedC, expected, 10_000);
    expect(ids).toHaveLength(10);
    const sources = (await client('opc').jsm.streams.info(fedC)).sources ?? [];
    for (const s of sources) expect(s.error, `source ${s.name}`).toBeUndefined();

    ledger = createRecordLedger({ js: client('opc').js, operator: 'opc', logger: pino({ level: 'silent' }), group: { pullExpiresMs: 1000 } });
    await ledger.start();
    await waitFor(() => ledger?.stats().group.acked === 10, { timeoutMs: 10_000, description: 'ledger acked 10 messages' });
    expect(ledger.stats()).toMatchObject({ projected: 9, duplicates: 1, invalid: 0 });
    const entries = await readLedger(ledger.kv!);
    expect(entries.size).toBe(9);
    expect(entries.get(shared.id)?.kind).toBe('content_manifest');
    expect(['opa', 'opb']).toContain(entries.get(shared.id)?.first_origin);
    // FEDERATED keeps both copies: the log says who carried what; only the projection dedupes.
    expect((await msgIds(client('opc').jsm, fedC)).filter((id) => id.endsWith(shared.id))).toHaveLength(2);
  });
});
