/**
 * The repair machinery of the storage coordinator on real servers: a nats-server with
 * JetStream (the log, the storage KV bucket) and a redis-server (the BullMQ repair
 * queue), both started by the harness on free ports. Nothing of the bus, the queue or
 * the crypto is mocked: records are signed, published into ORIGIN, sourced into
 * FEDERATED, read and verified by the storage projection, judged by the chunk checker,
 * queued in BullMQ and executed by the repair worker.
 *
 * The one boundary replaced is `send` (the HTTPS post of a repair task to a storage
 * agent): here a recording function that plays the agent's part when asked to (it
 * publishes the `stored` report of each shard it was told to rebuild, signed with the
 * target's key, before answering), and can fail or hold its answer.
 *
 * Each test has an operator of its own (own streams, own KV bucket, own queue name).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { applyDefinitions, openBucket, publishRecords } from '@dmf/bus';
import { encodeChunk, rsScheme } from '@dmf/erasure';
import { canonicalBytes, cidOfBytes, generateSigningKey, signRecord, verifyDocument, type RepairTask, type ShardState, type SigningKey } from '@dmf/protocol';
import { federatedStream, originStream, projectionBucketName, STORAGE, storageBucket } from '@dmf/streams';
import { startNatsServer, startRedis, waitFor, type NatsServerHandle, type RedisHandle } from '@dmf/testing';
import { startStorageRole, type StoragePolicy, type StorageRole } from '../src/main.ts';
import { chunkKey } from '../src/chunk-checker.ts';
import { LOWEST_PRIORITY, repairJobId } from '../src/domain/repair-queue.ts';
import type { ChunkStatus } from '../src/domain/chunk-status.ts';
import type { RegistryNodeLike, StorageCandidate } from '../src/domain/storage-nodes.ts';
import { repairQueueName, type RepairJob, type RepairOutcome } from '../src/repair-queue.ts';

const logger = pino({ level: 'silent' });
let nats: NatsServerHandle;
let redisServer: RedisHandle;
let nc: NatsConnection;
let js: JetStreamClient;
let jsm: JetStreamManager;

beforeAll(async () => {
  [nats, redisServer] = await Promise.all([startNatsServer({ name: 'repair-flow' }), startRedis()]);
  nc = await connect({ servers: nats.url });
  js = jetstream(nc);
  jsm = await jetstreamManager(nc);
});

afterAll(async () => {
  await nc?.close();
  await nats?.close();
  await redisServer?.stop();
});

// ---------------------------------------------------------------------------------
// The fleet: fake registry nodes with real keys
// ---------------------------------------------------------------------------------

/** 16 GiB: the weight every node has unless a test says otherwise. */
const CAPACITY = 2 ** 34;

/**
 * Capacities with one node far roomier than the rest (2^52 bytes against 2^34): the
 * weighted rendezvous placement then picks it for a rebuilt shard whenever it is
 * eligible (the odds against are about 1 in 10^5). Tests put it in the region of the
 * shard they lose, so the repair target is known and the repaired group keeps one
 * shard per region. Without it the target's region would be chance: placement of a
 * rebuilt shard (domain/repair-task.ts, placeShards over the non-holders) does not
 * weigh the regions of the shards kept, and a rebuilt shard placed in a region that
 * already holds one leaves the group degraded (region cap ⌈4/4⌉ = 1), which would
 * start further repairs in these tests.
 */
function roomy(index: number): (i: number) => number {
  return (i) => (i === index ? 2 ** 52 : CAPACITY);
}

interface Fleet {
  /** Node ids (their keys' did), in creation order: node i is in region r(i mod regions). */
  ids: string[];
  keyOf: Map<string, SigningKey>;
  regionOf: Map<string, string>;
  registry: RegistryNodeLike[];
  /** Signs erasure groups (the coordinator that assigned them) and is the role's key. */
  coordinator: SigningKey;
}

