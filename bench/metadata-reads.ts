/**
 * `npm run bench:metadata [-- --manifests N]`: the metadata node at scale (issue
 * "Metadata nodes", Performance). With N content manifests (default 1,000,000) from
 * 1,000 creators, it measures
 *
 * - the projector alone at that scale: a fresh node process projects the pre-filled
 *   FEDERATED stream into an empty bucket (rate, next to nothing: the at-scale figure);
 * - KV and stream bytes per million manifests, and the node process's memory after
 *   projecting (RSS and heap, before and after a full GC);
 * - reads: `GET /manifest/<random projected id>` requests per second and latency
 *   percentiles (served by the metadata routes over the projected bucket in a process
 *   without the projector: see metadata-server.ts; it loads its in-memory head view
 *   before listening, and the view's load time, size, hits and misses are reported), next to a bare route on createHttpServer (same TLS material, logger and
 *   rate-limit setting) answering a constant JSON of the same size, each in its own
 *   process; rounds alternate which goes first, each runs `--warmup` then `--seconds`.
 *
 * Before the rounds, each server gets `--prewarm` seconds of the same reads, not
 * counted: right after projecting, nats-server has not yet loaded the bucket's blocks
 * (the first seconds of reads are several times slower than the steady state measured).
 *
 * Options: --manifests N, --creators N (1000), --rounds N (3), --seconds S (10),
 * --warmup S (2), --prewarm S (15), --concurrency N (50), --log-level L (warn), --json.
 */
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { publishRecords, type RecordToPublish } from '@dmf/bus';
import { federatedStreamName, kvStreamName, originStreamName } from '@dmf/streams';
import type { HeadViewStats } from '@dmf/metadata';
import { startServerChild, type ServerChild } from './metadata-child.ts';
import { openPool, pooled, timedGets, type LatencyFigures, type LoadTarget, type Recorder } from './metadata-load.ts';
import { benchTls, BENCH_RATE_LIMIT, cpuSecondsOf, federatedHolds, OPERATOR, pidOfServer, rssOf, startBenchBus, streamSize } from './metadata-setup.ts';
import { signManifests } from './metadata-sign.ts';
import { formatRate, median } from './measure.ts';

const { values: args } = parseArgs({
  options: {
    manifests: { type: 'string', default: '1000000' },
    creators: { type: 'string', default: '1000' },
    rounds: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '2' },
    prewarm: { type: 'string', default: '15' },
    concurrency: { type: 'string', default: '50' },
    'log-level': { type: 'string', default: 'warn' },
    json: { type: 'boolean', default: false },
  },
});

