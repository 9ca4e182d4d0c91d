/**
 * The HTTP load generator of the metadata benchmarks: `concurrency` clients, each
 * sending its next request as soon as the previous answer has been read in full,
 * over an undici Pool of as many TLS 1.3 connections (keep-alive, no pipelining).
 * Every request's latency is recorded, and percentiles are computed exactly from them.
 * Targets are loopback addresses only; runs are bounded in time or in count.
 */
import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';

export interface LoadTarget {
  /** `https://127.0.0.1:<port>`. */
  origin: string;
  /** The CA that signed the server's certificate. */
  ca: string;
  concurrency: number;
}

export interface LatencyFigures {
  requests: number;
  perSecond: number;
  seconds: number;
  /** Milliseconds. */
  p50: number;
  p90: number;
  p99: number;
  max: number;
  /** Answers per status code (all requests completed in the measured window). */
  statuses: Record<string, number>;
  /** Requests that failed without an answer (connection errors). */
  errors: number;
}

function assertLoopback(origin: string): void {
  const host = new URL(origin).hostname;
  if (!(host === 'localhost' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host))) {
    throw new Error(`load tests target loopback addresses only, not ${host}`);
  }
}

export function openPool(target: LoadTarget): Pool {
  assertLoopback(target.origin);
  return new Pool(target.origin, {
    connections: target.concurrency,
    pipelining: 1,
    connect: { ca: target.ca, minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3' },
  });
}

/** The value at quantile q of sorted values (nearest rank). */
export function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length)));
  return sorted[rank - 1] as number;
}

/** Collects latencies (ms) and statuses of a load run. */
export class Recorder {
  #latencies = new Float64Array(1 << 16);
  #count = 0;
  readonly statuses: Record<string, number> = {};
  errors = 0;

  add(ms: number, status: number): void {
    if (this.#count === this.#latencies.length) {
      const bigger = new Float64Array(this.#latencies.length * 2);
      bigger.set(this.#latencies);
      this.#latencies = bigger;
    }
    this.#latencies[this.#count++] = ms;
    this.statuses[status] = (this.statuses[status] ?? 0) + 1;
  }

  get count(): number {
    return this.#count;
  }

  /** Every latency recorded, sorted. */
  sorted(): Float64Array {
    return this.#latencies.slice(0, this.#count).sort();
  }

  figures(seconds: number): LatencyFigures {
    const sorted = this.sorted();
    return {
      requests: this.#count,
      perSecond: this.#count / seconds,
      seconds,
      p50: quantile(sorted, 0.5),
      p90: quantile(sorted, 0.9),
      p99: quantile(sorted, 0.99),
      max: sorted.length ? (sorted[sorted.length - 1] as number) : Number.NaN,
      statuses: { ...this.statuses },
      errors: this.errors,
    };
  }
}

/** Latencies and statuses of several recorders together (exact percentiles over all requests). */
export function pooled(recorders: readonly Recorder[], seconds: number): LatencyFigures {
  const all = new Recorder();
  for (const r of recorders) {
    const sorted = r.sorted();
    for (const ms of sorted) all.add(ms, 0);
    all.errors += r.errors;
  }
  const figures = all.figures(seconds);
  const statuses: Record<string, number> = {};
  for (const r of recorders) for (const [code, n] of Object.entries(r.statuses)) statuses[code] = (statuses[code] ?? 0) + n;
  return { ...figures, statuses };
}

export interface TimedRunOptions {
  warmupSeconds: number;
  seconds: number;
  /** The path of the next GET. */
  path: () => string;
}

/**
 * GETs for `warmupSeconds + seconds`; only requests that complete inside the last
 * `seconds` are counted. No new request starts after the window; those in flight then
 * are awaited and not counted.
 */
export async function timedGets(pool: Pool, target: LoadTarget, options: TimedRunOptions): Promise<{ figures: LatencyFigures; recorder: Recorder }> {
  const recorder = new Recorder();
  const begin = performance.now();
  const windowStart = begin + options.warmupSeconds * 1000;
  const windowEnd = windowStart + options.seconds * 1000;
  const client = async () => {
    while (performance.now() < windowEnd) {
      const started = performance.now();
      let status = 0;
      try {
        const answer = await pool.request({ method: 'GET', path: options.path() });
        status = answer.statusCode;
        await answer.body.arrayBuffer();
      } catch {
        const now = performance.now();
        if (now >= windowStart && now <= windowEnd) recorder.errors++;
        continue;
      }
      const finished = performance.now();
      if (finished >= windowStart && finished <= windowEnd) recorder.add(finished - started, status);
    }
  };
  await Promise.all(Array.from({ length: target.concurrency }, client));
  return { figures: recorder.figures(options.seconds), recorder };
}

/** Sends every body once (POST), `concurrency` at a time; returns the run's figures and its wall time. */
export async function postAll(
  pool: Pool,
  target: LoadTarget,
  path: string,
  bodies: readonly Uint8Array[],
): Promise<{ figures: LatencyFigures; recorder: Recorder }> {
  const recorder = new Recorder();
  let next = 0;
  const begin = performance.now();
  const client = async () => {
    while (next < bodies.length) {
      const body = bodies[next++] as Uint8Array;
      const started = performance.now();
      try {
        const answer = await pool.request({ method: 'POST', path, body, headers: { 'content-type': 'application/json' } });
        await answer.body.arrayBuffer();
        recorder.add(performance.now() - started, answer.statusCode);
      } catch {
        recorder.errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: target.concurrency }, client));
  return { figures: recorder.figures((performance.now() - begin) / 1000), recorder };
}