function fleet(count: number, regions: number, capacityOf: (i: number) => number = () => CAPACITY): Fleet {
  const keys = Array.from({ length: count }, () => generateSigningKey());
  const registry: RegistryNodeLike[] = keys.map((k, i) => ({
    nodeId: k.did,
    state: 'admitted',
    manifest: { services: ['storage'], capabilities: { region: `r${i % regions}`, storage: { capacity_bytes: capacityOf(i) } } },
    services: [{ type: 'storage', entrypoints: [`https://10.${i}.0.1:9443/`] }],
    uptimePpm: [1_000_000],
  }));
  return {
    ids: keys.map((k) => k.did),
    keyOf: new Map(keys.map((k) => [k.did, k])),
    regionOf: new Map(keys.map((k, i) => [k.did, `r${i % regions}`])),
    registry,
    coordinator: generateSigningKey(),
  };
}

// ---------------------------------------------------------------------------------
// The log: erasure groups and shard reports
// ---------------------------------------------------------------------------------

type Publishable = { operator: string; kind: string; id: string; bytes: Uint8Array };

function toPublish(operator: string, r: { kind: string; id: string; document: object }): Publishable {
  return { operator, kind: r.kind, id: r.id, bytes: canonicalBytes(r.document) };
}

/** Report seqs only grow per holder; one counter for all keeps that simple. */
let reportSeq = 1;

interface Chunk {
  chunk: string;
  groupId: string;
  holders: string[];
  shardCids: string[];
  shardBytes: number;
}

/** A chunk of `k + m` shards under RS(k, m) at `holders` (shard i at holders[i]), signed by the fleet's coordinator. */
function assign(f: Fleet, label: string, k: number, m: number, holders: string[]): { chunk: Chunk; record: { kind: string; id: string; document: object } } {
  const bytes = new Uint8Array(4096);
  const seed = Buffer.from(`repair-flow ${label}`);
  for (let i = 0; i < bytes.length; i++) bytes[i] = (seed[i % seed.length] as number) ^ (i & 0xff);
  const shards = encodeChunk(rsScheme(k, m), bytes);
  const shardCids = shards.map((s) => cidOfBytes(s));
  const shardBytes = (shards[0] as Uint8Array).length;
  const chunk = cidOfBytes(bytes);
  const record = signRecord(
    { kind: 'erasure_group', coordinator: f.coordinator.did, chunk, size: bytes.length, tier: 'warm', scheme: { type: 'rs', k, m }, shard_bytes: shardBytes, shards: shardCids, holders },
    f.coordinator,
  );
  return { chunk: { chunk, groupId: record.id, holders, shardCids, shardBytes }, record };
}

/** A holder's report on one shard, signed with the holder's key. */
function report(f: Fleet, c: Chunk, shard: number, state: ShardState, node = c.holders[shard] as string, group = c.groupId) {
  return signRecord(
    { kind: 'shard_report', node, group, chunk: c.chunk, shard, cid: c.shardCids[shard] as string, state, seq: reportSeq++ },
    f.keyOf.get(node) as SigningKey,
  );
}

/** Publishes the assigned groups and a `stored` report from every holder. */
async function seed(operator: string, f: Fleet, assigned: ReturnType<typeof assign>[]): Promise<Chunk[]> {
  const records: Publishable[] = [];
  for (const { chunk, record } of assigned) {
    records.push(toPublish(operator, record));
    chunk.holders.forEach((_, shard) => records.push(toPublish(operator, report(f, chunk, shard, 'stored'))));
  }
  await publishRecords(js, records);
  return assigned.map((a) => a.chunk);
}

/** Holders report shards `missing` (with a higher seq than their `stored`). */
async function lose(operator: string, f: Fleet, c: Chunk, shards: number[]): Promise<void> {
  await publishRecords(
    js,
    shards.map((shard) => toPublish(operator, report(f, c, shard, 'missing'))),
  );
}

// ---------------------------------------------------------------------------------
// The agent boundary: a recording `send`
// ---------------------------------------------------------------------------------

interface Sent {
  at: number;
  target: StorageCandidate;
  task: RepairTask;
}

interface Gate {
  wait: Promise<void>;
  open(): void;
  fail(error: Error): void;
}

function gate(): Gate {
  let open!: () => void;
  let fail!: (error: Error) => void;
  const wait = new Promise<void>((resolve, reject) => {
    open = resolve;
    fail = reject;
  });
  wait.catch(() => undefined);
  return { wait, open, fail };
}

interface AgentOptions {
  /** Run before anything else on each call (index from 0): throw to fail the call, await to hold it. */
  before?: (call: number, sent: Sent) => Promise<void> | void;
  /** Play the storage agent: publish `stored` reports for the shards rebuilt at the target. Default true. */
  report?: boolean;
}

