import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DEFAULT_FAILURE_PRIOR, failureRatePerDay } from '../src/domain/failure-rate.ts';

const count = fc.integer({ min: 0, max: 10_000 });

describe('failureRatePerDay', () => {
  it('is the prior, one failure a year per node, when nothing was observed', () => {
    expect(failureRatePerDay({ outs: 0, nodes: 0, days: 0 })).toBeCloseTo(1 / 365, 15);
    // Nodes watched for no time, or no nodes watched for a while, are no observation either.
    expect(failureRatePerDay({ outs: 0, nodes: 50, days: 0 })).toBeCloseTo(1 / 365, 15);
    expect(failureRatePerDay({ outs: 0, nodes: 0, days: 30 })).toBeCloseTo(1 / 365, 15);
    expect(DEFAULT_FAILURE_PRIOR).toEqual({ failures: 1, nodeDays: 365 });
    expect(Object.isFrozen(DEFAULT_FAILURE_PRIOR)).toBe(true);
  });

  it('smooths the observation with the prior: (outs + 1) / (node-days + 365)', () => {
    // 10 nodes for 73 days are 730 node-days; 2 outs: (2 + 1) / (730 + 365) = 3 / 1095.
    expect(failureRatePerDay({ outs: 2, nodes: 10, days: 73 })).toBeCloseTo(3 / 1095, 15);
    // Another prior: (0 + 2) / (100 + 100).
    expect(failureRatePerDay({ outs: 0, nodes: 10, days: 10 }, { failures: 2, nodeDays: 100 })).toBeCloseTo(0.01, 15);
  });

  it('never says a network that saw no failure never fails', () => {
    fc.assert(
      fc.property(count, fc.integer({ min: 0, max: 3650 }), (nodes, days) => {
        expect(failureRatePerDay({ outs: 0, nodes, days })).toBeGreaterThan(0);
      }),
    );
  });

  it('grows with the failures observed over the same node-days (property)', () => {
    fc.assert(
      fc.property(count, fc.integer({ min: 1, max: 1000 }), fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 1, max: 100 }), (outs, more, nodes, days) => {
        const base = failureRatePerDay({ outs, nodes, days });
        expect(failureRatePerDay({ outs: outs + more, nodes, days })).toBeGreaterThan(base);
      }),
    );
  });

  it('comes closer to the observed rate the more node-days back it (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 50 }),
        fc.integer({ min: 1, max: 200 }),
        fc.integer({ min: 1, max: 60 }),
        fc.integer({ min: 2, max: 20 }),
        (outs, nodes, days, factor) => {
          // The same observed rate (outs per node-day), watched `factor` times longer.
          const observed = outs / (nodes * days);
          const short = failureRatePerDay({ outs, nodes, days });
          const long = failureRatePerDay({ outs: outs * factor, nodes, days: days * factor });
          expect(Math.abs(long - observed)).toBeLessThanOrEqual(Math.abs(short - observed));
          // Strictly closer unless the observation happens to equal the prior.
          if (Math.abs(observed - 1 / 365) > 1e-12) expect(Math.abs(long - observed)).toBeLessThan(Math.abs(short - observed));
          // And it always lies between the prior and the observation.
          expect(long).toBeGreaterThanOrEqual(Math.min(observed, 1 / 365) - 1e-15);
          expect(long).toBeLessThanOrEqual(Math.max(observed, 1 / 365) + 1e-15);
        },
      ),
    );
    // Concretely: 1,000 nodes for 365 days with 10,000 outs (10 a node a year) ends near 10/365,
    // far from the prior's 1/365.
    const rate = failureRatePerDay({ outs: 10_000, nodes: 1000, days: 365 });
    expect(rate).toBeCloseTo(10_001 / 365_365, 12);
    expect(Math.abs(rate - 10 / 365)).toBeLessThan(1e-4);
  });

  it('treats negative inputs as 0', () => {
    const zero = failureRatePerDay({ outs: 0, nodes: 0, days: 0 });
    expect(failureRatePerDay({ outs: -5, nodes: 0, days: 0 })).toBe(zero);
    expect(failureRatePerDay({ outs: -5, nodes: -10, days: -10 })).toBe(zero);
    // Two negative factors must not make positive node-days.
    expect(failureRatePerDay({ outs: 3, nodes: -10, days: -10 })).toBe(failureRatePerDay({ outs: 3, nodes: 0, days: 0 }));
    fc.assert(
      fc.property(fc.integer({ min: -1000, max: -1 }), count, fc.integer({ min: 0, max: 100 }), (negative, nodes, days) => {
        expect(failureRatePerDay({ outs: negative, nodes, days })).toBe(failureRatePerDay({ outs: 0, nodes, days }));
        expect(failureRatePerDay({ outs: days, nodes: negative, days })).toBe(failureRatePerDay({ outs: days, nodes: 0, days }));
        expect(failureRatePerDay({ outs: days, nodes, days: negative })).toBe(failureRatePerDay({ outs: days, nodes, days: 0 }));
      }),
    );
  });
});
