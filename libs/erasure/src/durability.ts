/**
 * Closed-form durability of a (k, n) code: each of n pieces is lost in a period,
 * the object is lost when more than n − k are.
 *
 * - binomial: each piece is lost independently with probability p,
 *   P(loss) = Σ_{i=n−k+1..n} C(n,i) p^i (1−p)^(n−i).
 * - Poisson (the model of the Storj v3.0 whitepaper, section 3.4 "Redundancy"): the
 *   number of pieces lost in a month is Poisson with mean λ = p·n, so
 *   P(D) = e^{−λ} Σ_{i=0..n−k} λ^i / i! and P(loss) = 1 − P(D). It approximates the
 *   binomial for small p and, unlike it, lets more than n pieces be "lost".
 * - repair every period: each period ends with a full repair back to n pieces, so
 *   P(loss within T periods) = 1 − (1 − q)^T for a per-period loss q (the reading
 *   of the whitepaper's monthly figures).
 * - repair at a threshold: pieces decay binomially from period to period and the
 *   object is repaired back to n once the live count is at or below a threshold; an
 *   exact Markov chain over the live count.
 * - the lazy-repair approximations of Giroire et al. as printed in the whitepaper's
 *   section 7.1 ("Object repair costs"): loss rate and repair bandwidth ratio.
 *
 * Sums run in log space on the smaller side of the distribution (the tail when the
 * loss is rare, the head otherwise), so both P(loss) and 1 − P(loss) keep their
 * precision for p down to the smallest doubles.
 */
import { ModelError } from './model-errors.ts';

const logFactorials: number[] = [0];

/** ln(i!) for an integer i ≥ 0, from a growing table of summed logarithms. */
function logFactorial(i: number): number {
  for (let j = logFactorials.length; j <= i; j += 1) logFactorials.push(logFactorials[j - 1]! + Math.log(j));
  return logFactorials[i]!;
}

function logChoose(n: number, i: number): number {
  return logFactorial(n) - logFactorial(i) - logFactorial(n - i);
}

/** Σ exp(terms), scaled by the largest term so that nothing under- or overflows early. */
function sumExp(logTerms: number[]): number {
  let max = -Infinity;
  for (const t of logTerms) if (t > max) max = t;
  if (max === -Infinity) return 0;
  let sum = 0;
  for (const t of logTerms) sum += Math.exp(t - max);
  return Math.exp(max) * sum;
}

function checkCode(k: number, n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new ModelError('argument.invalid', 'n', `must be an integer ≥ 1, got ${n}`);
  if (!Number.isInteger(k) || k < 1 || k > n) throw new ModelError('argument.invalid', 'k', `must be an integer in [1, n = ${n}], got ${k}`);
}

function checkProbability(p: number, path: string): void {
  if (typeof p !== 'number' || !Number.isFinite(p) || p < 0 || p > 1) {
    throw new ModelError('argument.invalid', path, `must be a probability in [0, 1], got ${String(p)}`);
  }
}

/** P(loss) and P(durable) for the binomial model, each computed to full precision. */
export interface LossAndDurability {
  /** Probability that the object is lost (more than n − k pieces gone). */
  readonly loss: number;
  /** 1 − loss, computed from the other side of the distribution. */
  readonly durability: number;
}

/** The binomial model: each of n pieces lost independently with probability p in the period. */
export function binomialLoss(k: number, n: number, p: number): LossAndDurability {
  checkCode(k, n);
  checkProbability(p, 'p');
  const first = n - k + 1; // smallest number of lost pieces that loses the object
  if (p === 0) return { loss: 0, durability: 1 };
  if (p === 1) return { loss: 1, durability: 0 };
  const lp = Math.log(p);
  const lq = Math.log1p(-p);
  const term = (i: number): number => logChoose(n, i) + i * lp + (n - i) * lq;
  if (first > n * p) {
    const tail: number[] = [];
    for (let i = first; i <= n; i += 1) tail.push(term(i));
    const loss = sumExp(tail);
    return { loss, durability: 1 - loss };
  }
  return fromHead(term, first);
}

/**
 * Loss and durability from the log-terms of the survivable outcomes (0 … first − 1
 * pieces lost), for when the head is the smaller sum to take exactly.
 */
