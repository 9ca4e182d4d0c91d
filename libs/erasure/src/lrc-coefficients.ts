/**
 * Global parity coefficients for the Azure-style LRC(k, l, r) codec (lrc-codec.ts),
 * chosen so the code is maximally recoverable (MR): every erasure pattern that
 * `isRecoverable(lrcScheme(k, l, r), lost)` accepts decodes.
 *
 * The code: data d_0..d_{k−1}; local parity of group j = XOR of its data shards
 * (coefficient 1, as in Huang et al., "Erasure Coding in Windows Azure Storage",
 * 2012); global parity g = Σ_i A[g][i] · d_i with A an r × k matrix over GF(2^8).
 *
 * MR condition, in the terms of schemes.ts. For a pattern, eliminate with each
 * surviving local parity of a group whose missing data set is M_j: pick the pivot
 * p = min M_j; what is left for the global rows is the column A_i + A_p (i ∈ M_j, i ≠ p).
 * In a group whose local parity is lost, the columns are A_i (i ∈ M_j). The pattern
 * decodes iff these t columns, restricted to the surviving global rows R, have rank t.
 * A pattern with |R| = t is one the rule accepts with no slack, and a pattern with
 * |R| > t has a t-row subset, so the code is MR iff
 *
 *     det(A[R, C]) ≠ 0 for every set R of t global rows and every "derived" column set C of size t
 *
 * where C takes from each group either nothing, or c ≤ r columns A_i for c of its data
 * shards (local parity lost), or the c columns A_i + A_p for c + 1 of its data shards
 * (local parity present, p the smallest), with t = Σ c ≤ r.
 *
 * Construction: greedy, one data shard (column of A) at a time, in index order. For
 * column x, every (R, C) whose C involves x as its largest index is linear in A_x
 * (the other columns are already fixed), det = Σ_g A_x[g]·w_g + (A_p's part); the
 * cofactors w make each condition one inequality. Candidates for A_x, in a fixed
 * order: the Cauchy column A_x[g] = 1 / (g ⊕ (r + x)) first, then columns of r
 * non-zero bytes drawn from xoshiro128** (prng.ts) seeded by (k, l, r); the first
 * candidate meeting every condition is taken. Each condition is checked when its
 * largest column is chosen and later columns do not change it, so the finished
 * matrix meets them all: the code is MR by construction. When no candidate fits within
 * the search budget, or the number of conditions is above MAX_MR_MINORS, construction
 * throws `config.not_maximally_recoverable` instead of returning a code that is not
 * MR. The result is deterministic (it is the shard format: never change the order).
 */
import { ErasureError } from './errors.ts';
import { GF_EXP, GF_LOG, GF_MUL_TABLE } from './gf256.ts';
import { createPrng } from './prng.ts';

/** Most MR conditions (t × t minors) the construction will enumerate. */
export const MAX_MR_MINORS = 2_000_000;
/** Most candidate-condition evaluations the search spends in all. */
export const MAX_MR_SEARCH_WORK = 60_000_000;
/** Most candidate columns tried for one data shard. */
export const MAX_MR_CANDIDATES = 8192;

/** A derived column: data shard i's coefficient column, plus shard p's when p ≥ 0. */
export type DerivedColumn = readonly [i: number, p: number];

function binomial(n: number, c: number): number {
  if (c < 0 || c > n) return 0;
  let out = 1;
  for (let i = 1; i <= c; i++) out = (out * (n - c + i)) / i;
  return Math.round(out);
}

/**
 * How many MR conditions (pairs of t global rows and t derived columns, 1 ≤ t ≤ r)
 * an LRC with these local group sizes and r global parities has.
 */
