/**
 * `npm run bench:federation` (issue "Federation", Performance): publish at A → visible
 * through B's HTTP API, beside the same measurement within one operator (visible
 * through A's own HTTP API), in the same run, on the same records.
 *
 * Topology: a hub and two operators, each a `dmf up` process with its embedded
 * nats-server (a leaf of the hub, its own JetStream domain) and redis-server, HTTPS with
 * one test CA; A and B bootstrap each other, so B sources A's ORIGIN across domains.
 *
 * Load: pre-signed content manifests (1,000 creators, so no creator reaches its
 * publish rate) are POSTed to A's `/publish_manifest` open-loop at a fixed rate: record
 * `i` is due at `start + i / rate`, and its latency counts from that due time, so a
 * node that falls behind shows it (no coordinated omission). Every record carries this
 * run's own tag; one watcher per node pages `GET /category/<tag>` from where it left
 * off, every 10 ms, and a record is visible at the node when a page first lists it.
 *
 * Phases: a warm-up (10,000 records at 500/s, not measured); `--rate` (default 1,000/s)
 * for `--seconds` (default 60); then a sweep of rising
 * rates (`--sweep`, default 250,500,750,1000,1250,1500; 20 s each) that stops at the
 * first rate whose p99 at B exceeds 1 s or that A does not sustain (answers below 95%
 * of the rate); the highest rate before it is the "highest sustained rate".
 * Targets are loopback only; every phase is bounded in count and time.
 */
import { randomBytes } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';
import { canonicalBytes, signRecord, type SigningKey } from '@dmf/protocol';
import { freePort } from '@dmf/servers';
import { makeTempDir, removeDir, startNatsServer, waitFor } from '@dmf/testing';
import { creatorKey } from './metadata-fixtures.ts';
import { manifestText, rawCid } from './fixtures.ts';
import { quantile } from './metadata-load.ts';
import { makeTestCa, nodeView, startNode, type DmfNode } from '../test/support/dmf-nodes.ts';

interface Options {
  quick: boolean;
  rate: number;
  seconds: number;
  sweep: number[];
  sweepSeconds: number;
  json: boolean;
}

function parseOptions(argv: string[]): Options {
  const value = (name: string) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const quick = argv.includes('--quick');
  const number = (name: string, fallback: number) => {
    const raw = value(name);
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`${name}: ${JSON.stringify(raw)} must be a positive number`);
    return n;
  };
  const sweepRaw = value('--sweep');
  return {
    quick,
    rate: number('--rate', 1000),
    seconds: number('--seconds', quick ? 10 : 60),
    sweep: sweepRaw ? sweepRaw.split(',').map(Number) : quick ? [250, 500, 1000] : [250, 500, 750, 1000, 1250, 1500],
    sweepSeconds: number('--sweep-seconds', quick ? 5 : 20),
    json: argv.includes('--json'),
  };
}

const CREATORS = 1000;

/** `count` signed manifests, each tagged `tag`, in canonical bytes with their manifest id. */
function signBatch(count: number, tag: string, offset: number, keys: SigningKey[]): { manifestId: string; bytes: Uint8Array }[] {
  const now = new Date();
  return Array.from({ length: count }, (_, i) => {
    const n = offset + i;
    const key = keys[n % CREATORS] as SigningKey;
    const parts = Array.from({ length: 8 }, (_, j) => Buffer.from(`${tag} ${n} chunk ${j}`));
    const text = manifestText(key, n);
    const record = signRecord(
      {
        ...text,
        tags: [...text.tags, tag],
        chunks: parts.map(rawCid),
        size: parts.reduce((t, p) => t + p.length, 0),
        fingerprint: rawCid(Buffer.concat(parts)),
      },
      key,
      { now },
    );
    return { manifestId: (record.document as { manifest_id: string }).manifest_id, bytes: canonicalBytes(record.document) };
  });
}

/** Watches a node's `GET /category/<tag>` and records when each manifest id first appears. */
class VisibilityWatcher {
  readonly seenAt = new Map<string, number>();
  #count = 0;
  #stopped = false;
  #loop: Promise<void> | undefined;

  constructor(
    readonly pool: Pool,
    readonly tag: string,
  ) {}

