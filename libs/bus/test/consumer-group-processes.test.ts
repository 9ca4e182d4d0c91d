import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import { startNatsServer, waitFor, type NatsServerHandle } from '@dmf/testing';
import { applyDefinitions, publishRecords } from '@dmf/bus';
import { federatedStream, federatedStreamName, kvStreamName, originStream, projectionBucket, projectionBucketName, projectionConsumer } from '@dmf/streams';
import { signedManifest, signedManifests } from './fixtures/records.ts';

const WORKER = fileURLToPath(new URL('./fixtures/group-worker.ts', import.meta.url));
const OP = 'procs';
const CRASH_OP = 'crash';

interface Worker {
  name: string;
  child: ChildProcess;
  events: Array<Record<string, unknown>>;
  exit: Promise<number | null>;
}

let server: NatsServerHandle;
let nc: NatsConnection;
let js: JetStreamClient;
let jsm: JetStreamManager;
let kv: KV;
const workers: Worker[] = [];

function startWorker(name: string, operator = OP): Worker {
  const child = spawn(process.execPath, ['--import', 'tsx', WORKER, server.url, operator, name, '15'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const events: Array<Record<string, unknown>> = [];
  let buffered = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      events.push(JSON.parse(buffered.slice(0, nl)) as Record<string, unknown>);
      buffered = buffered.slice(nl + 1);
    }
  });
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { name, child, events, exit };
}

async function kvCount(): Promise<number> {
  return (await kv.status()).values;
}

async function kvByWorker(): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for await (const e of await kv.history()) {
    if (e.operation === 'PUT') counts[e.string()] = (counts[e.string()] ?? 0) + 1;
  }
  return counts;
}

beforeAll(async () => {
  server = await startNatsServer({ name: 'procs', domain: OP });
  nc = await connect({ servers: server.url });
  jsm = await jetstreamManager(nc);
  js = jetstream(nc);
  const limits = { originMaxBytes: 64 << 20, federatedMaxBytes: 64 << 20 };
  await applyDefinitions(jsm, [
    originStream(OP, limits),
    federatedStream(OP, [], { limits }),
    projectionBucket(OP, 'work', { max_bytes: 16 << 20 }),
    projectionConsumer(OP, 'work', { tuning: { ackWaitMs: 1500, maxDeliver: 3 } }),
    // A second operator for the crash test: group limit 2, so the server's max_deliver is 3.
    originStream(CRASH_OP, limits),
    federatedStream(CRASH_OP, [], { limits }),
    projectionBucket(CRASH_OP, 'work', { max_bytes: 16 << 20 }),
    projectionConsumer(CRASH_OP, 'work', { tuning: { ackWaitMs: 1000, maxDeliver: 2 } }),
  ]);
  kv = await new Kvm(js).open(projectionBucketName('work', OP));
});