function agent(operator: string, f: Fleet, options: AgentOptions = {}) {
  const sent: Sent[] = [];
  const send = async (target: StorageCandidate, task: Record<string, unknown>): Promise<void> => {
    const entry: Sent = { at: Date.now(), target, task: task as unknown as RepairTask };
    const call = sent.push(entry) - 1;
    await options.before?.(call, entry);
    if (options.report === false) return;
    // As a storage agent does: store the rebuilt shards, report them, then answer.
    const t = entry.task;
    const reports = t.rebuild
      .filter((r) => r.node === target.node.nodeId)
      .map((r) =>
        toPublish(
          operator,
          signRecord(
            { kind: 'shard_report', node: r.node, group: t.group, chunk: t.chunk, shard: r.shard, cid: shardCidOf(t.chunk, r.shard), state: 'stored', seq: reportSeq++ },
            f.keyOf.get(r.node) as SigningKey,
          ),
        ),
      );
    await publishRecords(js, reports);
  };
  const cids = new Map<string, string[]>();
  const shardCidOf = (chunk: string, shard: number) => (cids.get(chunk) as string[])[shard] as string;
  return { sent, send, know: (c: Chunk) => cids.set(c.chunk, c.shardCids) };
}

// ---------------------------------------------------------------------------------
// The role
// ---------------------------------------------------------------------------------

interface Running {
  role: StorageRole;
  redis: Redis;
  kv: KV;
  startedAt: number;
  close(): Promise<void>;
}

const MiB = 2 ** 20;
const FAST: Partial<StoragePolicy> = { intervalMs: 150, sweepMs: 600_000, downToOutMs: 600_000 };

async function createOperator(operator: string): Promise<void> {
  // What the storage role uses (ORIGIN, FEDERATED, the storage bucket), small: six
  // operators share one test server, whose store reserves every stream's max bytes.
  const limits = { originMaxBytes: 16 * MiB, federatedMaxBytes: 16 * MiB };
  await applyDefinitions(jsm, [originStream(operator, limits), federatedStream(operator, [], { limits }), storageBucket(operator, { max_bytes: 16 * MiB })]);
}

async function startRole(
  operator: string,
  f: Fleet,
  send: (target: StorageCandidate, task: Record<string, unknown>) => Promise<void>,
  policy: Partial<StoragePolicy> = {},
  unreachable: () => ReadonlyMap<string, number> = () => new Map(),
): Promise<Running> {
  const redis = new Redis(redisServer.url, { maxRetriesPerRequest: null });
  const startedAt = Date.now();
  let role: StorageRole;
  try {
    role = await startStorageRole({
      js,
      jsm,
      operator,
      key: f.coordinator,
      redis,
      logger,
      registryNodes: () => f.registry,
      unreachable,
      isAdmitted: (nodeId) => f.keyOf.has(nodeId),
      send,
      policy: { ...FAST, ...policy },
    });
  } catch (error) {
    redis.disconnect();
    throw error;
  }
  const kv = await openBucket(js, projectionBucketName(STORAGE, operator));
  let closed = false;
  return {
    role,
    redis,
    kv,
    startedAt,
    async close() {
      if (closed) return;
      closed = true;
      try {
        await role.close();
      } finally {
        await redis.quit().catch(() => redis.disconnect());
      }
    },
  };
}

async function status(r: Running, chunk: string): Promise<ChunkStatus | undefined> {
  const entry = await r.kv.get(chunkKey(chunk));
  if (!entry || entry.length === 0) return undefined;
  return JSON.parse(entry.string()) as ChunkStatus;
}

/** Waits until the KV status of `chunk` satisfies `ok`; returns it. */
function statusWhen(r: Running, chunk: string, ok: (s: ChunkStatus) => boolean, description: string, timeoutMs = 10_000): Promise<ChunkStatus> {
  return waitFor(
    async () => {
      const s = await status(r, chunk);
      return s !== undefined && ok(s) ? s : undefined;
    },
    { timeoutMs, description },
  );
}