export function countMrConditions(groupSizes: readonly number[], r: number): number {
  let poly = [1, ...Array.from({ length: r }, () => 0)];
  for (const s of groupSizes) {
    const p = [1, ...Array.from({ length: r }, (_, c) => binomial(s, c + 1) + binomial(s, c + 2))];
    const next = Array.from({ length: r + 1 }, () => 0);
    for (let a = 0; a <= r; a++) for (let b = 0; a + b <= r; b++) next[a + b]! += poly[a]! * p[b]!;
    poly = next;
  }
  let total = 0;
  for (let t = 1; t <= r; t++) total += binomial(r, t) * poly[t]!;
  return total;
}

/**
 * Every way one local group can contribute derived columns (1 ≤ count ≤ r): subsets
 * of its data shards with the local parity lost (columns A_i), and subsets of two or
 * more with it present (columns A_i + A_p, p the smallest). `max` is the largest shard.
 */
export function groupContributions(members: readonly number[], r: number): { columns: DerivedColumn[]; max: number }[] {
  const out: { columns: DerivedColumn[]; max: number }[] = [];
  const pick: number[] = [];
  const visit = (from: number): void => {
    if (pick.length > 0) {
      if (pick.length <= r) out.push({ columns: pick.map((i) => [i, -1] as const), max: pick[pick.length - 1]! });
      if (pick.length >= 2) out.push({ columns: pick.slice(1).map((i) => [i, pick[0]!] as const), max: pick[pick.length - 1]! });
    }
    if (pick.length === r + 1) return;
    for (let m = from; m < members.length; m++) {
      pick.push(members[m]!);
      visit(m + 1);
      pick.pop();
    }
  };
  visit(0);
  return out;
}

/** The subsets of {0..r−1} of size t, for t = 0..r. */
export function rowSubsets(r: number): number[][][] {
  const bySize: number[][][] = Array.from({ length: r + 1 }, () => []);
  for (let mask = 0; mask < 1 << r; mask++) {
    const rows: number[] = [];
    for (let g = 0; g < r; g++) if ((mask >> g) & 1) rows.push(g);
    bySize[rows.length]!.push(rows);
  }
  return bySize;
}

const mul = (a: number, b: number): number => GF_MUL_TABLE[(a << 8) | b]!;
const inv = (a: number): number => GF_EXP[255 - GF_LOG[a]!]!;

/** Determinant of the t × t matrix `m` (row-major, overwritten) over GF(2^8). */
export function determinant(m: Uint8Array | number[], t: number): number {
  let det = 1;
  for (let col = 0; col < t; col++) {
    let pivot = col;
    while (pivot < t && m[pivot * t + col] === 0) pivot++;
    if (pivot === t) return 0;
    if (pivot !== col) {
      for (let j = col; j < t; j++) {
        const tmp = m[col * t + j]!;
        m[col * t + j] = m[pivot * t + j]!;
        m[pivot * t + j] = tmp;
      }
    }
    const p = m[col * t + col]!;
    det = mul(det, p);
    const pInv = inv(p);
    for (let r = col + 1; r < t; r++) {
      const f = m[r * t + col]!;
      if (f === 0) continue;
      const factor = mul(f, pInv);
      for (let j = col; j < t; j++) m[r * t + j] = m[r * t + j]! ^ mul(factor, m[col * t + j]!);
    }
  }
  return det;
}

/** Entry (g, column) of A[·, C] for A stored row-major as r × k bytes. */
function entry(a: Uint8Array, k: number, g: number, column: DerivedColumn): number {
  const [i, p] = column;
  return p < 0 ? a[g * k + i]! : a[g * k + i]! ^ a[g * k + p]!;
}

const cache = new Map<string, Uint8Array>();

/**
 * The r × k global coefficient matrix (row-major bytes, A[g][i] at g·k + i) of the
 * MR LRC with these local groups (data shard indices, as lrcGroups gives them).
 * Cached per shape; callers get a copy. Throws `config.not_maximally_recoverable`.
 */
export function lrcGlobalCoefficients(k: number, groups: readonly (readonly number[])[], r: number): Uint8Array {
  const key = `${k}:${groups.map((g) => g.length).join(',')}:${r}`;
  let a = cache.get(key);
  if (a === undefined) {
    a = search(k, groups, r);
    cache.set(key, a);
  }
  return a.slice();
}

