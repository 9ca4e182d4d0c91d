import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFederation, type Federation } from '@dmf/testing';
import { publishRecord, publishRecords } from '@dmf/bus';
import { federatedStreamName, originStreamName, recordMsgId } from '@dmf/streams';
import { signedManifest, signedManifests } from '../libs/bus/test/fixtures/records.ts';
import { applyFederation, connectOperator, waitForMsgIds, type OperatorClient } from './federation-helpers.ts';

const OPERATORS = ['opa', 'opb', 'opc'] as const;
let fed: Federation;
const clients: Record<string, OperatorClient> = {};

beforeAll(async () => {
  fed = await startFederation({ operators: [...OPERATORS] });
  for (const op of OPERATORS) clients[op] = await connectOperator(fed, op);
  await applyFederation(Object.values(clients));
});

afterAll(async () => {
  await Promise.all(Object.values(clients).map((c) => c.nc.close()));
  await fed?.close();
});

const client = (op: string) => clients[op] as OperatorClient;

describe('federation: hub + 3 operator leaf servers, each its own JetStream domain', () => {
  it('a record published to opa ORIGIN reaches the FEDERATED stream of opb and opc, and stays out of their ORIGIN', async () => {
    const record = signedManifest('fed-one');
    await publishRecord(client('opa').js, { operator: 'opa', ...record });
    const id = recordMsgId('opa', record.id);
    await waitForMsgIds(client('opb').jsm, federatedStreamName('opb'), [id]);
    await waitForMsgIds(client('opc').jsm, federatedStreamName('opc'), [id]);
    await waitForMsgIds(client('opa').jsm, federatedStreamName('opa'), [id]);
    expect((await client('opb').jsm.streams.info(originStreamName('opb'))).state.messages).toBe(0);
  });

  it('records published while opb was offline arrive once it is back', async () => {
    await fed.operators.opb?.stop();
    await client('opb').nc.close();
    const records = signedManifests(5, 'offline').map((r) => ({ operator: 'opa', ...r }));
    await publishRecords(client('opa').js, records);

    await fed.operators.opb?.start();
    const restarted = Date.now();
    clients.opb = await connectOperator(fed, 'opb');
    const expected = records.map((r) => recordMsgId('opa', r.id));
    const have = await waitForMsgIds(client('opb').jsm, federatedStreamName('opb'), expected, 30_000);
    const seconds = (Date.now() - restarted) / 1000;
    // About 5 s on this machine kind (DESIGN.md); the deadline above is the real limit.
    console.info(`opb caught up ${seconds.toFixed(1)} s after its restart`);
    expect(have.filter((id) => expected.includes(id))).toEqual(expected); // in publish order, once each
    const sources = (await client('opb').jsm.streams.info(federatedStreamName('opb'))).sources ?? [];
    expect(sources.map((s) => s.name).sort()).toEqual(OPERATORS.map(originStreamName));
  });
});
