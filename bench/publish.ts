import { connect } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JetStreamClient } from '@nats-io/jetstream';
import { applyDefinitions, publishRecords, type RecordToPublish } from '@dmf/bus';
import { canonicalBytes, generateSigningKey, recordId } from '@dmf/protocol';
import { originStream, recordMsgId } from '@dmf/streams';
import { startNatsServer } from '@dmf/testing';
import { typicalManifest } from './fixtures.ts';
import { median, rateOfBatch } from './measure.ts';

export interface PublishResult {
  records: number;
  window: number;
  recordBytes: number;
  rounds: number;
  /** Median rates over the rounds. */
  raw: number;
  dmf: number;
  /** Raw js.publish with DMF's msg-ids: what the server's dedupe costs without any DMF code. */
  rawWithMsgId: number;
  /** Median of each round's dmf/raw: both halves of a round run back to back, so drift cancels. */
  ratio: number;
}

const OPERATOR = 'bench';
const RAW_STREAM = 'RAW_BENCH';
const RAW_SUBJECT = 'bench.raw';

/**
 * Pipelined raw js.publish of the same bytes, no checks: the baseline (no msg-id), or
 * with the same msg-ids DMF sends (to show what dedupe itself costs).
 */
async function publishRaw(js: JetStreamClient, records: readonly RecordToPublish[], window: number, withMsgId = false): Promise<void> {
  let inFlight = 0;
  let wake: (() => void) | undefined;
  const pending: Promise<unknown>[] = [];
  for (const record of records) {
    while (inFlight >= window) await new Promise<void>((resolve) => (wake = resolve));
    inFlight++;
    pending.push(
      js.publish(RAW_SUBJECT, record.bytes, withMsgId ? { msgID: recordMsgId(record.operator, record.id) } : undefined).finally(() => {
        inFlight--;
        const w = wake;
        wake = undefined;
        w?.();
      }),
    );
  }
  await Promise.all(pending);
}

/**
 * Records per second into a file-backed JetStream stream, pipelined (`window` in
 * flight): DMF's publishRecords (Nats-Msg-Id dedupe, id check) against raw
 * js.publish of the same bytes into a stream of the same configuration. Each round
 * recreates both streams and uses records never published before.
 */
export async function benchPublish(options: { records: number; rounds: number; window: number }): Promise<PublishResult> {
  const key = generateSigningKey();
  const now = new Date();
  const batches: RecordToPublish[][] = [];
  for (let round = 0; round < options.rounds; round++) {
    batches.push(
      Array.from({ length: options.records }, (_, i) => {
        const document = typicalManifest(key, round * options.records + i, now);
        return { operator: OPERATOR, kind: 'content_manifest', id: recordId(document), bytes: canonicalBytes(document) };
      }),
    );
  }
  const server = await startNatsServer({ name: 'bench', domain: OPERATOR });
  const nc = await connect({ servers: server.url });
  try {
    const jsm = await jetstreamManager(nc);
    const js = jetstream(nc);
    const origin = originStream(OPERATOR);
    const raws: number[] = [];
    const dmfs: number[] = [];
    const rawIds: number[] = [];
    for (const [round, batch] of batches.entries()) {
      await applyDefinitions(jsm, [origin]);
      await jsm.streams.add({ ...origin.config, name: RAW_STREAM, subjects: [RAW_SUBJECT] });
      const runRaw = async () => raws.push((await rateOfBatch(batch.length, () => publishRaw(js, batch, options.window))).perSecond);
      const runDmf = async () =>
        dmfs.push((await rateOfBatch(batch.length, async () => void (await publishRecords(js, batch, { window: options.window })))).perSecond);
      // Alternate which goes first, so that neither always meets a warmer or fuller server.
      if (round % 2 === 0) {
        await runRaw();
        await runDmf();
      } else {
        await runDmf();
        await runRaw();
      }
      // Informational: the same msg-ids through raw js.publish, into a fresh stream.
      await jsm.streams.delete(RAW_STREAM);
      await jsm.streams.add({ ...origin.config, name: RAW_STREAM, subjects: [RAW_SUBJECT] });
      rawIds.push((await rateOfBatch(batch.length, () => publishRaw(js, batch, options.window, true))).perSecond);
      await jsm.streams.delete(origin.name);
      await jsm.streams.delete(RAW_STREAM);
    }
    return {
      records: options.records,
      window: options.window,
      recordBytes: batches[0]?.[0]?.bytes.length ?? 0,
      rounds: options.rounds,
      raw: median(raws),
      dmf: median(dmfs),
      rawWithMsgId: median(rawIds),
      ratio: median(dmfs.map((d, i) => d / (raws[i] as number))),
    };
  } finally {
    await nc.close();
    await server.close();
  }
}