/** Every job in the queue (any state) about `chunk`. */
async function jobsOf(r: Running, chunk: string) {
  const jobs = await r.role.queue.queue.getJobs(['active', 'waiting', 'prioritized', 'delayed', 'completed', 'failed', 'waiting-children']);
  return jobs.filter((j) => j !== undefined && (j.data as RepairJob).kind === 'plan' && (j.data as Extract<RepairJob, { kind: 'plan' }>).chunk === chunk);
}

/**
 * Waits until the job is in `state`; returns a view read after the state was seen.
 * (RepairQueue.view reads the job, then its state, in two round trips: a job finishing
 * in between shows the new state with the fields of before, e.g. 'completed' without
 * its outcome. A second read once the state is seen gives fields of that state.)
 */
function jobState(r: Running, jobId: string, state: string, timeoutMs = 15_000) {
  return waitFor(
    async () => {
      if ((await r.role.queue.view(jobId))?.state !== state) return undefined;
      const view = await r.role.queue.view(jobId);
      return view?.state === state ? view : undefined;
    },
    { timeoutMs, description: `job ${jobId} ${state}` },
  );
}

function verifiedTask(task: RepairTask, coordinator: string): string {
  const verified = verifyDocument(task, { freshness: false });
  expect(verified.kind).toBe('repair_task');
  expect(verified.signer).toBe(coordinator);
  return verified.id;
}

// ---------------------------------------------------------------------------------
// The tests
// ---------------------------------------------------------------------------------

