import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { startFederation, waitFor, type Federation } from '@dmf/testing';
import { applyDefinitions, createRecordLedger, publishRecord, type RecordLedger } from '@dmf/bus';
import {
  federatedStream,
  federatedStreamName,
  originStreamName,
  originSubject,
  originSubjects,
  recordLedgerBucket,
  recordLedgerConsumer,
  parseOriginSubject,
  recordMsgId,
} from '@dmf/streams';
import { expiringNodeManifest, signedManifest } from '../libs/bus/test/fixtures/records.ts';
import { applyFederation, connectOperator, msgIds, storedRecords, TEST_LIMITS, waitForMsgIds, type OperatorClient } from './federation-helpers.ts';

// A rogue peer controls its own ORIGIN stream. It can reconfigure it to bind another
// operator's subjects and store messages there that name the victim in subject and
// msg-id: a replay of the victim's record (one msg-id reaching a FEDERATED stream by two
// sources stalls one of them on 2.9.10) and a forged one (invalid, to be charged to the
// victim). Each FEDERATED source is filtered to its operator's own subjects, so neither
// leaves the rogue's ORIGIN.
//
// The forgeries reuse the victim's msg-ids on purpose: a publish on the victim's
// subjects at the rogue's server also reaches the victim's ORIGIN through the leaf
// connections (any stream binding a subject stores it, across domains), where the
// 2-minute duplicate window drops them. The other way round too: once the rogue binds
// a victim's subject, its ORIGIN also stores copies of what the victim publishes there;
// so the rogue binds only `content_manifest`, and the victim's later record is a node
// manifest, which keeps every stream's content deterministic. Keeping peers from publishing other operators'
// subjects at all is for the hub's leaf permissions, not for stream definitions.

const VICTIM = 'opv';
const ROGUE = 'opr';
const OBSERVER = 'opo';
const OPERATORS = [VICTIM, ROGUE, OBSERVER] as const;
const logger = pino({ level: 'silent' });
let fed: Federation;
const clients: Record<string, OperatorClient> = {};
const ledgers: RecordLedger[] = [];

beforeAll(async () => {
  fed = await startFederation({ operators: [...OPERATORS] });
  for (const op of OPERATORS) clients[op] = await connectOperator(fed, op);
  await applyFederation(Object.values(clients), { ackWaitMs: 2000 });
});

afterAll(async () => {
  await Promise.all(ledgers.map((l) => l.close()));
  await Promise.all(Object.values(clients).map((c) => c.nc.close()));
  await fed?.close();
});

const client = (op: string) => clients[op] as OperatorClient;

function tamperedCopy(bytes: Uint8Array): Uint8Array {
  return new TextEncoder().encode(new TextDecoder().decode(bytes).replace('record victim-2', 'record VICTIM-2'));
}

function ledger(operator: string): RecordLedger {
  const l = createRecordLedger({ js: client(OBSERVER).js, operator, logger, group: { pullExpiresMs: 1000 } });
  ledgers.push(l);
  return l;
}