function fromHead(term: (i: number) => number, first: number): LossAndDurability {
  const head: number[] = [];
  for (let i = 0; i < first; i += 1) head.push(term(i));
  const durability = sumExp(head);
  return { loss: 1 - durability, durability };
}

/** Binomial P(loss) = P(more than n − k of n pieces lost), each with probability p. */
export function binomialLossProbability(k: number, n: number, p: number): number {
  return binomialLoss(k, n, p).loss;
}

/**
 * The Poisson model of the Storj v3.0 whitepaper (section 3.4): pieces lost in a
 * period ~ Poisson(λ = p·n); the object survives when at most n − k are lost.
 */
export function poissonLoss(k: number, n: number, p: number): LossAndDurability {
  checkCode(k, n);
  if (typeof p !== 'number' || !Number.isFinite(p) || p < 0) {
    throw new ModelError('argument.invalid', 'p', `must be a finite rate ≥ 0, got ${String(p)}`);
  }
  const lambda = p * n;
  const first = n - k + 1;
  if (lambda === 0) return { loss: 0, durability: 1 };
  const ll = Math.log(lambda);
  const term = (i: number): number => -lambda + i * ll - logFactorial(i);
  if (first > lambda) {
    // Tail Σ_{i ≥ first}: terms fall once i > λ; stop when one no longer moves the sum.
    const tail: number[] = [];
    const stop = term(first) + Math.log(1e-18);
    for (let i = first; ; i += 1) {
      const t = term(i);
      tail.push(t);
      if (i > lambda && t < stop) break;
    }
    const loss = sumExp(tail);
    return { loss, durability: 1 - loss };
  }
  return fromHead(term, first);
}

/** Storj whitepaper v3.0 P(D | p) as a fraction (the paper prints it as a percentage). */
export function poissonDurability(k: number, n: number, p: number): number {
  return poissonLoss(k, n, p).durability;
}

/**
 * Repair every period: the probability of losing the object within `periods`
 * periods when each period loses it with probability `perPeriodLoss` and ends with
 * a full repair, 1 − (1 − q)^T, computed as −expm1(T·log1p(−q)).
 */
export function lossOverPeriods(perPeriodLoss: number, periods: number): number {
  checkProbability(perPeriodLoss, 'perPeriodLoss');
  if (!Number.isInteger(periods) || periods < 0) throw new ModelError('argument.invalid', 'periods', `must be an integer ≥ 0, got ${periods}`);
  if (perPeriodLoss === 1) return periods === 0 ? 0 : 1;
  return -Math.expm1(periods * Math.log1p(-perPeriodLoss));
}

/** −log10(P(loss)): the "number of nines" of durability (Infinity for a loss of 0). */
export function nines(lossProbability: number): number {
  checkProbability(lossProbability, 'lossProbability');
  return -Math.log10(lossProbability);
}

export interface ThresholdRepairInput {
  /** Pieces needed to decode. */
  readonly k: number;
  /** Pieces stored after upload and after each repair. */
  readonly n: number;
  /** Repair (back to n) at the end of a period in which the live count is ≤ this; k ≤ threshold < n. */
  readonly repairThreshold: number;
  /** Probability that a live piece is lost in a period (independently). */
  readonly p: number;
  /** Number of periods to run the chain. */
  readonly periods: number;
}

export interface ThresholdRepairResult {
  /** Probability that the object was lost (fewer than k live pieces) within the periods. */
  readonly lossProbability: number;
  /** Expected number of repairs over the periods. */
  readonly expectedRepairs: number;
  /** Expected pieces written by repairs (n minus the live count at each repair). */
  readonly expectedPiecesWritten: number;
  /** Expected pieces read by repairs, k per repair (an MDS decode). */
  readonly expectedPiecesRead: number;
}

/** Cap on periods·n² for thresholdRepairLoss (its cost). */
export const MAX_THRESHOLD_CHAIN_WORK = 50_000_000;

/**
 * Exact loss probability and repair traffic of a (k, n) MDS code whose live pieces
 * are each lost with probability p per period and which is repaired back to n at the
 * end of any period that leaves it with at most `repairThreshold` live pieces (and at
 * least k). A Markov chain over the live count; with repairThreshold = n − 1 it is
 * the "repair every period" model.
 */
