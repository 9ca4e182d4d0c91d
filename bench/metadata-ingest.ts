/**
 * Metadata ingest, two ways (issue "Metadata nodes", Performance):
 *
 * 1. Over HTTP: `manifests` pre-signed content manifests from `creators` creators are
 *    POSTed to `/publish_manifest` of a metadata node (its own process: the metadata
 *    role and routes on createHttpServer, as `dmf up` runs them) by `concurrency`
 *    clients over TLS 1.3; the run ends when the projector has applied the last record
 *    and a sample of the manifests answers 200 on `GET /manifest/<id>`. A 201 already
 *    means "projected": the publisher waits for the projector's outcome.
 * 2. The projector alone: a fresh projector (this process) on an empty metadata bucket
 *    applies the FEDERATED stream the first part filled, timed until `reached(last)`.
 *    Each round empties the bucket again and runs between two rounds of full
 *    verification on one core (their mean is its baseline); rates are medians over the
 *    rounds, the ratio the median of the per-round ratios.
 */
import { performance } from 'node:perf_hooks';
import { pino } from 'pino';
import { createMetadataProjector, METADATA_PRECHECKS, MetadataStore, openBucket } from '@dmf/metadata';
import { createVerifyPool } from '@dmf/protocol';
import { startServerChild } from './metadata-child.ts';
import { openPool, postAll, type LatencyFigures } from './metadata-load.ts';
import { benchTls, BENCH_RATE_LIMIT, cpuSecondsOf, federatedHolds, OPERATOR, pidOfServer, recreateBucket, startBenchBus, type BenchBus } from './metadata-setup.ts';
import { signAll } from './metadata-sign.ts';
import { median } from './measure.ts';
import { benchSignVerify } from './sign-verify.ts';

export interface IngestOptions {
  manifests: number;
  creators: number;
  concurrency: number;
  projectorRounds: number;
  /** How many manifests are read back at the end of the HTTP run. */
  sample?: number;
  logLevel?: string;
}

export interface IngestResult {
  manifests: number;
  creators: number;
  concurrency: number;
  documentBytes: number;
  /** Manifests per second over HTTP, until queryable. */
  http: number;
  httpSeconds: number;
  /** POST latencies (ms) and statuses. */
  post: LatencyFigures;
  /** Batches the node's projector applied during the HTTP run (records arrive a few at a time). */
  httpBatches: number;
  /** Projector alone: median manifests per second, and each round's. */
  projector: number;
  projectorRounds: number[];
  /** Full verification on one core, measured right after each projector round (its baseline), median. */
  projectorBaseline: number;
  /** Median of each round's projector / full-verification ratio. */
  projectorRatio: number;
  projectorBatches: number;
  signSeconds: number;
}

export interface ProjectorRun {
  seconds: number;
  perSecond: number;
  accepted: number;
  batches: number;
  /** CPU seconds during the round: this process (every thread) and nats-server. */
  cpu: { node: number; natsServer: number };
}

/** A fresh projector over the bus's FEDERATED stream, timed until it has applied `lastSeq`. */
export async function projectAlone(bus: BenchBus, lastSeq: number): Promise<ProjectorRun> {
  const store = new MetadataStore(await openBucket(bus.js, bus.bucket), bus.jsm, bus.bucket);
  // Its verification threads are up before the clock starts, as a running node's are: their
  // boot (loading the code, about 0.6 s once a process) is not the projector's rate, any
  // more than this thread's module loading is.
  const verifier = createVerifyPool({ check: METADATA_PRECHECKS });
  await verifier.ready();
  // With the connection, as startMetadataRole runs it: the projector's unacknowledged batch writes.
  const projector = createMetadataProjector({ js: bus.js, nc: bus.nc, operator: OPERATOR, store, verifier, logger: pino({ level: 'warn' }) });
  const natsPid = pidOfServer(bus.server.storeDir);
  const natsCpuBefore = natsPid === undefined ? Number.NaN : cpuSecondsOf(natsPid);
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  let stats;
  let seconds;
  let cpu;
  try {
    await projector.start();
    await projector.reached(lastSeq);
    seconds = (performance.now() - started) / 1000;
    const used = process.cpuUsage(cpuBefore);
    cpu = { node: (used.user + used.system) / 1e6, natsServer: natsPid === undefined ? Number.NaN : cpuSecondsOf(natsPid) - natsCpuBefore };
    stats = projector.stats();
    await projector.close();
  } finally {
    await verifier.close();
  }
  if (stats.position < lastSeq) throw new Error(`projector stopped at ${stats.position} of ${lastSeq}`);
  return { seconds, perSecond: lastSeq / seconds, accepted: stats.accepted, batches: stats.batches, cpu };
}