describe('a rogue peer that binds another operator’s subjects in its own ORIGIN', () => {
  it('cannot pass them on under the victim’s name, nor stall anyone’s sources', async () => {
    const r1 = signedManifest('victim-1');
    const r2 = signedManifest('victim-2');
    await publishRecord(client(VICTIM).js, { operator: VICTIM, ...r1 });
    await publishRecord(client(VICTIM).js, { operator: VICTIM, ...r2 });
    await waitForMsgIds(client(OBSERVER).jsm, federatedStreamName(OBSERVER), [recordMsgId(VICTIM, r1.id), recordMsgId(VICTIM, r2.id)]);

    // The rogue reconfigures its ORIGIN by hand and publishes there, bypassing publishRecord.
    const rogue = client(ROGUE);
    const victimSubject = originSubject(VICTIM, 'content_manifest');
    await rogue.jsm.streams.update(originStreamName(ROGUE), { subjects: [originSubjects(ROGUE), victimSubject] });
    const tampered = tamperedCopy(r2.bytes);
    expect(createHash('sha256').update(tampered).digest('hex')).not.toBe(r2.id);
    await rogue.js.publish(victimSubject, r1.bytes, { msgID: recordMsgId(VICTIM, r1.id) });
    await rogue.js.publish(victimSubject, tampered, { msgID: recordMsgId(VICTIM, r2.id) });
    const inRogueOrigin = await storedRecords(rogue.jsm, originStreamName(ROGUE));
    expect(inRogueOrigin.map((m) => [m.subject, m.msgId])).toEqual([
      [victimSubject, recordMsgId(VICTIM, r1.id)],
      [victimSubject, recordMsgId(VICTIM, r2.id)],
    ]);
    expect(await msgIds(client(VICTIM).jsm, originStreamName(VICTIM))).toEqual([recordMsgId(VICTIM, r1.id), recordMsgId(VICTIM, r2.id)]);

    // Both sources keep flowing past the forgeries.
    const q = signedManifest('rogue-own');
    const r3 = expiringNodeManifest(10 * 60_000);
    await publishRecord(rogue.js, { operator: ROGUE, ...q });
    await publishRecord(client(VICTIM).js, { operator: VICTIM, ...r3 });
    const after = [recordMsgId(ROGUE, q.id), recordMsgId(VICTIM, r3.id)];
    expect((await storedRecords(rogue.jsm, originStreamName(ROGUE))).map((m) => m.msgId)).toEqual([
      recordMsgId(VICTIM, r1.id),
      recordMsgId(VICTIM, r2.id),
      recordMsgId(ROGUE, q.id),
    ]);
    for (const op of [OBSERVER, VICTIM]) {
      const stream = federatedStreamName(op);
      await waitForMsgIds(client(op).jsm, stream, after, 10_000);
      const stored = await storedRecords(client(op).jsm, stream);
      // Every message came from the ORIGIN of the operator its subject names, once.
      for (const m of stored) expect(m.subject.startsWith(originSubjects(m.sourceOperator ?? '?').slice(0, -1)), `${op}: ${m.subject} via ${m.sourceOperator}`).toBe(true);
      expect(stored.filter((m) => m.sourceOperator === ROGUE).map((m) => m.msgId)).toEqual([recordMsgId(ROGUE, q.id)]);
      expect(stored.filter((m) => m.msgId === recordMsgId(VICTIM, r1.id) || m.msgId === recordMsgId(VICTIM, r2.id))).toHaveLength(2);
      for (const s of (await client(op).jsm.streams.info(stream)).sources ?? []) expect(s.error, `${op}: source ${s.name}`).toBeUndefined();
    }

    // The observer's ledger: four valid records, nothing charged to anyone.
    const l = ledger(OBSERVER);
    await l.start();
    await waitFor(() => l.stats().group.acked === 4, { timeoutMs: 10_000, description: 'observer ledger acked 4' });
    expect(l.stats()).toMatchObject({ projected: 4, duplicates: 0, invalid: 0 });
  });

  it('without the source filter the forgeries do get through, and the ledger charges them to the rogue', async () => {
    // A FEDERATED stream sourcing the rogue's ORIGIN as defined before the filters: the
    // control that shows the attack above was real, and the ledger's second line. Only
    // that one source, so no msg-id meets its twin from the victim (which would make
    // what is stored depend on timing).
    const ctl = 'ctl';
    const observer = client(OBSERVER);
    const def = federatedStream(ctl, [{ operator: ROGUE }], { domain: OBSERVER, limits: TEST_LIMITS });
    const unfiltered = def.config.sources
      .filter((s) => s.name === originStreamName(ROGUE))
      .map(({ filter_subject: _filter, ...source }) => source);
    expect(unfiltered).toEqual([{ name: originStreamName(ROGUE), external: expect.objectContaining({ api: expect.any(String) }) }]);
    await observer.jsm.streams.add({ ...def.config, sources: unfiltered } as never);
    await applyDefinitions(observer.jsm, [recordLedgerBucket(ctl), recordLedgerConsumer(ctl, { ackWaitMs: 2000 })]);

    const stream = federatedStreamName(ctl);
    const stored = await waitFor(
      async () => {
        const all = await storedRecords(observer.jsm, stream);
        return all.length === 3 ? all : undefined;
      },
      { timeoutMs: 15_000, description: `the rogue's 3 messages in ${stream}` },
    );
    expect(stored.map((m) => [parseOriginSubject(m.subject)?.operator, m.sourceOperator])).toEqual([
      [VICTIM, ROGUE],
      [VICTIM, ROGUE],
      [ROGUE, ROGUE],
    ]);

    const l = ledger(ctl);
    await l.start();
    await waitFor(() => l.stats().group.acked === 3, { timeoutMs: 10_000, description: 'control ledger acked 3' });
    const stats = l.stats();
    expect(stats).toMatchObject({ projected: 1, invalid: 2 });
    expect(stats.invalidByOrigin).toEqual({ [ROGUE]: 2 });
    expect(stats.invalidByReason).toEqual({ foreign_subject: 2 });
  });
});