export function thresholdRepairLoss(input: ThresholdRepairInput): ThresholdRepairResult {
  const { k, n, repairThreshold: m, p, periods } = input;
  checkCode(k, n);
  checkProbability(p, 'p');
  if (!Number.isInteger(m) || m < k || m >= n) {
    throw new ModelError('argument.invalid', 'repairThreshold', `must be an integer in [k = ${k}, n − 1 = ${n - 1}], got ${m}`);
  }
  if (!Number.isInteger(periods) || periods < 0) throw new ModelError('argument.invalid', 'periods', `must be an integer ≥ 0, got ${periods}`);
  if (periods * n * n > MAX_THRESHOLD_CHAIN_WORK) {
    throw new ModelError('argument.invalid', 'periods', `periods·n² = ${periods * n * n} exceeds ${MAX_THRESHOLD_CHAIN_WORK}`);
  }
  // pmf[s][x] = P(x of s live pieces lost in a period).
  const pmf: number[][] = [];
  for (let s = 0; s <= n; s += 1) {
    const row: number[] = [];
    for (let x = 0; x <= s; x += 1) {
      if (p === 0) row.push(x === 0 ? 1 : 0);
      else if (p === 1) row.push(x === s ? 1 : 0);
      else row.push(Math.exp(logChoose(s, x) + x * Math.log(p) + (s - x) * Math.log1p(-p)));
    }
    pmf.push(row);
  }
  let state = new Float64Array(n + 1);
  state[n] = 1;
  let lost = 0;
  let repairs = 0;
  let written = 0;
  for (let t = 0; t < periods; t += 1) {
    const next = new Float64Array(n + 1);
    for (let s = m + 1; s <= n; s += 1) {
      const mass = state[s]!;
      if (mass === 0) continue;
      const row = pmf[s]!;
      for (let x = 0; x <= s; x += 1) {
        const q = mass * row[x]!;
        const after = s - x;
        if (after < k) lost += q;
        else if (after <= m) {
          next[n]! += q;
          repairs += q;
          written += q * (n - after);
        } else next[after]! += q;
      }
    }
    state = next;
  }
  return { lossProbability: lost, expectedRepairs: repairs, expectedPiecesWritten: written, expectedPiecesRead: repairs * k };
}

export interface LazyRepairInput {
  /** Pieces needed to decode. */
  readonly k: number;
  /** Pieces stored. */
  readonly n: number;
  /** Repair threshold m (k ≤ m < n). */
  readonly m: number;
  /** Mean time to failure of a node, in periods (α = 1/MTTF). */
  readonly mttf: number;
}

/**
 * Repair bandwidth ratio B_R = α(n − m + k) / (k ln(n/m)) from the Storj v3.0
 * whitepaper, section 7.1, after Giroire et al. ("Peer-to-Peer Storage Systems: a
 * Practical Guideline to be Lazy", 2010): repair traffic per period as a fraction
 * of the data stored.
 */
export function lazyRepairBandwidthRatio(input: LazyRepairInput): number {
  const { k, n, m, mttf } = input;
  checkLazy(k, n, m, mttf);
  return ((1 / mttf) * (n - m + k)) / (k * Math.log(n / m));
}

/**
 * Loss rate LR = m! / ((m+1) ln(n/m) (k−1)!) · (α/γ)^{m−k+2} from the same section,
 * with α = 1/MTTF and γ = 1/MRT (mean reconstruction time, same time unit).
 */
export function lazyRepairLossRate(input: LazyRepairInput & { readonly mrt: number }): number {
  const { k, n, m, mttf, mrt } = input;
  checkLazy(k, n, m, mttf);
  if (!(mrt > 0) || !Number.isFinite(mrt)) throw new ModelError('argument.invalid', 'mrt', `must be a finite time > 0, got ${mrt}`);
  const log = -Math.log((m + 1) * Math.log(n / m)) + logFactorial(m) - logFactorial(k - 1) + (m - k + 2) * Math.log(mrt / mttf);
  return Math.exp(log);
}

function checkLazy(k: number, n: number, m: number, mttf: number): void {
  checkCode(k, n);
  if (!Number.isInteger(m) || m < k || m >= n) throw new ModelError('argument.invalid', 'm', `must be an integer in [k = ${k}, n − 1 = ${n - 1}], got ${m}`);
  if (!(mttf > 0) || !Number.isFinite(mttf)) throw new ModelError('argument.invalid', 'mttf', `must be a finite time > 0, got ${mttf}`);
}
