/**
 * What the metadata benchmarks share: a real nats-server with one operator's ORIGIN,
 * FEDERATED and metadata bucket (sized for the run), TLS material for the servers
 * under test, and the rate limit both servers run with.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { applyDefinitions } from '@dmf/bus';
import { createCertificateAuthority, issueServerCertificate, type RateLimitOptions } from '@dmf/http';
import { federatedStream, federatedStreamName, kvStreamName, METADATA, metadataBucket, originStream, projectionBucketName } from '@dmf/streams';
import { startNatsServer, type NatsServerHandle } from '@dmf/testing';

export const OPERATOR = 'bench';
const KiB = 1024;
const GiB = 1024 * 1024 * KiB;

/**
 * Both servers, DMF and bare, run with this limit: libs/http's per-subnet limit (1,200
 * requests per 10 s by default) would otherwise throttle a load test that comes from
 * 127.0.0.1, one /24. It cannot be switched off globally (`max: 0` refuses everything),
 * so it is set out of reach: the plugin still runs on every request, as in production.
 */
export const BENCH_RATE_LIMIT: RateLimitOptions = { max: 1_000_000_000 };

export interface BenchBus {
  server: NatsServerHandle;
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  bucket: string;
  close(): Promise<void>;
}

/** Stream and bucket sizes that hold `manifests` records (defaults where those are bigger). */
export function sizesFor(manifests: number) {
  return {
    // About 1.5 KB a record with subject and headers: 3 KiB leaves room.
    streamBytes: Math.max(4 * GiB, manifests * 3 * KiB),
    // A head holds the record; with the claim, creator and label entries about 3 KB a manifest.
    bucketBytes: Math.max(8 * GiB, manifests * 8 * KiB),
  };
}

export async function startBenchBus(manifests: number): Promise<BenchBus> {
  const server = await startNatsServer({ name: 'bench-metadata', domain: OPERATOR });
  const nc = await connect({ servers: server.url, name: 'dmf bench load', noAsyncTraces: true });
  const jsm = await jetstreamManager(nc);
  const { streamBytes, bucketBytes } = sizesFor(manifests);
  await applyDefinitions(jsm, [
    originStream(OPERATOR, { originMaxBytes: streamBytes }),
    federatedStream(OPERATOR, [], { limits: { federatedMaxBytes: streamBytes } }),
    metadataBucket(OPERATOR, { max_bytes: bucketBytes }),
  ]);
  return {
    server,
    nc,
    js: jetstream(nc),
    jsm,
    bucket: projectionBucketName(METADATA, OPERATOR),
    async close() {
      await nc.close();
      await server.close();
    },
  };
}

/** A fresh, empty metadata bucket (for another projector run over the same FEDERATED). */
export async function recreateBucket(bus: BenchBus, manifests: number): Promise<void> {
  await bus.jsm.streams.delete(kvStreamName(bus.bucket));
  await applyDefinitions(bus.jsm, [metadataBucket(OPERATOR, { max_bytes: sizesFor(manifests).bucketBytes })]);
}

/** Waits until FEDERATED holds `count` messages (it sources ORIGIN asynchronously); returns its last sequence. */
export async function federatedHolds(bus: BenchBus, count: number, timeoutMs = 600_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while (true) {
    const { state } = await bus.jsm.streams.info(federatedStreamName(OPERATOR));
    if (state.messages >= count) return state.last_seq;
    if (Date.now() > deadline) throw new Error(`FEDERATED holds ${state.messages} of ${count} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export interface StreamSize {
  messages: number;
  bytes: number;
}

export async function streamSize(bus: BenchBus, stream: string): Promise<StreamSize> {
  const { state } = await bus.jsm.streams.info(stream);
  return { messages: state.messages, bytes: state.bytes };
}

export interface BenchTls {
  ca: string;
  key: string;
  cert: string;
}

export async function benchTls(): Promise<BenchTls> {
  const ca = await createCertificateAuthority({ commonName: 'DMF bench CA' });
  const server = await issueServerCertificate(ca, { hosts: ['127.0.0.1'], days: 1 });
  return { ca: ca.cert, key: server.key, cert: server.cert };
}

/** CPU seconds (user + system) a process has used so far, from /proc (Linux). */
export function cpuSecondsOf(pid: number): number {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return Number.NaN; // it has exited
  }
  const fields = stat.split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime and stime, in ticks of 1/100 s
}

/** The pid of the nats-server whose store is `storeDir` (found by its configuration path). */
export function pidOfServer(storeDir: string): number | undefined {
  const configDir = storeDir.replace(/\/jetstream$/, '');
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (cmdline.includes('nats-server') && cmdline.includes(configDir)) return Number(entry);
    } catch {
      // The process ended meanwhile.
    }
  }
  return undefined;
}

/** Resident memory of a process in bytes, from /proc (Linux). */
export function rssOf(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS:'));
  return Number(line?.replace(/[^0-9]/g, '') ?? Number.NaN) * 1024;
}
