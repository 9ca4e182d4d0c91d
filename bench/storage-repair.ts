/**
 * `npm run bench:storage` (issue "Storage coordination", Performance: repair planning):
 * chunks per second from a degraded report to a queued repair task, on real parts (a
 * nats-server and a redis-server of its own) through the coordinator's own components:
 * the storage projection reading FEDERATED, the chunk checker, the BullMQ repair queue.
 *
 * Set-up (not timed): `--chunks` chunks (default 5,000) under RS(10,4) over `--nodes`
 * storage nodes (default 40, four regions), each with its erasure group and one
 * `stored` report per shard in the log; the checker's first pass finds all healthy.
 *
 * Timed: for every chunk, two holders report their shard `missing` (RS(10,4) repairs at
 * 12 live shards or fewer). From the first report published to the last repair job in
 * the queue: reports published into the log, read and verified by the projection,
 * health judged, status written to KV, job added (deduplicated, prioritised).
 *
 * Baseline in the same run: the same number of jobs added to a bare BullMQ queue on the
 * same Redis, one after another as the checker adds them (the queue's own ceiling for
 * this pattern). The ratio says how much of the time is the queue.
 */
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { pino } from 'pino';
import { Redis } from 'ioredis';
import { Queue } from 'bullmq';
import { connect } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { applyDefinitions, openBucket, publishRecords } from '@dmf/bus';
import { encodeChunk, rsScheme } from '@dmf/erasure';
import { canonicalBytes, cidOfBytes, generateSigningKey, signRecord, type SigningKey } from '@dmf/protocol';
import { definitionsFor, projectionBucketName, STORAGE } from '@dmf/streams';
import { ChunkChecker, placeShards, RepairQueue, StorageProjection, type RegistryNodeLike, storageCandidates } from '@dmf/storage-coordinator';
import { startNatsServer, startRedis } from '@dmf/testing';

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  if (i < 0) return fallback;
  const n = Number(process.argv[i + 1]);
  if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`${name}: ${process.argv[i + 1]} must be a positive whole number`);
  return n;
}

const CHUNKS = option('--chunks', 5_000);
const NODES = option('--nodes', 40);
const OPERATOR = 'bench';
const log = pino({ level: 'warn' });

const nats = await startNatsServer({ name: 'bench-storage' });
const redisServer = await startRedis();
const nc = await connect({ servers: nats.url });
const js = jetstream(nc);
const jsm = await jetstreamManager(nc);
await applyDefinitions(jsm, definitionsFor({ operator: OPERATOR, peers: [] }));
const redis = new Redis(redisServer.url, { maxRetriesPerRequest: null });

