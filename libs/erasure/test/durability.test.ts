/**
 * Closed forms, and the published figures they reproduce.
 *
 * Source: Storj Labs, "Storj: A Decentralized Cloud Storage Network Framework",
 * v3.0, October 30, 2018 (https://github.com/storj/whitepaper, tag v3.0, storjv3.tex
 * and calc.py). Section 3.4 "Redundancy" prints three tables of P(D | p = 10%) as
 * percentages with 15 decimals (computed by the repository's calc.py with Python
 * Decimal, printed from a double). Section 7.3 "Choosing erasure parameters" prints
 * the decision table "Decision tables showing the relationship between churn
 * (MTTF), Reed-Solomon parameters (k, n, m), repair bandwidth ratio, and
 * durability"; its repair bandwidth ratio column is B_R of section 7.1.
 */
import { describe, expect, it } from 'vitest';
import {
  ModelError,
  binomialLoss,
  binomialLossProbability,
  lazyRepairBandwidthRatio,
  lazyRepairLossRate,
  lossOverPeriods,
  nines,
  poissonDurability,
  poissonLoss,
  thresholdRepairLoss,
} from '../src/mod.ts';

/** [k, n, P(D | p = 10%) in percent as printed], section 3.4, in the paper's order. */
const STORJ_V3_SECTION_3_4: readonly (readonly [number, number, string])[] = [
  // Table 1: expansion factor 2.
  [2, 4, '99.207366813274616'],
  [4, 8, '99.858868985411326'],
  [8, 16, '99.995462406878260'],
  [16, 32, '99.999994620652776'],
  [20, 40, '99.999999807694154'],
  [32, 64, '99.999999999990544'],
  // Table 2: replication.
  [1, 1, '90.483741803595962'],
  [1, 2, '98.247690369357827'],
  [1, 3, '99.640050681691051'],
  [1, 10, '99.999988857452166'],
  [1, 16, '99.999999998036174'],
  // Table 3: other expansion factors.
  [4, 6, '97.688471224736705'],
  [4, 12, '99.999514117129605'],
  [20, 30, '99.970766304935266'],
  [20, 50, '99.999999999999548'],
  [100, 150, '99.999999999973570'],
];

/** [MTTF months, k, n, m, repair bandwidth ratio as printed], section 7.3 decision table. */
const STORJ_V3_DECISION_TABLE: readonly (readonly [number, number, number, number, string])[] = [
  [1, 20, 40, 35, '9.36'],
  [6, 20, 40, 30, '0.87'],
  [12, 20, 40, 25, '0.31'],
  [1, 30, 60, 35, '3.40'],
  [6, 30, 70, 40, '0.60'],
  [12, 30, 80, 45, '0.31'],
  [1, 40, 80, 60, '5.21'],
  [6, 40, 120, 50, '0.52'],
  [12, 40, 120, 45, '0.24'],
];

describe('Storj whitepaper v3.0 figures', () => {
  it('section 3.4: P(D | p = 10%) for all 16 printed (k, n), to the last printed digit (within 2 ulp of a double)', () => {
    for (const [k, n, printed] of STORJ_V3_SECTION_3_4) {
      const percent = poissonDurability(k, n, 0.1) * 100;
      // 100 has an ulp of 1.42e-14; the paper's digits past that are the double's.
      expect([k, n, Math.abs(percent - Number(printed)) <= 3e-14]).toEqual([k, n, true]);
    }
  });

  it('section 3.4: (20, 40) beats (10, 20) at the same expansion factor, as the text says', () => {
    expect(poissonLoss(20, 40, 0.1).loss).toBeLessThan(poissonLoss(10, 20, 0.1).loss);
  });

  it('section 7.3: the repair bandwidth ratio column, all 9 rows, rounded to 2 decimals', () => {
    for (const [mttf, k, n, m, printed] of STORJ_V3_DECISION_TABLE) {
      expect([mttf, k, n, m, lazyRepairBandwidthRatio({ k, n, m, mttf }).toFixed(2)]).toEqual([mttf, k, n, m, printed]);
    }
  });
});