  start(): void {
    this.#loop = (async () => {
      while (!this.#stopped) {
        const began = performance.now();
        try {
          for (;;) {
            const cursor = this.#count > 0 ? `&cursor=${this.#count.toString(36)}` : '';
            const answer = await this.pool.request({ method: 'GET', path: `/category/${this.tag}?limit=100${cursor}` });
            const page = (await answer.body.json()) as { items?: { manifest_id: string }[]; next?: string | null };
            const now = performance.now();
            for (const item of page.items ?? []) if (!this.seenAt.has(item.manifest_id)) this.seenAt.set(item.manifest_id, now);
            this.#count += page.items?.length ?? 0;
            if (!page.next) break;
          }
        } catch {
          // a failed poll is retried at the next tick
        }
        const wait = 10 - (performance.now() - began);
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      }
    })();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#loop;
  }
}

interface PhaseResult {
  rate: number;
  seconds: number;
  records: number;
  /** POST answers per status. */
  statuses: Record<string, number>;
  /** Records answered 201 per second of the phase. */
  answeredPerSecond: number;
  local: Latency;
  federated: Latency;
}

interface Latency {
  visible: number;
  p50: number;
  p99: number;
  max: number;
}

function latencyOf(due: Map<string, number>, seen: Map<string, number>): Latency {
  const values = new Float64Array([...due].flatMap(([id, at]) => (seen.has(id) ? [(seen.get(id) as number) - at] : []))).sort();
  return { visible: values.length, p50: quantile(values, 0.5), p99: quantile(values, 0.99), max: values.length ? (values[values.length - 1] as number) : Number.NaN };
}

