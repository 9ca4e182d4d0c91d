import { describe, expect, it } from 'vitest';
import { LOWEST_PRIORITY, RepairTrafficCap, repairJobId, repairPriority } from '../src/domain/repair-queue.ts';

describe('repair queue rules', () => {
  it('names one job per chunk and group version, in a form BullMQ accepts', () => {
    const id = repairJobId('bafkreiabc', 'f'.repeat(64));
    expect(id).toBe(`repair-bafkreiabc-${'f'.repeat(64)}`);
    expect(id).not.toContain(':');
    expect(repairJobId('bafkreiabc', 'e'.repeat(64))).not.toBe(id);
  });

  it('puts the chunk nearest to loss first', () => {
    expect(repairPriority(0)).toBe(1);
    expect(repairPriority(1 / 24)).toBe(1);
    expect(repairPriority(1)).toBe(24);
    expect(repairPriority(1)).toBeLessThan(repairPriority(2));
    expect(repairPriority(Number.POSITIVE_INFINITY)).toBe(LOWEST_PRIORITY);
    expect(repairPriority(1e9)).toBe(LOWEST_PRIORITY);
  });

  it('caps repair traffic per node and says how long to wait', () => {
    const cap = new RepairTrafficCap(100, 60_000);
    expect(cap.take(new Map([['a', 60], ['b', 60]]), 0)).toBe(0);
    // a would carry 120 > 100: wait until its window ends; nothing booked for c either.
    expect(cap.take(new Map([['a', 60], ['c', 10]]), 10_000)).toBe(50_000);
    expect(cap.take(new Map([['c', 100]]), 10_000)).toBe(0);
    expect(cap.take(new Map([['a', 60]]), 60_000)).toBe(0);
    // A task larger than the cap still runs, alone, in a fresh window.
    expect(cap.take(new Map([['d', 500]]), 0)).toBe(0);
  });
});