function search(k: number, groups: readonly (readonly number[])[], r: number): Uint8Array {
  const l = groups.length;
  const name = `LRC(${k},${l},${r})`;
  const a = new Uint8Array(r * k);
  if (r === 0) return a;
  const conditions = countMrConditions(groups.map((g) => g.length), r);
  if (conditions > MAX_MR_MINORS) {
    throw new ErasureError(
      'config.not_maximally_recoverable',
      'r',
      `${name}: maximal recoverability has ${conditions} minor conditions to meet, more than the construction checks (${MAX_MR_MINORS}); use fewer global parities or smaller local groups`,
    );
  }
  const rows = rowSubsets(r);
  const rng = createPrng(0x4c524300 ^ Math.imul(k, 65537) ^ Math.imul(l, 257) ^ r);
  let work = 0;
  // Derived column sets from the groups before the current one, of total size ≤ r − 1.
  let prefixes: DerivedColumn[][] = [[]];
  const scratch = new Uint8Array(r * r);
  const candidate = new Uint8Array(r);

  for (let gi = 0; gi < l; gi++) {
    const contributions = groupContributions(groups[gi]!, r);
    for (const x of groups[gi]!) {
      // The conditions whose largest column is x: cofactor vectors w (on rows R) and targets.
      const checkRows: number[][] = [];
      const checkW: number[][] = [];
      const checkTarget: number[] = [];
      for (const current of contributions) {
        if (current.max !== x) continue;
        const vAt = current.columns.findIndex(([i]) => i === x);
        const [, p] = current.columns[vAt]!;
        for (const prefix of prefixes) {
          const t = prefix.length + current.columns.length;
          if (t > r) continue;
          const others = [...prefix, ...current.columns.filter((_, c) => c !== vAt)];
          for (const rowSet of rows[t]!) {
            const w: number[] = [];
            for (let drop = 0; drop < t; drop++) {
              let at = 0;
              for (let ri = 0; ri < t; ri++) {
                if (ri === drop) continue;
                for (const column of others) scratch[at++] = entry(a, k, rowSet[ri]!, column);
              }
              w.push(t === 1 ? 1 : determinant(scratch, t - 1));
            }
            let target = 0;
            if (p >= 0) for (let ri = 0; ri < t; ri++) target ^= mul(w[ri]!, a[rowSet[ri]! * k + p]!);
            checkRows.push(rowSet);
            checkW.push(w);
            checkTarget.push(target);
          }
        }
      }
      let found = false;
      for (let attempt = 0; attempt < MAX_MR_CANDIDATES && !found; attempt++) {
        for (let g = 0; g < r; g++) candidate[g] = attempt === 0 ? inv(g ^ (r + x)) : 1 + rng.nextInt(255);
        found = true;
        for (let c = 0; c < checkRows.length; c++) {
          const rowSet = checkRows[c]!;
          const w = checkW[c]!;
          let s = 0;
          for (let ri = 0; ri < rowSet.length; ri++) s ^= mul(candidate[rowSet[ri]!]!, w[ri]!);
          work++;
          if (s === checkTarget[c]) {
            found = false;
            break;
          }
        }
        if (work > MAX_MR_SEARCH_WORK) break;
      }
      if (!found) {
        throw new ErasureError(
          'config.not_maximally_recoverable',
          'r',
          `${name}: no global parity coefficients in GF(2^8) found for data shard ${x} that keep the code maximally recoverable (${checkRows.length} conditions on its column; search budget spent); use fewer global parities or smaller local groups`,
        );
      }
      for (let g = 0; g < r; g++) a[g * k + x] = candidate[g]!;
    }
    const grown: DerivedColumn[][] = [...prefixes];
    for (const prefix of prefixes) {
      for (const c of contributions) if (prefix.length + c.columns.length <= r - 1) grown.push([...prefix, ...c.columns]);
    }
    prefixes = grown;
  }
  return a;
}
