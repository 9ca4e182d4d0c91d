/**
 * An independent check of decodability: each scheme as a generator matrix over the
 * prime field GF(2^31 − 1) (one row per shard, one column per data symbol), with
 * random coefficients where the scheme's coefficients are free (RS parities, LRC
 * global parities). A set of shards can rebuild shard j iff row j lies in the span of
 * their rows; the object decodes iff the surviving rows have rank k. With random
 * coefficients from a field this large, a generic (maximally recoverable) code is
 * what we get, except with probability about (rows)/2^31 per determinant.
 */
import { createPrng } from '../src/prng.ts';
import { type Scheme, dataShardCount, lrcGroups, shardCount } from '../src/schemes.ts';

const P = 2147483647;

function mulmod(a: number, b: number): number {
  // a, b < 2^31: split a to keep every product below 2^53.
  return ((((a >>> 16) * b) % P) * 65536 + (a & 0xffff) * b) % P;
}

function powmod(a: number, e: number): number {
  let result = 1;
  let base = a % P;
  while (e > 0) {
    if (e & 1) result = mulmod(result, base);
    base = mulmod(base, base);
    e = Math.floor(e / 2);
  }
  return result;
}

const inverse = (a: number): number => powmod(a, P - 2);

/** Rank of `rows` over GF(P) (rows are copied). */
export function rank(rows: readonly (readonly number[])[]): number {
  const m = rows.map((r) => [...r]);
  const cols = m[0]?.length ?? 0;
  let r = 0;
  for (let c = 0; c < cols && r < m.length; c += 1) {
    const pivot = m.findIndex((row, i) => i >= r && row[c] !== 0);
    if (pivot < 0) continue;
    [m[r], m[pivot]] = [m[pivot]!, m[r]!];
    const inv = inverse(m[r]![c]!);
    for (let i = 0; i < m.length; i += 1) {
      if (i === r || m[i]![c] === 0) continue;
      const f = mulmod(m[i]![c]!, inv);
      for (let j = c; j < cols; j += 1) m[i]![j] = (m[i]![j]! - mulmod(f, m[r]![j]!) + P) % P;
    }
    r += 1;
  }
  return r;
}

/** One generator row per shard; free coefficients drawn from a PRNG seeded by `seed`. */
export function generatorRows(scheme: Scheme, seed = 1): number[][] {
  const rng = createPrng(seed);
  const k = dataShardCount(scheme);
  const unit = (i: number): number[] => Array.from({ length: k }, (_, j) => (j === i ? 1 : 0));
  const random = (): number[] => Array.from({ length: k }, () => 1 + rng.nextInt(P - 1));
  const rows: number[][] = [];
  switch (scheme.kind) {
    case 'replication':
      for (let i = 0; i < scheme.copies; i += 1) rows.push([1]);
      break;
    case 'rs':
      for (let i = 0; i < k; i += 1) rows.push(unit(i));
      for (let i = 0; i < scheme.m; i += 1) rows.push(random());
      break;
    case 'xor':
      for (let i = 0; i < k; i += 1) rows.push(unit(i));
      rows.push(Array.from({ length: k }, () => 1));
      break;
    case 'lrc': {
      for (let i = 0; i < k; i += 1) rows.push(unit(i));
      for (const g of lrcGroups(scheme)) rows.push(Array.from({ length: k }, (_, j) => (g.data.includes(j) ? 1 : 0)));
      for (let i = 0; i < scheme.r; i += 1) rows.push(random());
      break;
    }
  }
  if (rows.length !== shardCount(scheme)) throw new Error('generator rows do not match the shard count');
  return rows;
}

/** Whether the object decodes from the shards not in `missing`, by rank. */
export function decodesByRank(rows: readonly (readonly number[])[], missing: ReadonlySet<number>): boolean {
  const k = rows[0]!.length;
  return rank(rows.filter((_, i) => !missing.has(i))) === k;
}

/** Whether every shard in `targets` is a linear function of the shards in `from`. */
export function rebuildsByRank(rows: readonly (readonly number[])[], from: readonly number[], targets: readonly number[]): boolean {
  const base = from.map((i) => rows[i]!);
  const r = rank(base);
  return targets.every((t) => rank([...base, rows[t]!]) === r);
}