/**
 * Rounds of a fresh projector over FEDERATED (up to `lastSeq`, `manifests` records) on an
 * emptied bucket, each between two rounds of full verification on one core whose mean
 * is its baseline, so that the machine's drift between phases cancels.
 */
export async function measureProjector(bus: BenchBus, lastSeq: number, manifests: number, count: number): Promise<{ rounds: ProjectorRun[]; baselines: number[] }> {
  const rounds: ProjectorRun[] = [];
  const baselines: number[] = [];
  const verifyRound = () => benchSignVerify({ rounds: 1, secondsPerRound: 1.5 }).fullVerify;
  for (let round = 0; round < count; round++) {
    await recreateBucket(bus, manifests);
    const before = verifyRound();
    const run = await projectAlone(bus, lastSeq);
    if (run.accepted !== manifests) throw new Error(`projector accepted ${run.accepted} of ${manifests}`);
    rounds.push(run);
    // The mean of a round just before and one just after: drift either way cancels
    // (right after a projector round nats-server may still be busy, which alone would
    // lower the baseline and flatter the ratio).
    baselines.push((before + verifyRound()) / 2);
  }
  return { rounds, baselines };
}

export async function benchMetadataIngest(options: IngestOptions): Promise<IngestResult> {
  const signStarted = performance.now();
  const manifests = await signAll({ count: options.manifests, creators: options.creators });
  const signSeconds = (performance.now() - signStarted) / 1000;
  const bus = await startBenchBus(options.manifests);
  const tls = await benchTls();
  try {
    const node = await startServerChild({
      mode: 'dmf',
      tls: { key: tls.key, cert: tls.cert },
      rateLimit: BENCH_RATE_LIMIT,
      logLevel: options.logLevel ?? 'warn',
      natsUrl: bus.server.url,
      operator: OPERATOR,
    });
    const target = { origin: `https://127.0.0.1:${node.port}`, ca: tls.ca, concurrency: options.concurrency };
    const pool = openPool(target);
    let post: LatencyFigures;
    let httpSeconds: number;
    let httpBatches: number;
    try {
      const started = performance.now();
      ({ figures: post } = await postAll(
        pool,
        target,
        '/publish_manifest',
        manifests.map((m) => m.bytes),
      ));
      const lastSeq = await federatedHolds(bus, options.manifests);
      httpBatches = (await node.reached(lastSeq)).batches;
      const sample = options.sample ?? 200;
      const step = Math.max(1, Math.floor(manifests.length / sample));
      const reads = await Promise.all(
        Array.from({ length: Math.min(sample, manifests.length) }, async (_, i) => {
          const answer = await pool.request({ method: 'GET', path: `/manifest/${manifests[i * step]?.manifestId}` });
          await answer.body.arrayBuffer();
          return answer.statusCode;
        }),
      );
      httpSeconds = (performance.now() - started) / 1000;
      const bad = reads.filter((s) => s !== 200).length;
      if (bad > 0) throw new Error(`${bad} of ${reads.length} sampled manifests did not answer 200 after ingest`);
      const created = post.statuses['201'] ?? 0;
      if (created !== options.manifests) throw new Error(`POST answers: ${JSON.stringify(post.statuses)}, ${post.errors} errors; expected ${options.manifests} × 201`);
    } finally {
      await pool.close();
      await node.close();
    }

    // The projector alone, over what the HTTP run put into FEDERATED.
    const lastSeq = await federatedHolds(bus, options.manifests);
    const { rounds, baselines } = await measureProjector(bus, lastSeq, options.manifests, options.projectorRounds);
    return {
      manifests: options.manifests,
      creators: options.creators,
      concurrency: options.concurrency,
      documentBytes: Math.round(manifests.reduce((n, m) => n + m.bytes.length, 0) / manifests.length),
      http: options.manifests / httpSeconds,
      httpSeconds,
      post,
      httpBatches,
      projector: median(rounds.map((r) => r.perSecond)),
      projectorRounds: rounds.map((r) => r.perSecond),
      projectorBaseline: median(baselines),
      projectorRatio: median(rounds.map((r, i) => r.perSecond / (baselines[i] as number))),
      projectorBatches: median(rounds.map((r) => r.batches)),
      signSeconds,
    };
  } finally {
    await bus.close();
  }
}
