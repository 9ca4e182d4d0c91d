/**
 * Record verification on worker threads (piscina), for readers of the log that must
 * re-check every record, such as projectors: Ed25519 and the rules around it are most of
 * their CPU time, and on a thread of its own the verification of one batch overlaps the
 * I/O of the previous one. Why piscina rather than our own pool: docs/decisions.md.
 *
 * With `threads: 0` it verifies inline, on the caller's thread, with the same code.
 */
import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import { loadRecordCheck, packRecords, verifyPacked, withDocuments, type RecordToVerify, type VerifyVerdict } from './verify-many.ts';

export interface VerifyPoolOptions {
  /** Worker threads; 0 verifies inline. Default: `defaultVerifyThreads()`. */
  threads?: number;
  /**
   * URL of a module whose default export (a RecordCheck) runs on every verified record,
   * on the same thread; its result comes back as the verdict's `checked`. For checks
   * that need only the record, so that they too leave the caller's thread.
   */
  check?: string | URL;
}

export interface VerifyPool {
  readonly threads: number;
  /** A verdict per record, in order. */
  verify(records: readonly RecordToVerify[]): Promise<VerifyVerdict[]>;
  /**
   * Resolves once every thread has loaded its code (about half a second each, on first
   * use otherwise): for a caller that would rather pay that before its work starts.
   */
  ready(): Promise<void>;
  /** Stops the threads (work under way fails). Safe twice. */
  close(): Promise<void>;
}

/**
 * One thread per core, at most 4; none on one core. Not one fewer than the cores: the
 * threads block while they wait for work, verification is the heaviest work a reader of
 * the log does, and the operating system shares the cores among them, the caller's
 * thread and nats-server. On 2 cores the metadata projector went from 2,800/s with one
 * thread to 3,800/s with two (docs/benchmarks.md, 2026-11-29).
 */
export function defaultVerifyThreads(): number {
  const cores = availableParallelism();
  return cores <= 1 ? 0 : Math.min(4, cores);
}

/** Records per task below which a call is not split across threads (the hand-over costs more). */
const MIN_RECORDS_PER_TASK = 16;

/** `records` in up to `parts` contiguous slices of at least MIN_RECORDS_PER_TASK (one slice if fewer). */
function slices<T>(records: readonly T[], parts: number): (readonly T[])[] {
  const count = Math.max(1, Math.min(parts, Math.floor(records.length / MIN_RECORDS_PER_TASK)));
  const size = Math.ceil(records.length / count);
  return Array.from({ length: count }, (_, i) => records.slice(i * size, (i + 1) * size));
}

const WORKER = new URL('./verify-pool-worker.mjs', import.meta.url).href;

export function createVerifyPool(options: VerifyPoolOptions = {}): VerifyPool {
  const threads = options.threads ?? defaultVerifyThreads();
  if (!Number.isSafeInteger(threads) || threads < 0) throw new RangeError(`threads: must be a whole number >= 0, got ${threads}`);
  const check = options.check === undefined ? undefined : String(options.check);
  if (threads === 0) {
    return {
      threads,
      verify: async (records) => verifyPacked(packRecords(records), check ? await loadRecordCheck(check) : undefined),
      ready: async () => void (check ? await loadRecordCheck(check) : undefined),
      close: async () => undefined,
    };
  }
  const pool = new Piscina({ filename: WORKER, minThreads: threads, maxThreads: threads, idleTimeout: Number.POSITIVE_INFINITY });
  let closed: Promise<void> | undefined;
  return {
    threads,
    async verify(records) {
      if (closed) throw new Error('the verification pool is closed');
      if (records.length === 0) return [];
      // Split across the threads, so that one large call (a projector's batch) is done in
      // a fraction of the time, not by one thread while the others wait.
      const verdicts = await Promise.all(
        slices(records, threads).map(async (slice) => {
          const packed = packRecords(slice);
          const verdicts = (await pool.run({ packed, check }, { transferList: [packed.bytes.buffer as ArrayBuffer] })) as VerifyVerdict[];
          return withDocuments(verdicts, slice);
        }),
      );
      return verdicts.flat();
    },
    async ready() {
      const empty = packRecords([]);
      // One task a thread, at once: each thread takes one, so every thread loads its code.
      await Promise.all(Array.from({ length: threads }, () => pool.run({ packed: empty, check })));
    },
    close() {
      closed ??= pool.destroy();
      return closed;
    },
  };
}