/** Posts `records` to A at `rate`/s, open loop; waits until both watchers saw them (or 30 s passed). */
async function phase(post: Pool, watchers: { local: VisibilityWatcher; federated: VisibilityWatcher }, records: { manifestId: string; bytes: Uint8Array }[], rate: number): Promise<PhaseResult> {
  const due = new Map<string, number>();
  const statuses: Record<string, number> = {};
  let answered = 0;
  const start = performance.now() + 50;
  const inFlight = new Set<Promise<void>>();
  for (let i = 0; i < records.length; i++) {
    const record = records[i] as { manifestId: string; bytes: Uint8Array };
    const at = start + (i * 1000) / rate;
    const wait = at - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    due.set(record.manifestId, at);
    const sent = post
      .request({ method: 'POST', path: '/publish_manifest', headers: { 'content-type': 'application/json' }, body: record.bytes })
      .then(async (answer) => {
        await answer.body.arrayBuffer();
        statuses[answer.statusCode] = (statuses[answer.statusCode] ?? 0) + 1;
        if (answer.statusCode === 201 || answer.statusCode === 202) answered++;
      })
      .catch(() => {
        statuses['error'] = (statuses['error'] ?? 0) + 1;
      })
      .finally(() => inFlight.delete(sent));
    inFlight.add(sent);
    // Bounded: past 2,000 in flight the node is far behind; waiting keeps memory bounded
    // (the due times still count from the schedule, so the lag shows in the latencies).
    while (inFlight.size >= 2000) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  const sentSeconds = (performance.now() - start) / 1000;
  const deadline = performance.now() + 30_000;
  const allSeen = () => [...due.keys()].every((id) => watchers.local.seenAt.has(id) && watchers.federated.seenAt.has(id));
  while (!allSeen() && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  return {
    rate,
    seconds: records.length / rate,
    records: records.length,
    statuses,
    answeredPerSecond: answered / Math.max(sentSeconds, records.length / rate),
    local: latencyOf(due, watchers.local.seenAt),
    federated: latencyOf(due, watchers.federated.seenAt),
  };
}

const options = parseOptions(process.argv.slice(2));
const loadAtStart = loadavg()[0] ?? 0;
const dir = await makeTempDir('bench-federation');
const hub = await startNatsServer({ name: 'hub', domain: 'hub', leafListen: true });
const tls = await makeTestCa(dir);
let a: DmfNode | undefined;
let b: DmfNode | undefined;
const pools: Pool[] = [];
try {
  const [portA, portB] = [await freePort(), await freePort()];
  const env = { DMF_RATE_LIMIT: '1000000000' };
  [a, b] = await Promise.all([
    startNode({ name: 'a', operator: 'opa', dir, tls, hub: hub.leafUrl as string, port: portA, bootstrap: [`https://127.0.0.1:${portB}`], env, probeInterval: 5, probeWindow: 10 }),
    startNode({ name: 'b', operator: 'opb', dir, tls, hub: hub.leafUrl as string, port: portB, bootstrap: [`https://127.0.0.1:${portA}`], env, probeInterval: 5, probeWindow: 10 }),
  ]);
  const nodeA = a;
  const nodeB = b;
  await waitFor(async () => (await nodeView(nodeB, tls.ca.cert, nodeA.nodeId))?.state === 'admitted', { timeoutMs: 30_000, description: 'B trusts A' });

  const tag = `fedbench-${randomBytes(4).toString('hex')}`;
  const keys = Array.from({ length: CREATORS }, (_, c) => creatorKey(c));
  const connect = { ca: tls.ca.cert, minVersion: 'TLSv1.3' as const, maxVersion: 'TLSv1.3' as const };
  const post = new Pool(a.url, { connections: 256, pipelining: 1, connect });
  const watchers = {
    local: new VisibilityWatcher(new Pool(a.url, { connections: 2, connect }), tag),
    federated: new VisibilityWatcher(new Pool(b.url, { connections: 2, connect }), tag),
  };
  pools.push(post, watchers.local.pool, watchers.federated.pool);
  watchers.local.start();
  watchers.federated.start();

  let offset = 0;
  const take = (count: number) => {
    const batch = signBatch(count, tag, offset, keys);
    offset += count;
    return batch;
  };
  // Warm up, unmeasured: connections, JIT, verification threads, the first sourcing round
  // trip, and the stores' first blocks. A 200-record warm-up left the first measured phase
  // at 489-533/s against 760/s for the same phase run second (docs/benchmarks.md).
  await phase(post, watchers, take(options.quick ? 1000 : 10_000), 500);
  const main = await phase(post, watchers, take(Math.round(options.rate * options.seconds)), options.rate);
  const sweep: PhaseResult[] = [];
  for (const rate of options.sweep) {
    const result = await phase(post, watchers, take(Math.round(rate * options.sweepSeconds)), rate);
    sweep.push(result);
    if (result.federated.p99 > 1000 || result.answeredPerSecond < 0.95 * rate) break;
  }
  const sustained = sweep.filter((r) => r.federated.p99 <= 1000 && r.answeredPerSecond >= 0.95 * r.rate).at(-1);
  await watchers.local.stop();
  await watchers.federated.stop();

  const report = { machine: `${cpus().length} × ${cpus()[0]?.model}, Node ${process.version}`, loadAtStart, loadAtEnd: loadavg()[0], main, sweep, highestSustained: sustained?.rate ?? null };
  if (options.json) {
    process.stdout.write(`${JSON.stringify(report)}\n`);
  } else {
    const ms = (v: number) => (Number.isNaN(v) ? 'n/a' : `${v.toFixed(0)} ms`);
    const row = (r: PhaseResult) =>
      `| ${r.rate}/s × ${r.seconds.toFixed(0)} s | ${Math.round(r.answeredPerSecond)}/s ${JSON.stringify(r.statuses)} | p50 ${ms(r.federated.p50)}, p99 ${ms(r.federated.p99)}, max ${ms(r.federated.max)} (${r.federated.visible}/${r.records}) | p50 ${ms(r.local.p50)}, p99 ${ms(r.local.p99)} (${r.local.visible}/${r.records}) | ${(r.federated.p50 / r.local.p50).toFixed(2)} / ${(r.federated.p99 / r.local.p99).toFixed(2)} |`;
    const lines = [
      `machine: ${report.machine}; load average ${loadAtStart.toFixed(2)} at the start, ${report.loadAtEnd?.toFixed(2)} at the end`,
      'latency: from the record\'s due time (open loop) to the first page of GET /category/<run tag> that lists it',
      '',
      '| rate × time | POSTs answered at A | visible at B (federated) | visible at A (one operator) | ratio B/A p50 / p99 |',
      '|---|---|---|---|---|',
      row(main),
      ...sweep.map(row),
      '',
      `highest sustained rate (p99 at B <= 1 s, A answering >= 95% of the rate): ${sustained ? `${sustained.rate}/s` : 'none of the rates tried'}`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  }
} finally {
  await Promise.all(pools.map((p) => p.close()));
  await Promise.allSettled([a?.stop(), b?.stop()]);
  await hub.close();
  await removeDir(dir);
}
