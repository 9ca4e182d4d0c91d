/**
 * Where the metadata projector's time goes (analysis, not a figure for the goals):
 * `npx tsx bench/metadata-phases.ts [--manifests N] [--batch-size N] [--no-async-traces]`.
 *
 * Runs a fresh projector (this process) over a pre-filled FEDERATED stream, like the
 * projector-alone benchmark, with its KV handle wrapped to timestamp every call (the
 * projector's code is unchanged). A batch is, in order: examine (verify every record,
 * CPU), prefetch (parallel gets), decide (CPU), effect writes (parallel puts), head
 * writes (parallel puts of `man.*`), then the `_pos` update. The end of one batch's
 * `_pos` update to the next batch's first get is "examine" (verification plus waiting
 * for messages). Also reported: CPU seconds of this process and of nats-server, and the
 * cost of verification alone on the same records.
 *
 * The projector runs without `nc`, so every write is an acknowledged `kv.put` (its
 * fallback path) and can be timed here; `startMetadataRole` passes the connection, and
 * the projector then writes a batch as unacknowledged publishes proven by one
 * acknowledged write, which these KV wrappers do not see.
 */
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { connect } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import { pino } from 'pino';
import { publishRecords } from '@dmf/bus';
import { createMetadataProjector, MetadataStore } from '@dmf/metadata';
import { verifyBytes } from '@dmf/protocol';
import { cpuSecondsOf, federatedHolds, OPERATOR, pidOfServer, startBenchBus } from './metadata-setup.ts';
import { signAll } from './metadata-sign.ts';
import { formatRate } from './measure.ts';

const { values: args } = parseArgs({
  options: {
    manifests: { type: 'string', default: '20000' },
    creators: { type: 'string', default: '1000' },
    'batch-size': { type: 'string', default: '256' },
    'no-async-traces': { type: 'boolean', default: false },
  },
});
const N = Number(args.manifests);
const batchSize = Number(args['batch-size']);

interface Call {
  op: string;
  key: string;
  start: number;
  end: number;
}

