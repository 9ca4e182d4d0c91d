import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { pino } from 'pino';
import { startNatsServer, waitFor, type NatsServerHandle } from '@dmf/testing';
import {
  applyDefinitions,
  ConsumerGroupError,
  createConsumerGroup,
  PermanentError,
  publishRecords,
  type ConsumerGroup,
  type ConsumerGroupOptions,
  type GroupMessage,
  type Termination,
} from '@dmf/bus';
import { federatedStream, federatedStreamName, originStream, projectionConsumer } from '@dmf/streams';
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
async function setup(operator: string, count: number, tuning = { ackWaitMs: 1000, maxDeliver: 3 }): Promise<string[]> {
  const limits = { originMaxBytes: 16 << 20, federatedMaxBytes: 16 << 20 };
  await applyDefinitions(jsm, [
    originStream(operator, limits),
    federatedStream(operator, [], { limits }),
    projectionConsumer(operator, 'work', { tuning }),
  ]);
  const records = signedManifests(count, operator).map((r) => ({ operator, ...r }));
  await publishRecords(js, records);
  return records.map((r) => r.id);
}

type Extra = Partial<Pick<ConsumerGroupOptions, 'onTerminated' | 'concurrency' | 'handlerTimeoutMs' | 'closeTimeoutMs' | 'maxDeliver'>>;