afterAll(async () => {
  for (const w of workers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
  await Promise.all(workers.map((w) => w.exit));
  await nc?.close();
  await server?.close();
});

describe('consumer group across worker processes', () => {
  it('splits the work, loses nothing when a worker is SIGKILLed, terminates poison, drains on close', async () => {
    workers.push(startWorker('w0'), startWorker('w1'), startWorker('w2'));
    await waitFor(() => workers.every((w) => w.events.some((e) => e.event === 'ready')), { timeoutMs: 20_000, description: '3 workers ready' });

    const records = signedManifests(300, 'proc').map((r) => ({ operator: OP, ...r }));
    await publishRecords(js, records);

    // Kill one worker in the middle of the work; its unacked messages return after ack_wait.
    await waitFor(async () => (await kvCount()) >= 60, { timeoutMs: 15_000, intervalMs: 10, description: '60 records projected' });
    const [killed, ...alive] = workers as [Worker, Worker, Worker];
    killed.child.kill('SIGKILL');
    await killed.exit;
    expect(await kvCount()).toBeLessThan(300);

    await waitFor(async () => (await kvCount()) === 300, { timeoutMs: 20_000, description: 'all 300 records projected' });

    // Poison records after the kill: the two live workers must terminate them.
    const permanent = { operator: OP, ...signedManifest('poison-permanent') };
    const transient = { operator: OP, ...signedManifest('poison-transient') };
    const more = signedManifests(10, 'after').map((r) => ({ operator: OP, ...r }));
    await publishRecords(js, [permanent, transient, ...more]);
    const terminations = () => alive.flatMap((w) => w.events.filter((e) => e.event === 'terminated'));
    await waitFor(async () => (await kvCount()) === 310 && terminations().length === 2, {
      timeoutMs: 20_000,
      description: '310 records and 2 terminations',
    });
    expect(terminations().map((t) => [t.recordId, t.reason]).sort()).toEqual(
      [
        [permanent.id, 'permanent:poison'],
        [transient.id, 'max_deliver'],
      ].sort(),
    );

    // Every record exactly once in the KV, and every worker did a share.
    const byWorker = await kvByWorker();
    expect(Object.values(byWorker).reduce((a, b) => a + b, 0)).toBe(310);
    for (const w of workers) expect(byWorker[w.name] ?? 0, `records projected by ${w.name}`).toBeGreaterThan(0);
    for (const r of [...records, ...more]) expect(await kv.get(r.id), r.id).not.toBeNull();

    // close() drains: the live workers exit cleanly with nothing in flight or unacked.
    for (const w of alive) w.child.kill('SIGTERM');
    expect(await Promise.all(alive.map((w) => w.exit))).toEqual([0, 0]);
    for (const w of alive) {
      const closed = w.events.find((e) => e.event === 'closed') as { stats: { inFlight: number } } | undefined;
      expect(closed?.stats.inFlight).toBe(0);
    }
    const info = await jsm.consumers.info(federatedStreamName(OP), 'work');
    expect(info.num_pending).toBe(0);
    expect(info.num_ack_pending).toBe(0);
    // Deliveries beyond the 312 messages: the transient poison's 2 redeliveries, plus what
    // the killed worker held unacked, delivered again after ack_wait (at least 1 more).
    expect(info.delivered.consumer_seq).toBeGreaterThanOrEqual(312 + 3);
  });

  it('terminates and reports a message that kills its worker on every delivery, instead of losing it', async () => {
    const crashers = [startWorker('c0', CRASH_OP), startWorker('c1', CRASH_OP), startWorker('c2', CRASH_OP)];
    workers.push(...crashers);
    await waitFor(() => crashers.every((w) => w.events.some((e) => e.event === 'ready')), { timeoutMs: 20_000, description: '3 workers ready' });
    const poison = { operator: CRASH_OP, ...signedManifest('poison-crash') };
    const fine = signedManifests(5, 'beside-crash').map((r) => ({ operator: CRASH_OP, ...r }));
    await publishRecords(js, [poison, ...fine]);

    const events = (name: string) => crashers.flatMap((w) => w.events.filter((e) => e.event === name));
    // Each crash waits out ack_wait before the next delivery, and a killed worker is
    // started again; under a full CI run (two test files at once) this took over 15 s.
    await waitFor(() => events('terminated').length === 1, { timeoutMs: 45_000, description: 'the crashing record terminated' });
    // Deliveries 1 and 2 (the group's limit) each killed the worker running them; the
    // server's extra delivery reached a survivor, which reported it without running it.
    const crashes = events('crashing');
    expect(crashes.map((e) => e.deliveries as number).sort((a, b) => a - b)).toEqual([1, 2]);
    const crashed = crashers.filter((w) => w.events.some((e) => e.event === 'crashing'));
    expect(await Promise.all(crashed.map((w) => w.exit.then(() => w.child.signalCode)))).toEqual(['SIGKILL', 'SIGKILL']);
    const [survivor] = crashers.filter((w) => !crashed.includes(w)) as [Worker];
    expect(survivor.events.filter((e) => e.event === 'terminated')).toEqual([
      expect.objectContaining({ recordId: poison.id, reason: 'max_deliver_unanswered', deliveries: 3 }),
    ]);

    const crashKv = await new Kvm(js).open(projectionBucketName('work', CRASH_OP));
    await waitFor(async () => (await crashKv.status()).values === 5, { timeoutMs: 10_000, description: 'the 5 other records projected' });
    expect(await crashKv.get(poison.id)).toBeNull();
    survivor.child.kill('SIGTERM');
    expect(await survivor.exit).toBe(0);
    const closed = survivor.events.find((e) => e.event === 'closed') as { stats: { terminated: number } } | undefined;
    expect(closed?.stats.terminated).toBe(1);
    const info = await jsm.consumers.info(federatedStreamName(CRASH_OP), 'work');
    expect(info.config.max_deliver).toBe(3);
    expect(info.num_pending).toBe(0);
    expect(info.num_ack_pending).toBe(0);
    expect((await jsm.streams.info(kvStreamName(projectionBucketName('work', CRASH_OP)))).state.messages).toBe(5);
  }, 90_000);
});