const manifests = await signAll({ count: N, creators: Number(args.creators) });
const bus = await startBenchBus(N);
try {
  await publishRecords(
    bus.js,
    manifests.map((m) => ({ operator: OPERATOR, kind: 'content_manifest', id: m.id, bytes: m.bytes })),
  );
  const lastSeq = await federatedHolds(bus, N);

  // Verification alone, the same bytes, this process.
  const verifyStarted = performance.now();
  for (const m of manifests) verifyBytes(m.bytes);
  const verifyUs = ((performance.now() - verifyStarted) * 1000) / N;

  const nc = await connect({ servers: bus.server.url, noAsyncTraces: args['no-async-traces'] });
  const js = jetstream(nc);
  const jsm = await jetstreamManager(nc);
  const kv: KV = await new Kvm(js).open(bus.bucket);
  const calls: Call[] = [];
  for (const op of ['get', 'put', 'create', 'update', 'delete'] as const) {
    const original = (kv[op] as (...a: unknown[]) => Promise<unknown>).bind(kv);
    (kv as unknown as Record<string, unknown>)[op] = async (key: string, ...rest: unknown[]) => {
      const start = performance.now();
      try {
        return await original(key, ...rest);
      } finally {
        calls.push({ op, key, start, end: performance.now() });
      }
    };
  }
  const store = new MetadataStore(kv, jsm, bus.bucket);
  const projector = createMetadataProjector({ js, operator: OPERATOR, store, batchSize, logger: pino({ level: 'warn' }) });
  const serverPid = pidOfServer(bus.server.storeDir);
  const serverCpu0 = serverPid ? cpuSecondsOf(serverPid) : Number.NaN;
  const cpu0 = process.cpuUsage();
  const started = performance.now();
  await projector.start();
  await projector.reached(lastSeq);
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const serverCpu = serverPid ? cpuSecondsOf(serverPid) - serverCpu0 : Number.NaN;
  const stats = projector.stats();
  await projector.close();

  // Reads without HTTP: 50 loops of `store.head(random id)` (one KV direct get, then JSON.parse) for 5 s.
  const plainKv = await new Kvm(js).open(bus.bucket);
  const reader = new MetadataStore(plainKv, jsm, bus.bucket);
  const readCpu0 = process.cpuUsage();
  const readServer0 = serverPid ? cpuSecondsOf(serverPid) : Number.NaN;
  const readStarted = performance.now();
  let reads = 0;
  await Promise.all(
    Array.from({ length: 50 }, async () => {
      while (performance.now() - readStarted < 5_000) {
        const head = await reader.head((manifests[Math.floor(Math.random() * N)] as { manifestId: string }).manifestId);
        if (!head) throw new Error('a projected manifest has no head');
        reads++;
      }
    }),
  );
  const readSeconds = (performance.now() - readStarted) / 1000;
  const readCpuUsed = process.cpuUsage(readCpu0);
  const readCpu = (readCpuUsed.user + readCpuUsed.system) / 1e6;
  const readServerCpu = serverPid ? cpuSecondsOf(serverPid) - readServer0 : Number.NaN;
  await nc.close();

  // Split the calls into batches at each `_pos` update, then into phases.
  const phases = { examine: 0, prefetch: 0, decide: 0, effects: 0, heads: 0, position: 0 };
  const counts = { gets: 0, effectPuts: 0, headPuts: 0, deletes: 0 };
  let batch: Call[] = [];
  let previousEnd = started;
  let batches = 0;
  // kv.update and kv.create call kv.put themselves: only the outer `_pos` call marks a batch's end.
  const bookkeeping = (c: Call) => c.key.startsWith('_') && !(c.key === '_pos' && (c.op === 'update' || c.op === 'create'));
  const sorted = calls.filter((c) => c.start >= started && !bookkeeping(c)).sort((a, b) => a.start - b.start);
  for (const call of sorted) {
    if (call.key === '_pos' && (call.op === 'update' || call.op === 'create')) {
      const gets = batch.filter((c) => c.op === 'get');
      const effects = batch.filter((c) => (c.op === 'put' || c.op === 'delete') && !c.key.startsWith('man.'));
      const heads = batch.filter((c) => c.op === 'put' && c.key.startsWith('man.'));
      const first = (list: Call[]) => Math.min(...list.map((c) => c.start));
      const last = (list: Call[]) => Math.max(...list.map((c) => c.end));
      const readsStart = gets.length ? first(gets) : effects.length ? first(effects) : call.start;
      const readsEnd = gets.length ? last(gets) : readsStart;
      const writesStart = effects.length ? first(effects) : heads.length ? first(heads) : call.start;
      const effectsEnd = effects.length ? last(effects) : writesStart;
      const headsEnd = heads.length ? last(heads) : effectsEnd;
      phases.examine += readsStart - previousEnd;
      phases.prefetch += readsEnd - readsStart;
      phases.decide += writesStart - readsEnd;
      phases.effects += effectsEnd - writesStart;
      phases.heads += headsEnd - effectsEnd;
      phases.position += call.end - headsEnd;
      counts.gets += gets.length;
      counts.effectPuts += effects.length;
      counts.headPuts += heads.length;
      counts.deletes += batch.filter((c) => c.op === 'delete').length;
      previousEnd = call.end;
      batch = [];
      batches++;
    } else {
      batch.push(call);
    }
  }
  const total = Object.values(phases).reduce((a, b) => a + b, 0);
  const row = (name: string, ms: number, note: string) =>
    `| ${name} | ${(ms / 1000).toFixed(2)} s | ${((ms / total) * 100).toFixed(0)}% | ${((ms * 1000) / N).toFixed(0)} µs | ${note} |`;
  const lines = [
    `projector alone: ${N.toLocaleString('en-US')} manifests in ${seconds.toFixed(2)} s = ${formatRate(N / seconds)}; ${stats.batches} batches of up to ${batchSize} (${batches} seen); accepted ${stats.accepted}; nats.js async traces ${args['no-async-traces'] ? 'off' : 'on (default)'}`,
    `CPU: this process ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s (${(((cpu.user + cpu.system) / 1e6 / seconds) * 100).toFixed(0)}% of one core), nats-server ${serverCpu.toFixed(1)} s (${((serverCpu / seconds) * 100).toFixed(0)}% of one core)`,
    `verification alone (verifyBytes, same records, this process): ${verifyUs.toFixed(0)} µs a record = ${formatRate(1e6 / verifyUs)}`,
    '',
    '| phase | time | share | per manifest | calls |',
    '|---|---|---|---|---|',
    row('examine (verify; wait for messages)', phases.examine, `${verifyUs.toFixed(0)} µs of it is verification`),
    row('prefetch (parallel KV gets)', phases.prefetch, `${counts.gets} gets (${(counts.gets / N).toFixed(2)} a manifest)`),
    row('decide (CPU, cached state)', phases.decide, ''),
    row('effect writes (parallel KV puts/deletes)', phases.effects, `${counts.effectPuts} calls (${(counts.effectPuts / N).toFixed(2)} a manifest)`),
    row('head writes (parallel KV puts)', phases.heads, `${counts.headPuts} puts`),
    row('_pos update', phases.position, `${batches} updates`),
    '',
    `reads without HTTP (store.head of a random projected id, 50 in flight, 5 s): ${formatRate(reads / readSeconds)}; CPU per read: this process ${((readCpu / reads) * 1e6).toFixed(0)} µs, nats-server ${((readServerCpu / reads) * 1e6).toFixed(0)} µs`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
} finally {
  await bus.close();
}