describe('binomial model', () => {
  it('matches hand-computed values', () => {
    // RS(2,4) at p = 0.2: P(3 or 4 lost) = 4·0.2³·0.8 + 0.2⁴.
    expect(binomialLossProbability(2, 4, 0.2)).toBeCloseTo(0.0272, 15);
    // Replication×3 at p = 0.1: all three lost.
    expect(binomialLossProbability(1, 3, 0.1)).toBeCloseTo(0.001, 15);
    expect(binomialLoss(4, 4, 0.5)).toEqual({ loss: 1 - 1 / 16, durability: 1 / 16 });
    expect(binomialLoss(3, 6, 0)).toEqual({ loss: 0, durability: 1 });
    expect(binomialLoss(3, 6, 1)).toEqual({ loss: 1, durability: 0 });
  });

  it('keeps relative precision for tiny p where 1 − Σ head would give 0', () => {
    const p = 1e-9;
    // RS(10,4): the leading term C(14,5) p⁵ (1−p)⁹ dominates; the next is ~1e-9 of it.
    const loss = binomialLossProbability(10, 14, p);
    expect(Math.abs(loss / (2002 * p ** 5) - 1)).toBeLessThan(1e-8);
    expect(nines(loss)).toBeCloseTo(41.7, 1);
  });

  it('loss and durability add up to 1 on either side of the mean', () => {
    for (const [k, n, p] of [[10, 14, 0.05], [10, 14, 0.6], [1, 3, 0.9], [29, 80, 0.3]] as const) {
      const r = binomialLoss(k, n, p);
      expect(r.loss + r.durability).toBeCloseTo(1, 14);
    }
  });

  it('the Poisson model is close to the binomial one when few losses are fatal, and far more pessimistic deep in the tail', () => {
    // Three of 40 lost: n³/3! against C(40, 3), about 8% apart.
    expect(Math.abs(poissonLoss(38, 40, 0.001).loss / binomialLossProbability(38, 40, 0.001) - 1)).toBeLessThan(0.1);
    // Twenty-one of 40 lost: 40²¹/21! against C(40, 21), a factor of about 640.
    const ratio = poissonLoss(20, 40, 0.001).loss / binomialLossProbability(20, 40, 0.001);
    expect(ratio).toBeGreaterThan(600);
    expect(ratio).toBeLessThan(700);
  });

  it('refuses probabilities outside [0, 1] and impossible codes', () => {
    expect(() => binomialLossProbability(5, 4, 0.1)).toThrow(ModelError);
    expect(() => binomialLossProbability(2, 4, 1.5)).toThrow(/argument\.invalid: p:/);
    expect(() => binomialLossProbability(2, 4, Number.NaN)).toThrow(ModelError);
  });
});

describe('repair models', () => {
  it('lossOverPeriods: 1 − (1 − q)^T without cancellation', () => {
    // 1 − (1 − q)^12 = 12q − 66q² + …: the q² term is visible, so no digits were lost.
    expect(Math.abs(lossOverPeriods(1e-12, 12) / (12e-12 - 66e-24) - 1)).toBeLessThan(1e-14);
    expect(lossOverPeriods(0.5, 2)).toBeCloseTo(0.75, 15);
    expect(lossOverPeriods(0.3, 0)).toBe(0);
    expect(lossOverPeriods(1, 3)).toBe(1);
  });

  it('a threshold chain with threshold n − 1 is "repair every period"', () => {
    const k = 4;
    const n = 8;
    const p = 0.05;
    const r = thresholdRepairLoss({ k, n, repairThreshold: n - 1, p, periods: 24 });
    const expected = lossOverPeriods(binomialLossProbability(k, n, p), 24);
    expect(Math.abs(r.lossProbability / expected - 1)).toBeLessThan(1e-12);
    // A repair in every period that loses something but not the object, while it lives:
    // Σ_{t<T} (1 − q)^t · P(1 ≤ lost ≤ n − k) = P(1 ≤ lost ≤ n − k) · (1 − (1 − q)^T) / q.
    const q = binomialLossProbability(k, n, p);
    const perPeriod = 1 - (1 - p) ** n - q;
    expect(Math.abs(r.expectedRepairs / ((perPeriod * expected) / q) - 1)).toBeLessThan(1e-9);
    expect(r.expectedPiecesRead).toBeCloseTo(r.expectedRepairs * k, 9);
  });

  it('a lower threshold loses more and repairs less often, writing more per repair', () => {
    const eager = thresholdRepairLoss({ k: 20, n: 40, repairThreshold: 39, p: 0.02, periods: 120 });
    const lazy = thresholdRepairLoss({ k: 20, n: 40, repairThreshold: 25, p: 0.02, periods: 120 });
    expect(lazy.lossProbability).toBeGreaterThan(eager.lossProbability);
    expect(lazy.expectedRepairs).toBeLessThan(eager.expectedRepairs);
    expect(lazy.expectedPiecesWritten / lazy.expectedRepairs).toBeGreaterThan(eager.expectedPiecesWritten / eager.expectedRepairs);
    expect(() => thresholdRepairLoss({ k: 20, n: 40, repairThreshold: 40, p: 0.02, periods: 1 })).toThrow(/repairThreshold/);
  });

  it('lazy-repair loss rate (section 7.1 formula) falls as repairs get faster and is refused without an MRT', () => {
    const slow = lazyRepairLossRate({ k: 20, n: 40, m: 30, mttf: 6, mrt: 0.1 });
    const fast = lazyRepairLossRate({ k: 20, n: 40, m: 30, mttf: 6, mrt: 0.01 });
    // (α/γ)^(m−k+2): ten times faster repair, 10^12 times smaller.
    expect(slow / fast).toBeCloseTo(1e12, -3);
    expect(() => lazyRepairLossRate({ k: 20, n: 40, m: 30, mttf: 6, mrt: 0 })).toThrow(/mrt/);
  });
});
