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
import { loadRecordCheck, packRecords, verifyPacked, type RecordToVerify, type VerifyVerdict } from './verify-many.ts';

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

/** One thread per core but one (the caller's thread has its own work), at most 4; none on one core. */
export function defaultVerifyThreads(): number {
  return Math.max(0, Math.min(4, availableParallelism() - 1));
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
      const packed = packRecords(records);
      return (await pool.run({ packed, check }, { transferList: [packed.bytes.buffer as ArrayBuffer] })) as VerifyVerdict[];
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