try {
  // Storage nodes as the registry would show them: admitted, storage role, 1 TiB each.
  const keys: SigningKey[] = Array.from({ length: NODES }, () => generateSigningKey());
  const registry: RegistryNodeLike[] = keys.map((k, i) => ({
    nodeId: k.did,
    state: 'admitted',
    manifest: { services: ['storage'], capabilities: { region: `r${i % 4}`, storage: { capacity_bytes: 2 ** 40 } } },
    services: [{ type: 'storage', entrypoints: [`https://10.${i}.0.1:9443/`] }],
    uptimePpm: [1_000_000],
  }));
  const keyOf = new Map(keys.map((k) => [k.did, k]));
  const coordinator = generateSigningKey();
  const scheme = rsScheme(10, 4);
  const shardCids = encodeChunk(scheme, new Uint8Array(4096).fill(7)).map((s) => cidOfBytes(s));

  // Set-up: groups and stored reports in the log.
  const setupStart = performance.now();
  const candidates = storageCandidates(registry, new Map(), new Map()).map((c) => c.node);
  const groups: { id: string; chunk: string; holders: string[] }[] = [];
  const records: { operator: string; kind: string; id: string; bytes: Uint8Array }[] = [];
  const add = (r: { kind: string; id: string; document: object }) => records.push({ operator: OPERATOR, kind: r.kind, id: r.id, bytes: canonicalBytes(r.document) });
  let seq = 1;
  for (let c = 0; c < CHUNKS; c++) {
    const chunk = cidOfBytes(Buffer.from(`bench chunk ${c}`));
    const holders = placeShards({ chunk, shards: 14, shardBytes: 410 }, candidates).map((n) => n.nodeId);
    const g = signRecord({ kind: 'erasure_group', coordinator: coordinator.did, chunk, size: 4096, tier: 'warm', scheme: { type: 'rs', k: 10, m: 4 }, shard_bytes: 410, shards: shardCids, holders }, coordinator);
    add(g);
    groups.push({ id: g.id, chunk, holders });
    holders.forEach((node, shard) =>
      add(signRecord({ kind: 'shard_report', node, group: g.id, chunk, shard, cid: shardCids[shard] as string, state: 'stored', seq: seq++ }, keyOf.get(node) as SigningKey)),
    );
  }
  await publishRecords(js, records, { window: 2000 });
  const projection = new StorageProjection({ js, jsm, operator: OPERATOR, logger: log });
  await projection.start();
  const kv = await openBucket(js, projectionBucketName(STORAGE, OPERATOR));
  const queue = new RepairQueue(redis, OPERATOR, log);
  await queue.rebuild();
  const nodes = () => storageCandidates(registry, projection.usedBytes(), new Map());
  const checker = new ChunkChecker({ self: coordinator.did, projection, kv, queue, nodes, policy: { intervalMs: 20 }, logger: log });
  await checker.tick(); // the first pass: every chunk healthy, statuses written
  const setupSeconds = (performance.now() - setupStart) / 1000;
  if (checker.stats().queued !== 0) throw new Error(`set-up: ${checker.stats().queued} chunks already queued`);

  // Timed: two missing reports per chunk → degraded → queued.
  const missing: typeof records = [];
  for (const g of groups) {
    for (const shard of [0, 1]) {
      const node = g.holders[shard] as string;
      const r = signRecord({ kind: 'shard_report', node, group: g.id, chunk: g.chunk, shard, cid: shardCids[shard] as string, state: 'missing', seq: seq++ }, keyOf.get(node) as SigningKey);
      missing.push({ operator: OPERATOR, kind: r.kind, id: r.id, bytes: canonicalBytes(r.document) });
    }
  }
  checker.start();
  const start = performance.now();
  await publishRecords(js, missing, { window: 2000 });
  const published = performance.now();
  const reportsBefore = CHUNKS * 14;
  let projected = 0;
  while (checker.stats().queued < CHUNKS) {
    if (performance.now() - start > 600_000) throw new Error(`only ${checker.stats().queued} of ${CHUNKS} queued after 600 s`);
    if (!projected && projection.stats().reports >= reportsBefore + 2 * CHUNKS) projected = performance.now();
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  const end = performance.now();
  await checker.close();
  const counts = await queue.counts();
  const queuedJobs = (counts['prioritized'] ?? 0) + (counts['waiting'] ?? 0);
  if (queuedJobs !== CHUNKS) throw new Error(`the queue holds ${queuedJobs} jobs, not ${CHUNKS}`);

  // Baseline: the same number of jobs on a bare BullMQ queue, one add after another.
  const bare = new Queue('bench-bare', { connection: redis });
  await bare.obliterate({ force: true });
  const baseStart = performance.now();
  for (let i = 0; i < CHUNKS; i++) await bare.add('plan', { chunk: `c${i}` }, { jobId: `bare-${i}`, priority: 1 + (i % 1000) });
  const baseEnd = performance.now();
  await bare.obliterate({ force: true });
  await bare.close();

  const seconds = (end - start) / 1000;
  const rate = CHUNKS / seconds;
  const baseRate = CHUNKS / ((baseEnd - baseStart) / 1000);
  console.log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, load ${loadavg().map((l) => l.toFixed(2)).join(' ')}, node ${process.version}`);
  console.log(`set-up: ${CHUNKS} chunks RS(10,4) over ${NODES} nodes, ${records.length} records in the log, first pass all healthy (${setupSeconds.toFixed(1)} s)`);
  console.log(
    `repair planning: ${CHUNKS} chunks from degraded report to queued job in ${seconds.toFixed(2)} s: ${rate.toFixed(0)} chunks/s ` +
      `(reports in the log after ${((published - start) / 1000).toFixed(2)} s, all read by the projection after ${(((projected || end) - start) / 1000).toFixed(2)} s)`,
  );
  console.log(`baseline: bare BullMQ add, ${CHUNKS} jobs one after another: ${baseRate.toFixed(0)} jobs/s`);
  console.log(`ratio: ${(rate / baseRate).toFixed(2)} of the bare queue's rate`);
  await projection.close();
  await queue.close();
} finally {
  redis.disconnect();
  await nc.close();
  await nats.stop();
  await redisServer.stop();
}