describe('storage coordinator repair flow (real nats-server and redis-server)', () => {
  it('repairs a degraded chunk once: one plan job, a signed task to a non-holder, the next group version', async () => {
    const op = 'rfa';
    await createOperator(op);
    // 8 nodes in 4 regions; the group sits on nodes 0-3 (one per region). Shard 2 (region
    // r2) goes missing. Node 6, the other node in r2, has far more room than any other,
    // so the weighted placement picks it: the rebuilt shard stays in r2 and the
    // repaired group is healthy (see roomy()).
    const f = fleet(8, 4, roomy(6));
    const holders = f.ids.slice(0, 4);
    const [c] = (await seed(op, f, [assign(f, 'one', 2, 2, holders)])) as [Chunk];
    const released = gate();
    const a = agent(op, f, { before: () => released.wait });
    a.know(c);
    // A sweep every 300 ms offers the degraded chunk to the queue again and again (the
    // checker forgets what it queued at each sweep): BullMQ must keep one job.
    const r = await startRole(op, f, a.send, { sweepMs: 300 });
    try {
      const healthy = await statusWhen(r, c.chunk, (s) => s.condition === 'healthy', 'chunk healthy at first');
      expect(healthy).toMatchObject({ seq: 1, group: c.groupId, effective: 4, repair_threshold: 3 });
      expect(await jobsOf(r, c.chunk)).toHaveLength(0);

      await lose(op, f, c, [2]);
      const degraded = await statusWhen(r, c.chunk, (s) => s.condition === 'degraded', 'chunk degraded');
      expect(degraded.shards.map((s) => s.standing)).toEqual(['live', 'live', 'rebuild', 'live']);
      const jobId = repairJobId(c.chunk, c.groupId);
      await waitFor(() => a.sent.length === 1, { timeoutMs: 10_000, description: 'the repair task sent' });
      // Offered several times (queued counts each fresh offer since the last sweep)...
      const offeredBefore = r.role.checker.stats().queued;
      await waitFor(() => r.role.checker.stats().queued >= offeredBefore + 3, { timeoutMs: 10_000, description: 'three more offers of the chunk' });
      // ...yet one job, and one call.
      const jobs = await jobsOf(r, c.chunk);
      expect(jobs.map((j) => j.id)).toEqual([jobId]);
      expect(jobs[0]?.data).toEqual({ kind: 'plan', chunk: c.chunk, group: c.groupId });
      expect(a.sent).toHaveLength(1);

      const { target, task } = a.sent[0] as Sent;
      const taskId = verifiedTask(task, f.coordinator.did);
      const live = new Set([holders[0], holders[1], holders[3]]);
      expect(live.has(target.node.nodeId)).toBe(false);
      expect(target.node.nodeId).toBe(f.ids[6]);
      expect(target.url).toBe('https://10.6.0.1:9443');
      expect(task).toMatchObject({ kind: 'repair_task', coordinator: f.coordinator.did, group: c.groupId, chunk: c.chunk, seq: 1 });
      expect(task.rebuild).toEqual([{ shard: 2, node: target.node.nodeId }]);
      // RS(2,2) reads k = 2 live shards, each from its holder.
      expect(task.read).toHaveLength(2);
      for (const { shard, node } of task.read) {
        expect([0, 1, 3]).toContain(shard);
        expect(node).toBe(holders[shard]);
      }
      // The task is in the log (the projection read it back).
      expect(r.role.projection.task(taskId)?.document.chunk).toBe(c.chunk);
      // While the agent works, the group is unchanged.
      expect(r.role.projection.current(c.chunk)?.id).toBe(c.groupId);

      released.open();
      const done = await jobState(r, jobId, 'completed');
      expect(done.attempts).toBe(1);
      const outcome = done.outcome as RepairOutcome;
      expect(outcome).toMatchObject({ outcome: 'repaired', task: taskId });
      const current = r.role.projection.current(c.chunk);
      expect(current?.id).toBe(outcome.group);
      expect(current?.document.seq).toBe(2);
      expect(current?.document.coordinator).toBe(f.coordinator.did);
      expect(current?.document.holders).toEqual([holders[0], holders[1], target.node.nodeId, holders[3]]);
      expect(current?.document.shards).toEqual(c.shardCids);
      // With the agent's report in, the chunk is healthy at seq 2: no further job, no further call.
      const after = await statusWhen(r, c.chunk, (s) => s.seq === 2 && s.condition === 'healthy', 'chunk healthy at seq 2');
      expect(after.shards.map((s) => s.standing)).toEqual(['live', 'live', 'live', 'live']);
      expect((await jobsOf(r, c.chunk)).map((j) => j.id)).toEqual([jobId]);
      expect(a.sent).toHaveLength(1);
    } finally {
      released.open();
      await r.close();
    }
  }, 60_000);

  it('waits for a down holder until down-to-out has passed, then queues the repair', async () => {
    const op = 'rfb';
    await createOperator(op);
    const f = fleet(8, 4, roomy(5));
    const holders = f.ids.slice(0, 4);
    const [c] = (await seed(op, f, [assign(f, 'down', 2, 2, holders)])) as [Chunk];
    const down = holders[1] as string;
    const released = gate();
    const a = agent(op, f, { before: () => released.wait });
    a.know(c);
    const DOWN_TO_OUT = 3_000;
    const downSince = Date.now();
    const r = await startRole(op, f, a.send, { downToOutMs: DOWN_TO_OUT }, () => new Map([[down, downSince]]));
    const jobId = repairJobId(c.chunk, c.groupId);
    try {
      // Down, not out: its shard still counts (waiting), the chunk is healthy, nothing queued.
      const waiting = await statusWhen(r, c.chunk, (s) => s.shards[1]?.standing === 'waiting', 'shard 1 waiting');
      const seenWaitingAt = Date.now();
      expect(seenWaitingAt - downSince).toBeLessThan(DOWN_TO_OUT);
      expect(waiting.condition).toBe('healthy');
      expect(waiting.shards.map((s) => s.standing)).toEqual(['live', 'waiting', 'live', 'live']);
      // Not yet, checked all along until shortly before the delay ends.
      let probes = 0;
      while (Date.now() < downSince + DOWN_TO_OUT - 400) {
        expect(await r.role.queue.queue.getJob(jobId)).toBeUndefined();
        expect((await status(r, c.chunk))?.condition).toBe('healthy');
        probes++;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(probes).toBeGreaterThan(5);
      expect(a.sent).toHaveLength(0);

      // Then yes: out, the shard is to rebuild and the job is there.
      const job = await waitFor(() => r.role.queue.queue.getJob(jobId), { timeoutMs: 10_000, description: 'the repair job' });
      expect(job.timestamp).toBeGreaterThanOrEqual(downSince + DOWN_TO_OUT);
      expect(job.timestamp).toBeLessThan(downSince + DOWN_TO_OUT + 5_000);
      const out = await statusWhen(r, c.chunk, (s) => s.condition === 'degraded', 'chunk degraded once the holder is out');
      expect(out.shards.map((s) => s.standing)).toEqual(['live', 'rebuild', 'live', 'live']);

      // The repair rebuilds shard 1 elsewhere, reading only from holders that are up.
      await waitFor(() => a.sent.length === 1, { timeoutMs: 10_000, description: 'the repair task sent' });
      const { target, task } = a.sent[0] as Sent;
      expect(task.rebuild).toEqual([{ shard: 1, node: target.node.nodeId }]);
      expect(holders).not.toContain(target.node.nodeId);
      expect(task.read.map((x) => x.node)).not.toContain(down);
      released.open();
      expect((await jobState(r, jobId, 'completed')).outcome?.outcome).toBe('repaired');
    } finally {
      released.open();
      await r.close();
    }
  }, 60_000);

  it('gives the chunk nearer to loss the more urgent priority, and runs it first', async () => {
    const op = 'rfc';
    await createOperator(op);
    const f = fleet(8, 4, roomy(4));
    // RS(4,4) over all 8 nodes (two per region, cap 2): repair threshold 6.
    const [blocker, v, u] = (await seed(op, f, [
      assign(f, 'blocker', 2, 2, f.ids.slice(0, 4)),
      assign(f, 'two-missing', 4, 4, f.ids),
      assign(f, 'three-missing', 4, 4, f.ids),
    ])) as [Chunk, Chunk, Chunk];
    const released = gate();
    const a = agent(op, f, { before: () => released.wait });
    for (const c of [blocker, v, u]) a.know(c);
    // One repair at a time; the blocker's holds the worker while the other two are queued.
    const r = await startRole(op, f, a.send, { repairConcurrency: 1 });
    try {
      for (const c of [blocker, v, u]) await statusWhen(r, c.chunk, (s) => s.condition === 'healthy', `${c.chunk} healthy`);
      await lose(op, f, blocker, [0]);
      await waitFor(() => a.sent.length === 1, { timeoutMs: 10_000, description: 'the blocker repair started' });

      // The less urgent one first into the log, so arrival order cannot explain the result.
      await lose(op, f, v, [0, 1]);
      await lose(op, f, u, [2, 3, 4]);
      const jobV = repairJobId(v.chunk, v.groupId);
      const jobU = repairJobId(u.chunk, u.groupId);
      await jobState(r, jobV, 'prioritized');
      await jobState(r, jobU, 'prioritized');
      const sV = await status(r, v.chunk);
      const sU = await status(r, u.chunk);
      expect([sV?.condition, sV?.effective]).toEqual(['degraded', 6]);
      expect([sU?.condition, sU?.effective]).toEqual(['degraded', 5]);
      const priorityV = (await r.role.queue.queue.getJob(jobV))?.opts.priority as number;
      const priorityU = (await r.role.queue.queue.getJob(jobU))?.opts.priority as number;
      expect(priorityU).toBeGreaterThanOrEqual(1);
      expect(priorityV).toBeLessThan(LOWEST_PRIORITY);
      expect(priorityU).toBeLessThan(priorityV);

      released.open();
      await jobState(r, jobU, 'completed');
      await jobState(r, jobV, 'completed');
      // A task is posted to each node rebuilding a shard (3 for U, 2 for V): the order of
      // the tasks is the order of the chunks' first posts.
      const order = a.sent.map((s) => s.task.chunk).filter((chunk, i, all) => all.indexOf(chunk) === i);
      expect(order).toEqual([blocker.chunk, u.chunk, v.chunk]);
      expect(a.sent.filter((s) => s.task.chunk === u.chunk).map((s) => s.target.node.nodeId).sort()).toEqual([f.ids[2], f.ids[3], f.ids[4]].sort());
      expect(a.sent.filter((s) => s.task.chunk === v.chunk)).toHaveLength(2);
      const lastU = Math.max(...a.sent.flatMap((s, i) => (s.task.chunk === u.chunk ? [i] : [])));
      const firstV = a.sent.findIndex((s) => s.task.chunk === v.chunk);
      expect(lastU).toBeLessThan(firstV);
      expect(a.sent.find((s) => s.task.chunk === u.chunk)?.task.rebuild.map((x) => x.shard)).toEqual([2, 3, 4]);
      expect(a.sent.find((s) => s.task.chunk === v.chunk)?.task.rebuild.map((x) => x.shard)).toEqual([0, 1]);
    } finally {
      released.open();
      await r.close();
    }
  }, 60_000);

  it('retries a failed send with backoff, and completes on the second attempt', async () => {
    const op = 'rfd';
    await createOperator(op);
    const f = fleet(8, 4, roomy(4));
    const [c] = (await seed(op, f, [assign(f, 'retry', 2, 2, f.ids.slice(0, 4))])) as [Chunk];
    const a = agent(op, f, {
      before: (call) => {
        if (call === 0) throw new Error('agent answered 503');
      },
    });
    a.know(c);
    const r = await startRole(op, f, a.send);
    const jobId = repairJobId(c.chunk, c.groupId);
    try {
      await statusWhen(r, c.chunk, (s) => s.condition === 'healthy', 'chunk healthy at first');
      await lose(op, f, c, [0]);
      await waitFor(() => a.sent.length === 1, { timeoutMs: 10_000, description: 'the first attempt' });
      // Failed once, waiting for its retry, not failed for good.
      const between = await jobState(r, jobId, 'delayed', 5_000);
      expect(between.attempts).toBe(1);
      expect(between.failed_reason).toContain('agent answered 503');
      expect(a.sent).toHaveLength(1);

      const done = await jobState(r, jobId, 'completed', 25_000);
      expect(done.attempts).toBe(2);
      expect(done.outcome?.outcome).toBe('repaired');
      expect(a.sent).toHaveLength(2);
      const [first, second] = a.sent as [Sent, Sent];
      // BullMQ's exponential backoff: 5 s before the first retry.
      expect(second.at - first.at).toBeGreaterThanOrEqual(4_900);
      // A new task was issued for the retry (next seq of this coordinator and group).
      expect(first.task.group).toBe(c.groupId);
      expect(second.task.group).toBe(c.groupId);
      expect([first.task.seq, second.task.seq]).toEqual([1, 2]);
      expect(second.task.rebuild.map((x) => x.shard)).toEqual([0]);
      const current = r.role.projection.current(c.chunk);
      expect(current?.id).toBe(done.outcome?.group);
      expect(current?.document.seq).toBe(2);
      expect(current?.document.holders[0]).toBe(second.target.node.nodeId);
    } finally {
      await r.close();
    }
  }, 60_000);

  it('defers a repair over the per-node traffic cap without failing it', async () => {
    const op = 'rfe';
    await createOperator(op);
    const f = fleet(8, 4, roomy(7));
    const holders = f.ids.slice(0, 4);
    const [c1, c2] = (await seed(op, f, [assign(f, 'cap-1', 2, 2, holders), assign(f, 'cap-2', 2, 2, holders)])) as [Chunk, Chunk];
    const a = agent(op, f);
    a.know(c1);
    a.know(c2);
    // Each repair moves one shard's bytes through each node it touches; the cap lets
    // a node carry one repair's share per window, not two.
    const cap = Math.floor(c1.shardBytes * 1.5);
    const r = await startRole(op, f, a.send, { repairBytesPerNode: cap, repairWindowMs: 60_000 });
    try {
      await statusWhen(r, c1.chunk, (s) => s.condition === 'healthy', 'chunk 1 healthy');
      await statusWhen(r, c2.chunk, (s) => s.condition === 'healthy', 'chunk 2 healthy');
      // Shard 3 of both: both repairs read shards 0 and 1, from the same two nodes.
      await lose(op, f, c1, [3]);
      await lose(op, f, c2, [3]);
      const ids = [repairJobId(c1.chunk, c1.groupId), repairJobId(c2.chunk, c2.groupId)];
      const states = await waitFor(
        async () => {
          const seen = await Promise.all(ids.map((id) => r.role.queue.view(id)));
          if (seen.map((v) => v?.state).sort().join() !== 'completed,delayed') return undefined;
          // Read again once settled (see jobState).
          const views = await Promise.all(ids.map((id) => r.role.queue.view(id)));
          return views.map((v) => v?.state).sort().join() === 'completed,delayed' ? views : undefined;
        },
        { timeoutMs: 15_000, description: 'one repair completed and the other delayed' },
      );
      const done = states.find((v) => v?.state === 'completed');
      const deferred = states.find((v) => v?.state === 'delayed');
      expect(done?.outcome?.outcome).toBe('repaired');
      expect(a.sent).toHaveLength(1);
      expect(a.sent[0]?.task.read.map((x) => x.node).sort()).toEqual([holders[0], holders[1]].sort());
      const deferredChunk = deferred?.id === ids[0] ? c1 : c2;
      // Delayed by the cap, not failed: no attempt spent, no failure reason.
      const job = await r.role.queue.queue.getJob(deferred?.id as string);
      expect(job?.failedReason ?? '').toBe('');
      expect(job?.attemptsMade).toBe(0);
      expect(await job?.isFailed()).toBe(false);
      // It stays delayed (the window is a minute), it neither runs nor fails meanwhile.
      const ticks = r.role.checker.stats().ticks;
      await waitFor(() => r.role.checker.stats().ticks >= ticks + 5, { timeoutMs: 10_000, description: 'five more checker ticks' });
      expect((await r.role.queue.view(deferred?.id as string))?.state).toBe('delayed');
      expect(a.sent.filter((s) => s.task.chunk === deferredChunk.chunk)).toHaveLength(0);
      expect((await r.role.queue.counts())['failed']).toBe(0);
      expect(r.role.projection.current(deferredChunk.chunk)?.id).toBe(deferredChunk.groupId);
    } finally {
      await r.close();
    }
  }, 60_000);

  it('rebuilds the queue from the log when the role starts again', async () => {
    const op = 'rff';
    await createOperator(op);
    const f = fleet(8, 4);
    const [c] = (await seed(op, f, [assign(f, 'restart', 2, 2, f.ids.slice(0, 4))])) as [Chunk];
    const jobId = repairJobId(c.chunk, c.groupId);
    // First run: the agent never answers well; the job fails once and waits for its retry.
    const down = agent(op, f, {
      before: () => {
        throw new Error('agent unreachable');
      },
    });
    const first = await startRole(op, f, down.send);
    try {
      await statusWhen(first, c.chunk, (s) => s.condition === 'healthy', 'chunk healthy at first');
      await lose(op, f, c, [1]);
      const failedOnce = await jobState(first, jobId, 'delayed');
      expect(failedOnce.attempts).toBe(1);
    } finally {
      await first.close();
    }

    // Between the runs, Redis still holds that job, and gets one the log knows nothing of.
    const redis = new Redis(redisServer.url, { maxRetriesPerRequest: null });
    const queue = new Queue<RepairJob, RepairOutcome>(repairQueueName(op), { connection: redis });
    try {
      const kept = await queue.getJob(jobId);
      expect(kept?.attemptsMade).toBe(1);
      expect(await kept?.getState()).toBe('delayed');
      await queue.add('plan', { kind: 'plan', chunk: 'stray', group: 'stray' }, { jobId: 'repair-stray', priority: 1, delay: 600_000 });
      expect(await queue.getJob('repair-stray')).toBeDefined();
    } finally {
      await queue.close();
      await redis.quit();
    }

    // Second run: nothing may finish (the agent holds every call).
    const held = gate();
    const second = agent(op, f, { before: () => held.wait });
    second.know(c);
    const restartedAt = Date.now();
    const again = await startRole(op, f, second.send);
    try {
      // Emptied at start: the stray job is gone...
      expect(await again.role.queue.queue.getJob('repair-stray')).toBeUndefined();
      // ...and the degraded chunk's job is back, queued afresh from the log.
      const job = await waitFor(() => again.role.queue.queue.getJob(jobId), { timeoutMs: 10_000, description: 'the job queued again' });
      expect(job.timestamp).toBeGreaterThanOrEqual(restartedAt);
      expect(job.attemptsMade).toBe(0);
      expect(job.data).toEqual({ kind: 'plan', chunk: c.chunk, group: c.groupId });
      expect(job.opts.priority).toBeGreaterThanOrEqual(1);
      await waitFor(() => second.sent.length === 1, { timeoutMs: 10_000, description: 'the job running again' });
      expect(second.sent[0]?.task.rebuild.map((x) => x.shard)).toEqual([1]);
      expect((await jobsOf(again, c.chunk)).map((j) => j.id)).toEqual([jobId]);
      expect(await again.role.queue.counts()).toMatchObject({ active: 1, delayed: 0, failed: 0, completed: 0 });
    } finally {
      held.fail(new Error('test over'));
      await again.close();
    }
  }, 60_000);
});