function positive(name: string, text: string | undefined): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name}: ${String(text)} is not a positive number`);
  return value;
}

const N = Math.round(positive('manifests', args.manifests));
const creators = Math.round(positive('creators', args.creators));
const rounds = Math.round(positive('rounds', args.rounds));
const seconds = positive('seconds', args.seconds);
const warmup = Number(args.warmup);
const prewarm = Number(args.prewarm);
const concurrency = Math.round(positive('concurrency', args.concurrency));
const logLevel = args['log-level'] as string;
const progress = (line: string) => process.stderr.write(`${line}\n`);
const MB = 1024 * 1024;
const perMillion = (value: number) => (value * 1_000_000) / N;
const load0 = loadavg()[0] ?? 0;
progress(`bench:metadata: ${N.toLocaleString('en-US')} manifests, ${creators} creators; load average ${load0.toFixed(2)} at the start`);

const bus = await startBenchBus(N);
const tls = await benchTls();
const children: ServerChild[] = [];
try {
  // 1. Sign on every core and publish to ORIGIN as batches come (pipelined, 1,000 in flight).
  const manifestIds: string[] = [];
  let documentBytes = 0;
  const signStarted = performance.now();
  let lastReport = signStarted;
  async function* records(): AsyncGenerator<RecordToPublish> {
    for await (const batch of signManifests({ count: N, creators })) {
      for (const m of batch) {
        manifestIds.push(m.manifestId);
        documentBytes += m.bytes.length;
        yield { operator: OPERATOR, kind: 'content_manifest', id: m.id, bytes: m.bytes };
      }
      if (performance.now() - lastReport > 15_000) {
        lastReport = performance.now();
        progress(`  signed and published ${manifestIds.length.toLocaleString('en-US')}`);
      }
    }
  }
  await publishRecords(bus.js, records(), { window: 1_000 });
  const lastSeq = await federatedHolds(bus, N);
  const fillSeconds = (performance.now() - signStarted) / 1000;
  progress(`  ${N.toLocaleString('en-US')} signed, published and in FEDERATED after ${fillSeconds.toFixed(0)} s`);

  // 2. A fresh node process projects all of it; then memory and sizes.
  // Both node processes: the same TLS, rate limit, log level, bus and operator.
  const nodeOptions = { tls: { key: tls.key, cert: tls.cert }, rateLimit: BENCH_RATE_LIMIT, logLevel, natsUrl: bus.server.url, operator: OPERATOR };
  const dmf = await startServerChild({
    mode: 'dmf',
    ...nodeOptions,
    projectUntil: lastSeq,
  });
  children.push(dmf);
  const projection = dmf.projection;
  if (!projection) throw new Error('the node did not report its projection');
  if (projection.accepted !== N) throw new Error(`projector accepted ${projection.accepted} of ${N}: ${JSON.stringify(projection)}`);
  progress(`  projected in ${projection.seconds.toFixed(0)} s (${formatRate(N / projection.seconds)})`);
  const memory = await dmf.memory(false);
  const memoryAfterGc = await dmf.memory(true);
  // The node stops (its projector releases the lease); the reads are served by the same
  // routes over the same bucket in a process without a projector (metadata-server.ts says why).
  await dmf.close();
  const reader = await startServerChild({
    mode: 'dmf-reads',
    ...nodeOptions,
  });
  children.push(reader);
  // The reading process's head view (metadata-server.ts answers `stats` with it as `view`).
  const viewStats = async () => ((await reader.stats()) as unknown as { view?: HeadViewStats }).view;
  const viewLoaded = await viewStats();
  if (viewLoaded) {
    progress(
      `  head view: ${viewLoaded.enabled ? `loaded ${viewLoaded.entries.toLocaleString('en-US')} heads in ${((viewLoaded.loadMs ?? Number.NaN) / 1000).toFixed(1)} s, ${viewLoaded.bytes.toLocaleString('en-US')} of ${viewLoaded.maxBytes.toLocaleString('en-US')} bytes, ${viewLoaded.evictions.toLocaleString('en-US')} evicted` : 'disabled (DMF_METADATA_HEAD_CACHE_MB=0)'}`,
    );
  }
  const natsPid = pidOfServer(bus.server.storeDir);
  const natsRss = natsPid ? rssOf(natsPid) : Number.NaN;
  const kvSize = await streamSize(bus, kvStreamName(bus.bucket));
  const federatedSize = await streamSize(bus, federatedStreamName(OPERATOR));
  const originSize = await streamSize(bus, originStreamName(OPERATOR));
  // Also on stderr now, so that a run that fails later still leaves these figures.
  progress(
    `  sizes: KV ${kvSize.bytes.toLocaleString('en-US')} bytes in ${kvSize.messages.toLocaleString('en-US')} keys; FEDERATED ${federatedSize.bytes.toLocaleString('en-US')} bytes; ` +
      `node RSS ${memory.rss.toLocaleString('en-US')} (after GC ${memoryAfterGc.rss.toLocaleString('en-US')}, heap ${memoryAfterGc.heapUsed.toLocaleString('en-US')}); nats-server RSS ${natsRss.toLocaleString('en-US')}`,
  );

  // 3. Reads: DMF and the bare route, rounds alternating which goes first.
  const dmfTarget: LoadTarget = { origin: `https://127.0.0.1:${reader.port}`, ca: tls.ca, concurrency };
  const dmfPool = openPool(dmfTarget);
  const sample = await dmfPool.request({ method: 'GET', path: `/manifest/${manifestIds[0]}` });
  const sampleText = await sample.body.text();
  if (sample.statusCode !== 200) throw new Error(`GET /manifest/<id> answered ${sample.statusCode}: ${sampleText}`);
  const answerBytes = Buffer.byteLength(sampleText);
  const bare = await startServerChild({
    mode: 'bare',
    tls: { key: tls.key, cert: tls.cert },
    rateLimit: BENCH_RATE_LIMIT,
    logLevel,
    body: JSON.parse(sampleText) as unknown,
  });
  children.push(bare);
  const bareTarget: LoadTarget = { origin: `https://127.0.0.1:${bare.port}`, ca: tls.ca, concurrency };
  const barePool = openPool(bareTarget);
  const bareSample = await barePool.request({ method: 'GET', path: `/bare/${manifestIds[0]}` });
  const bareBytes = Buffer.byteLength(await bareSample.body.text());
  const randomId = () => manifestIds[Math.floor(Math.random() * manifestIds.length)] as string;
  // CPU seconds per request of the server process, nats-server and this load generator (whole run, warm-up included).
  const withCpu = async (serverPid: number, run: () => ReturnType<typeof timedGets>): Promise<Round> => {
    const before = [cpuSecondsOf(serverPid), natsPid ? cpuSecondsOf(natsPid) : Number.NaN, process.cpuUsage()] as const;
    const wallStart = performance.now();
    const result = await run();
    const wall = (performance.now() - wallStart) / 1000;
    const used = process.cpuUsage(before[2]);
    return {
      ...result,
      cpu: {
        wallSeconds: wall,
        server: cpuSecondsOf(serverPid) - before[0],
        nats: natsPid ? cpuSecondsOf(natsPid) - before[1] : Number.NaN,
        loadGenerator: (used.user + used.system) / 1e6,
      },
    };
  };
  const runDmf = () => withCpu(reader.pid, () => timedGets(dmfPool, dmfTarget, { warmupSeconds: warmup, seconds, path: () => `/manifest/${randomId()}` }));
  const runBare = () => withCpu(bare.pid, () => timedGets(barePool, bareTarget, { warmupSeconds: warmup, seconds, path: () => `/bare/${randomId()}` }));
  interface Round {
    figures: LatencyFigures;
    recorder: Recorder;
    cpu: { wallSeconds: number; server: number; nats: number; loadGenerator: number };
  }
  const dmfRounds: Round[] = [];
  const bareRounds: Round[] = [];
  if (prewarm > 0) {
    const dmfWarm = (await timedGets(dmfPool, dmfTarget, { warmupSeconds: prewarm, seconds: 0.001, path: () => `/manifest/${randomId()}` })).recorder;
    const bareWarm = (await timedGets(barePool, bareTarget, { warmupSeconds: prewarm, seconds: 0.001, path: () => `/bare/${randomId()}` })).recorder;
    progress(`  pre-warmed both servers for ${prewarm} s each (not counted)${dmfWarm.errors + bareWarm.errors > 0 ? `; ${dmfWarm.errors + bareWarm.errors} errors` : ''}`);
  }
  for (let round = 0; round < rounds; round++) {
    if (round % 2 === 0) {
      dmfRounds.push(await runDmf());
      bareRounds.push(await runBare());
    } else {
      bareRounds.push(await runBare());
      dmfRounds.push(await runDmf());
    }
    const d = dmfRounds.at(-1)?.figures as LatencyFigures;
    const b = bareRounds.at(-1)?.figures as LatencyFigures;
    const other = (f: LatencyFigures) => f.errors + f.requests - (f.statuses['200'] ?? 0);
    progress(
      `  reads round ${round + 1}: DMF ${formatRate(d.perSecond)} p99 ${d.p99.toFixed(2)} ms (${other(d)} not 200); bare ${formatRate(b.perSecond)} p99 ${b.p99.toFixed(2)} ms (${other(b)} not 200)`,
    );
  }
  await dmfPool.close();
  await barePool.close();
  const memoryAfterReads = await reader.memory(false);
  const viewAfterReads = await viewStats();
  if (viewAfterReads) progress(`  head view after the reads: ${viewAfterReads.hits.toLocaleString('en-US')} hits, ${viewAfterReads.misses.toLocaleString('en-US')} misses, ${viewAfterReads.entries.toLocaleString('en-US')} held`);
  const natsRssAfterReads = natsPid ? rssOf(natsPid) : Number.NaN;
  const dmfReads = pooled(dmfRounds.map((r) => r.recorder), seconds * rounds);
  const bareReads = pooled(bareRounds.map((r) => r.recorder), seconds * rounds);
  // Answers other than 200 are reported, not hidden: they count as requests, and the goal is not met with any.
  const failures = (f: LatencyFigures) => f.errors + Object.entries(f.statuses).reduce((n, [code, count]) => (code === '200' ? n : n + count), 0);
  const dmfFailures = failures(dmfReads);
  const bareFailures = failures(bareReads);
  const readRatio = median(dmfRounds.map((r, i) => r.figures.perSecond / (bareRounds[i]?.figures.perSecond as number)));
  const readRate = median(dmfRounds.map((r) => r.figures.perSecond));
  const bareRate = median(bareRounds.map((r) => r.figures.perSecond));
  const load1 = loadavg()[0] ?? 0;
  // Cores busy during the runs (CPU seconds / wall seconds), summed over the rounds.
  const coresOf = (list: Round[], part: 'server' | 'nats' | 'loadGenerator') =>
    list.reduce((n, r) => n + r.cpu[part], 0) / list.reduce((n, r) => n + r.cpu.wallSeconds, 0);
  const cores = {
    dmf: { server: coresOf(dmfRounds, 'server'), nats: coresOf(dmfRounds, 'nats'), loadGenerator: coresOf(dmfRounds, 'loadGenerator') },
    bare: { server: coresOf(bareRounds, 'server'), nats: coresOf(bareRounds, 'nats'), loadGenerator: coresOf(bareRounds, 'loadGenerator') },
  };

  const result = {
    manifests: N,
    creators,
    documentBytes: documentBytes / N,
    fillSeconds,
    projector: { ...projection, perSecond: N / projection.seconds },
    memory,
    memoryAfterGc,
    memoryAfterReads,
    headView: { loaded: viewLoaded, afterReads: viewAfterReads },
    natsRss: { afterProjecting: natsRss, afterReads: natsRssAfterReads },
    sizes: { kv: kvSize, federated: federatedSize, origin: originSize },
    reads: { concurrency, rounds, seconds, warmup, prewarm, answerBytes, bareBytes, dmf: dmfReads, bare: bareReads, dmfRate: readRate, bareRate, ratio: readRatio, dmfFailures, bareFailures },
    cores,
    perRound: { dmf: dmfRounds.map((r) => ({ ...r.figures, cpu: r.cpu })), bare: bareRounds.map((r) => ({ ...r.figures, cpu: r.cpu })) },
    loadAverage: { start: load0, end: load1 },
  };
  if (args.json) {
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } else {
    const cpu = cpus()[0]?.model ?? 'unknown CPU';
    const ms = (v: number) => `${v.toFixed(2)} ms`;
    const mb = (bytes: number) => `${(bytes / MB).toFixed(0)} MiB`;
    const readGoal = readRatio >= 0.5 && dmfReads.p99 < 10 && dmfFailures === 0;
    const answers = (f: LatencyFigures, failed: number) => (failed === 0 ? 'all 200' : `${failed} of ${f.requests + f.errors} NOT 200: ${JSON.stringify(f.statuses)}, ${f.errors} errors`);
    const lines = [
      `machine: ${cpus().length} × ${cpu}, Node ${process.version}, load average ${load0.toFixed(2)} at the start, ${load1.toFixed(2)} at the end`,
      `${N.toLocaleString('en-US')} content manifests (${Math.round(documentBytes / N)} bytes each, ${creators} creators); reads: ${concurrency} clients, TLS 1.3, ${prewarm} s of uncounted reads per server first, then ${rounds} rounds of ${warmup} s warm-up + ${seconds} s per server, alternating; rates are medians of the rounds, the ratio the median of per-round ratios, percentiles exact over every request of the rounds`,
      '',
      '| measure | DMF | baseline (same run) | ratio | goal |',
      '|---|---|---|---|---|',
      `| GET /manifest/<random id of ${N.toLocaleString('en-US')}>, ${answerBytes}-byte answer | ${formatRate(readRate)}, p50 ${ms(dmfReads.p50)}, p99 ${ms(dmfReads.p99)}; ${answers(dmfReads, dmfFailures)} | ${formatRate(bareRate)} bare route, ${bareBytes}-byte constant answer, p50 ${ms(bareReads.p50)}, p99 ${ms(bareReads.p99)}; ${answers(bareReads, bareFailures)} | ${readRatio.toFixed(2)} | >= 0.50 and p99 < 10 ms: ${readGoal ? 'met' : 'NOT MET'} (ratio ${readRatio >= 0.5 ? 'met' : 'NOT MET'}, p99 ${dmfReads.p99 < 10 ? 'met' : 'NOT MET'}) |`,
      `| projector alone at scale: fresh node process, empty bucket, ${N.toLocaleString('en-US')} records pre-filled in FEDERATED | ${formatRate(N / projection.seconds)} (${projection.seconds.toFixed(1)} s, ${projection.batches.toLocaleString('en-US')} batches) | (see npm run bench: full verification, same machine) | | |`,
      `| KV_metadata_${OPERATOR}: bytes per million manifests | ${mb(perMillion(kvSize.bytes))} (${Math.round(kvSize.bytes / N)} bytes and ${(kvSize.messages / N).toFixed(2)} keys a manifest) | FEDERATED: ${mb(perMillion(federatedSize.bytes))} per million (${Math.round(federatedSize.bytes / N)} bytes a record) | ${(kvSize.bytes / federatedSize.bytes).toFixed(2)} | (none set) |`,
      `| cores busy during the reads (CPU s / wall s) | node process ${cores.dmf.server.toFixed(2)}, nats-server ${cores.dmf.nats.toFixed(2)}, load generator ${cores.dmf.loadGenerator.toFixed(2)} | bare process ${cores.bare.server.toFixed(2)}, nats-server ${cores.bare.nats.toFixed(2)}, load generator ${cores.bare.loadGenerator.toFixed(2)} | | (of 2 cores) |`,
      viewLoaded && viewAfterReads
        ? `| head view of the reading process | ${viewLoaded.enabled ? `${viewLoaded.entries.toLocaleString('en-US')} heads loaded in ${((viewLoaded.loadMs ?? Number.NaN) / 1000).toFixed(1)} s, ${mb(viewLoaded.bytes)} counted of a ${mb(viewLoaded.maxBytes)} budget; during the reads ${viewAfterReads.hits.toLocaleString('en-US')} hits, ${viewAfterReads.misses.toLocaleString('en-US')} misses` : 'disabled'} | | | (none set) |`
        : '| head view of the reading process | not reported | | | |',
      `| node process memory after projecting ${N.toLocaleString('en-US')} | RSS ${mb(memory.rss)}, heap ${mb(memory.heapUsed)}; after a full GC: RSS ${mb(memoryAfterGc.rss)}, heap ${mb(memoryAfterGc.heapUsed)}; the reading process after the reads: RSS ${mb(memoryAfterReads.rss)} | nats-server RSS ${mb(natsRss)} after projecting, ${mb(natsRssAfterReads)} after the reads | | (none set) |`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  }
} finally {
  for (const child of children) await child.close();
  await bus.close();
}
