/**
 * The repair queue's rules, pure (the queue itself is BullMQ on Redis, a projection
 * rebuilt from the log):
 * - one job per chunk and erasure-group version: the same degraded group seen twice is
 *   queued once (`repairJobId`), and a new version (after a repair moved shards) is a
 *   new job;
 * - the sooner a chunk would be lost, the higher its priority (`repairPriority`);
 * - repair traffic per node is capped (`RepairTrafficCap`), so repairs cannot swamp a
 *   node, nor a failing region's neighbours.
 */

/** BullMQ's priorities: 1 is the highest, 2^21 the lowest. */
export const LOWEST_PRIORITY = 2 ** 21;

/** The job id of a repair: one per chunk and erasure-group record (BullMQ dedupes by job id). */
export function repairJobId(chunk: string, groupRecordId: string): string {
  // BullMQ job ids must not contain ':' (its key separator) nor be integers.
  return `repair-${chunk}-${groupRecordId}`;
}

/**
 * BullMQ priority from the expected days to loss (chunk-health.ts): hours, rounded up,
 * so a chunk an hour from loss goes before one a day away; never below 1, at most the
 * lowest priority (a chunk with infinite time to loss).
 */
export function repairPriority(expectedDaysToLoss: number): number {
  if (!(expectedDaysToLoss > 0)) return 1;
  if (!Number.isFinite(expectedDaysToLoss)) return LOWEST_PRIORITY;
  return Math.min(LOWEST_PRIORITY, Math.max(1, Math.ceil(expectedDaysToLoss * 24)));
}

/** Retry schedule of a failed repair: exponential, from 5 s, at most 10 tries (BullMQ `attempts`/`backoff`). */
export const REPAIR_RETRY = Object.freeze({ attempts: 10, backoff: { type: 'exponential' as const, delay: 5_000 } });

/**
 * Bytes of repair traffic (read from or written to) each node may carry per window.
 * `take` books a task's traffic on every node it touches, or books nothing and says
 * how long to wait when one of them is over its cap.
 */
export class RepairTrafficCap {
  readonly #bytesPerWindow: number;
  readonly #windowMs: number;
  readonly #used = new Map<string, { since: number; bytes: number }>();

  constructor(bytesPerWindow: number, windowMs: number) {
    if (!(bytesPerWindow > 0) || !(windowMs > 0)) throw new RangeError('bytesPerWindow and windowMs must be positive');
    this.#bytesPerWindow = bytesPerWindow;
    this.#windowMs = windowMs;
  }

  /** 0 when booked; else the milliseconds until every node involved has room again. */
  take(traffic: ReadonlyMap<string, number>, now: number): number {
    let wait = 0;
    for (const [node, bytes] of traffic) {
      const used = this.#current(node, now);
      // A task bigger than a whole window still runs, alone, in a fresh window.
      if (used.bytes > 0 && used.bytes + bytes > this.#bytesPerWindow) wait = Math.max(wait, used.since + this.#windowMs - now);
    }
    if (wait > 0) return wait;
    for (const [node, bytes] of traffic) this.#current(node, now).bytes += bytes;
    return 0;
  }

  #current(node: string, now: number): { since: number; bytes: number } {
    let used = this.#used.get(node);
    if (!used || now - used.since >= this.#windowMs) {
      used = { since: now, bytes: 0 };
      this.#used.set(node, used);
    }
    return used;
  }
}
