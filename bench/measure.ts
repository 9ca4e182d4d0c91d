/** Small, honest timing helpers for the benchmarks (no framework: the loops are the point). */

export interface Rate {
  /** Operations per second. */
  perSecond: number;
  operations: number;
  seconds: number;
}

/** Runs `op` in a tight loop for about `seconds` (checking the clock every `stride` calls). */
export function rateOf(op: () => void, seconds: number, stride = 256): Rate {
  const budget = seconds * 1e9;
  const start = process.hrtime.bigint();
  let operations = 0;
  let elapsed = 0n;
  do {
    for (let i = 0; i < stride; i++) op();
    operations += stride;
    elapsed = process.hrtime.bigint() - start;
  } while (Number(elapsed) < budget);
  const secondsTaken = Number(elapsed) / 1e9;
  return { perSecond: operations / secondsTaken, operations, seconds: secondsTaken };
}

/** Times one asynchronous batch of `operations`. */
export async function rateOfBatch(operations: number, run: () => Promise<void>): Promise<Rate> {
  const start = process.hrtime.bigint();
  await run();
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return { perSecond: operations / seconds, operations, seconds };
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

export function formatRate(perSecond: number): string {
  return `${Math.round(perSecond).toLocaleString('en-US')}/s`;
}
