import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { pino } from 'pino';
import { startNatsServer, waitFor, type NatsServerHandle } from '@dmf/testing';
import { applyDefinitions, createConsumerGroup, PermanentError, publishRecords, type ConsumerGroup, type GroupMessage, type Termination } from '@dmf/bus';
import { federatedStream, originStream, projectionConsumer } from '@dmf/streams';
import { signedManifests } from './fixtures/records.ts';

let server: NatsServerHandle;
let nc: NatsConnection;
let js: JetStreamClient;
let jsm: JetStreamManager;
const groups: ConsumerGroup[] = [];
const logger = pino({ level: 'silent' });

beforeAll(async () => {
  server = await startNatsServer({ name: 'group', domain: 'grp' });
  nc = await connect({ servers: server.url });
  jsm = await jetstreamManager(nc);
  js = jetstream(nc);
});

afterAll(async () => {
  await Promise.all(groups.map((g) => g.close()));
  await nc?.close();
  await server?.close();
});

/** One operator per test, so each test's consumer sees only its own records. */
async function setup(operator: string, count: number): Promise<string[]> {
  const limits = { originMaxBytes: 16 << 20, federatedMaxBytes: 16 << 20 };
  await applyDefinitions(jsm, [
    originStream(operator, limits),
    federatedStream(operator, [], { limits }),
    projectionConsumer(operator, 'work', { tuning: { ackWaitMs: 1000, maxDeliver: 3 } }),
  ]);
  const records = signedManifests(count, operator).map((r) => ({ operator, ...r }));
  await publishRecords(js, records);
  return records.map((r) => r.id);
}

function group(operator: string, handler: (m: GroupMessage) => Promise<void>, extra: { onTerminated?: (t: Termination) => void; concurrency?: number } = {}) {
  const g = createConsumerGroup({
    js,
    stream: `FEDERATED_${operator}`,
    consumer: 'work',
    handler,
    logger,
    retryDelayMs: 50,
    pullExpiresMs: 1000,
    ...extra,
  });
  groups.push(g);
  return g;
}

async function consumerState(operator: string) {
  const info = await jsm.consumers.info(`FEDERATED_${operator}`, 'work');
  return { pending: info.num_pending, ackPending: info.num_ack_pending, redelivered: info.num_redelivered };
}

describe('consumer group (one process)', () => {
  it('hands every message to the handler and acks it after the handler resolved', async () => {
    const ids = await setup('g-all', 40);
    const seen: string[] = [];
    const g = group('g-all', async (m) => {
      await new Promise((resolve) => setTimeout(resolve, 2));
      seen.push(m.recordId as string);
    }, { concurrency: 8 });
    await g.start();
    await waitFor(() => g.stats().acked === 40, { timeoutMs: 10_000, description: '40 acks' });
    expect([...seen].sort()).toEqual([...ids].sort());
    expect(await consumerState('g-all')).toEqual({ pending: 0, ackPending: 0, redelivered: 0 });
    await g.close();
  });

  it('terminates a record whose handler throws PermanentError at once, reports it, and moves on', async () => {
    const ids = await setup('g-perm', 5);
    const poison = ids[2] as string;
    const terminated: Termination[] = [];
    let poisonCalls = 0;
    const g = group(
      'g-perm',
      async (m) => {
        if (m.recordId === poison) {
          poisonCalls++;
          throw new PermanentError('poison', 'this record can never be projected');
        }
      },
      { onTerminated: (t) => terminated.push(t) },
    );
    await g.start();
    await waitFor(() => g.stats().acked === 4 && g.stats().terminated === 1, { timeoutMs: 10_000, description: '4 acks, 1 termination' });
    expect(terminated).toEqual([expect.objectContaining({ recordId: poison, reason: 'permanent:poison', deliveryCount: 1 })]);
    expect(poisonCalls).toBe(1);
    // Terminated, not pending: the server will not hand it out again.
    await waitFor(async () => (await consumerState('g-perm')).ackPending === 0, { timeoutMs: 5000, description: 'no ack pending' });
    expect(await consumerState('g-perm')).toEqual({ pending: 0, ackPending: 0, redelivered: 0 });
    await g.close();
  });

  it('retries a failing record with a delay, then terminates it after max_deliver', async () => {
    const ids = await setup('g-retry', 3);
    const [flaky, broken] = ids as [string, string];
    const calls = new Map<string, number>();
    const terminated: Termination[] = [];
    const g = group(
      'g-retry',
      async (m) => {
        const id = m.recordId as string;
        calls.set(id, (calls.get(id) ?? 0) + 1);
        if (id === broken) throw new Error('store unavailable');
        if (id === flaky && m.deliveryCount === 1) throw new Error('transient');
      },
      { onTerminated: (t) => terminated.push(t) },
    );
    await g.start();
    await waitFor(() => g.stats().terminated === 1 && g.stats().acked === 2, { timeoutMs: 10_000, description: 'retry then termination' });
    expect(calls.get(flaky)).toBe(2);
    expect(calls.get(broken)).toBe(3);
    expect(terminated).toEqual([expect.objectContaining({ recordId: broken, reason: 'max_deliver', deliveryCount: 3 })]);
    expect(g.stats()).toMatchObject({ acked: 2, terminated: 1, retried: 3 });
    await waitFor(async () => (await consumerState('g-retry')).ackPending === 0, { timeoutMs: 5000, description: 'no ack pending' });
    await g.close();
  });

  it('close() stops pulling, lets running handlers finish and ack, and is safe twice', async () => {
    await setup('g-drain', 30);
    let started = 0;
    let finished = 0;
    let startedAfterClose = 0;
    let closedAt = 0;
    const g = group(
      'g-drain',
      async () => {
        if (closedAt) startedAfterClose++;
        started++;
        await new Promise((resolve) => setTimeout(resolve, 300));
        finished++;
      },
      { concurrency: 4 },
    );
    await g.start();
    await waitFor(() => started >= 4, { timeoutMs: 5000, description: 'handlers running' });
    const closing = g.close();
    const again = g.close();
    await closing;
    closedAt = Date.now();
    await again;
    expect(finished).toBe(started);
    expect(g.stats()).toMatchObject({ inFlight: 0, acked: started });
    expect(started).toBeLessThan(30);
    const state = await consumerState('g-drain');
    expect(state.ackPending).toBe(0);
    expect(state.pending).toBe(30 - started);
    expect(startedAfterClose).toBe(0);
  });

  it('stops pulling when its connection is closed under it, and close() still returns', async () => {
    await setup('g-conn', 3);
    const own = await connect({ servers: server.url });
    let handled = 0;
    const g = createConsumerGroup({ js: jetstream(own), stream: 'FEDERATED_g-conn', consumer: 'work', handler: async () => void handled++, logger, pullExpiresMs: 1000 });
    await g.start();
    await waitFor(() => g.stats().acked === 3, { timeoutMs: 5000, description: '3 acks' });
    await own.close();
    await g.close();
    expect(handled).toBe(3);
  });

  it('refuses to start on a consumer that does not exist', async () => {
    await setup('g-none', 0);
    const g = createConsumerGroup({ js, stream: 'FEDERATED_g-none', consumer: 'nope', handler: async () => {}, logger });
    await expect(g.start()).rejects.toMatchObject({ name: 'ConsumerGroupError', code: 'consumer_missing' });
    await g.close();
  });
});