function group(operator: string, handler: (m: GroupMessage) => Promise<void>, extra: Extra = {}) {
  const g = createConsumerGroup({
    js,
    stream: federatedStreamName(operator),
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
  const info = await jsm.consumers.info(federatedStreamName(operator), 'work');
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
    await waitFor(async () => (await consumerState('g-perm')).ackPending === 0, { timeoutMs: 15_000, description: 'no ack pending' });
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
    await waitFor(async () => (await consumerState('g-retry')).ackPending === 0, { timeoutMs: 15_000, description: 'no ack pending' });
    await g.close();
  });

  it('terminates without running the handler a message whose allowed deliveries all went unanswered', async () => {
    // Group limit 1, so the server's max_deliver is 2: the one allowed delivery goes to a
    // "worker" that dies holding it (fetched, never answered); the server's extra
    // delivery reaches the group, which reports it instead of it vanishing.
    const [lost] = (await setup('g-dead', 1, { ackWaitMs: 1000, maxDeliver: 1 })) as [string];
    expect((await jsm.consumers.info(federatedStreamName('g-dead'), 'work')).config.max_deliver).toBe(2);
    const dead = await js.consumers.get(federatedStreamName('g-dead'), 'work');
    const held: string[] = [];
    for await (const m of await dead.fetch({ max_messages: 1, expires: 2000 })) held.push(m.info.streamSequence.toString());
    expect(held).toHaveLength(1);

    const terminated: Termination[] = [];
    let calls = 0;
    const g = group('g-dead', async () => void calls++, { onTerminated: (t) => terminated.push(t) });
    await g.start();
    // Generous: in a full CI run (every file's servers on two cores) this took over 15 s
    // twice on 2026-11-29, though 2 s alone or beside busy loops; cause not found yet.
    await waitFor(() => terminated.length === 1, { timeoutMs: 45_000, description: 'the unanswered message terminated' });
    expect(terminated[0]).toMatchObject({ recordId: lost, reason: 'max_deliver_unanswered', deliveryCount: 2 });
    expect(terminated[0]?.error).toMatchObject({ name: 'ConsumerGroupError', code: 'unanswered' });
    expect(calls).toBe(0);
    expect(g.stats()).toMatchObject({ terminated: 1, acked: 0 });
    await waitFor(async () => (await consumerState('g-dead')).ackPending === 0, { timeoutMs: 15_000, description: 'no ack pending' });
    await g.close();
  }, 90_000);

  it('fails a handler that overruns its deadline like a thrown error, and terminates it at the limit', async () => {
    const [hung, ...rest] = (await setup('g-hang', 3)) as [string, ...string[]];
    const terminated: Termination[] = [];
    const signals: AbortSignal[] = [];
    const g = group(
      'g-hang',
      async (m) => {
        if (m.recordId !== hung) return;
        signals.push(m.signal);
        await new Promise(() => {}); // never returns, ignores its signal
      },
      { handlerTimeoutMs: 200, onTerminated: (t) => terminated.push(t) },
    );
    await g.start();
    await waitFor(() => terminated.length === 1, { timeoutMs: 15_000, description: 'the hung message terminated' });
    expect(terminated[0]).toMatchObject({ recordId: hung, reason: 'max_deliver', deliveryCount: 3 });
    expect(terminated[0]?.error).toMatchObject({ code: 'handler_timeout' });
    expect(signals).toHaveLength(3);
    expect(signals.every((s) => s.aborted)).toBe(true);
    expect(g.stats()).toMatchObject({ acked: rest.length, timedOut: 3, retried: 2, terminated: 1, inFlight: 3 });
    // The three hung calls still hold their slots, but their messages are answered:
    // close() does not wait for them.
    const started = Date.now();
    await g.close();
    expect(Date.now() - started).toBeLessThan(1500);
    expect(await consumerState('g-hang')).toMatchObject({ pending: 0, ackPending: 0 });
  });

  it('close() gives up on a handler that does not finish within closeTimeoutMs; the server redelivers it', async () => {
    await setup('g-stuck', 1);
    let signal: AbortSignal | undefined;
    const g = group(
      'g-stuck',
      async (m) => {
        signal = m.signal;
        await new Promise(() => {});
      },
      { handlerTimeoutMs: 900, closeTimeoutMs: 300 },
    );
    await g.start();
    await waitFor(() => signal !== undefined, { timeoutMs: 15_000, description: 'the handler running' });
    const started = Date.now();
    await g.close();
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(290);
    expect(took).toBeLessThan(300 + 400);
    expect(signal?.aborted).toBe(true);
    expect(g.stats()).toMatchObject({ acked: 0, terminated: 0 });
    // Not acknowledged: another worker gets it again.
    const other = await js.consumers.get(federatedStreamName('g-stuck'), 'work');
    const again = await waitFor(
      async () => {
        for await (const m of await other.fetch({ max_messages: 1, expires: 1000 })) {
          m.ack();
          return m.info.deliveryCount;
        }
        return undefined;
      },
      { timeoutMs: 15_000, description: 'the message delivered again' },
    );
    expect(again).toBeGreaterThan(1);
  });

  it('refuses options that would drop messages unreported or overlap ack_wait', async () => {
    await setup('g-opts', 0);
    const tooMany = group('g-opts', async () => {}, { maxDeliver: 4 }); // the consumer's max_deliver is 4
    await expect(tooMany.start()).rejects.toMatchObject({ code: 'invalid_options', message: expect.stringMatching(/maxDeliver 4.*max_deliver 4/) });
    const tooSlow = group('g-opts', async () => {}, { handlerTimeoutMs: 1000 }); // ack_wait is 1000 ms
    await expect(tooSlow.start()).rejects.toMatchObject({ code: 'invalid_options', message: expect.stringMatching(/handlerTimeoutMs 1000/) });
    expect(() => createConsumerGroup({ js, stream: 's', consumer: 'c', handler: async () => {}, closeTimeoutMs: 0 })).toThrow(ConsumerGroupError);
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
    await waitFor(() => started >= 4, { timeoutMs: 15_000, description: 'handlers running' });
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
    const g = createConsumerGroup({ js: jetstream(own), stream: federatedStreamName('g-conn'), consumer: 'work', handler: async () => void handled++, logger, pullExpiresMs: 1000 });
    await g.start();
    await waitFor(() => g.stats().acked === 3, { timeoutMs: 15_000, description: '3 acks' });
    await own.close();
    await g.close();
    expect(handled).toBe(3);
  });

  it('refuses to start on a consumer that does not exist', async () => {
    await setup('g-none', 0);
    const g = createConsumerGroup({ js, stream: federatedStreamName('g-none'), consumer: 'nope', handler: async () => {}, logger });
    await expect(g.start()).rejects.toMatchObject({ name: 'ConsumerGroupError', code: 'consumer_missing' });
    await g.close();
  });
});
