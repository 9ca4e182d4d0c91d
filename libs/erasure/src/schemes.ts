/**
 * Redundancy schemes as descriptions plus their decodability predicates, without
 * byte codecs: which shards exist, what each one is, and whether a given set of
 * missing shards still lets the object be rebuilt.
 *
 * Shard layout (indices in [0, n)), fixed so that plans and simulations agree with
 * any codec that follows it:
 * - replication(c): shards 0..c-1 are full copies.
 * - RS(k, m):       0..k-1 data, k..k+m-1 parity; any k shards decode (MDS).
 * - XOR(k):         0..k-1 data, k the XOR parity; RS(k, 1) as far as decoding goes.
 * - LRC(k, l, r):   0..k-1 data in l local groups (contiguous, sizes within one of
 *                   each other, larger groups first), k..k+l-1 the groups' local XOR
 *                   parities (group j's at k+j), k+l..k+l+r-1 the global parities.
 *
 * LRC decodability is the maximally-recoverable (MR) rule of Huang et al., "Erasure
 * Coding in Windows Azure Storage", USENIX ATC 2012, section 2: a pattern is
 * decodable exactly when it is information-theoretically decodable for the LRC's
 * topology. Derivation (it is the paper's "swap" check): unknowns are the missing
 * data shards; a surviving local parity of a group with missing data gives one
 * equation on that group's missing data (an all-ones row, independent of the other
 * groups'), and surviving global parities give generic rows over all data. With
 * generic global coefficients the rank is (#groups with a missing data shard and a
 * surviving local parity) + min(#surviving globals, rest), so the pattern decodes iff
 *     Σ_j max(0, e_j − a_j) ≤ surviving globals,
 * where e_j counts group j's missing data shards and a_j is 1 if its local parity
 * survives. Missing parities are recomputed from the data. The rule is exact for an
 * MR code (the paper shows how to choose MR coefficients); a codec whose
 * coefficients are not MR can fail patterns this accepts. The tests
 * check the rule against a rank computation over a prime field with random global
 * coefficients.
 */
import { ModelError } from './model-errors.ts';

/** Largest shard count accepted: the package's GF(2^8) codec's limit (reed-solomon.ts MAX_TOTAL_SHARDS). */
export const MAX_SHARDS = 255;

/** `copies` full copies of the object; any one rebuilds it. */
export interface ReplicationScheme {
  readonly kind: 'replication';
  readonly copies: number;
}

/** Reed–Solomon: `k` data shards and `m` parity shards; any `k` of `k + m` decode. */
export interface ReedSolomonScheme {
  readonly kind: 'rs';
  readonly k: number;
  readonly m: number;
}

/** Azure-style LRC: `k` data shards in `l` local groups with one XOR parity each, `r` global parities. */
export interface LrcScheme {
  readonly kind: 'lrc';
  readonly k: number;
  readonly l: number;
  readonly r: number;
}

/** `k` data shards and one XOR parity shard. */
export interface XorScheme {
  readonly kind: 'xor';
  readonly k: number;
}

export type Scheme = ReplicationScheme | ReedSolomonScheme | LrcScheme | XorScheme;

/** What a shard is: a copy, a data shard, or a parity (local parities name their group). */
export type ShardRole =
  | { readonly role: 'copy' }
  | { readonly role: 'data'; readonly group?: number }
  | { readonly role: 'parity' }
  | { readonly role: 'local-parity'; readonly group: number }
  | { readonly role: 'global-parity' };

/** One LRC local group: its data shard indices and its local parity's index. */
export interface LrcGroup {
  readonly data: readonly number[];
  readonly localParity: number;
}

function checkCount(value: unknown, path: string, min: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new ModelError('scheme.invalid', path, `must be an integer ≥ ${min}, got ${String(value)}`);
  }
  return value;
}

function checkTotal(n: number, path: string): void {
  if (n > MAX_SHARDS) throw new ModelError('scheme.invalid', path, `${n} shards exceed the maximum of ${MAX_SHARDS}`);
}

/** Replication with `copies` ≥ 1 copies. */
export function replicationScheme(copies: number): ReplicationScheme {
  checkCount(copies, 'copies', 1);
  checkTotal(copies, 'copies');
  return Object.freeze({ kind: 'replication', copies });
}

/** Reed–Solomon with `k` ≥ 1 data and `m` ≥ 0 parity shards. */
export function rsScheme(k: number, m: number): ReedSolomonScheme {
  checkCount(k, 'k', 1);
  checkCount(m, 'm', 0);
  checkTotal(k + m, 'k + m');
  return Object.freeze({ kind: 'rs', k, m });
}

/** Azure-style LRC with `k` ≥ 1 data shards, 1 ≤ `l` ≤ `k` local groups and `r` ≥ 0 global parities. */
export function lrcScheme(k: number, l: number, r: number): LrcScheme {
  checkCount(k, 'k', 1);
  checkCount(l, 'l', 1);
  checkCount(r, 'r', 0);
  if (l > k) throw new ModelError('scheme.invalid', 'l', `${l} local groups cannot split ${k} data shards (l ≤ k)`);
  checkTotal(k + l + r, 'k + l + r');
  return Object.freeze({ kind: 'lrc', k, l, r });
}

/** `k` ≥ 1 data shards plus one XOR parity. */
export function xorScheme(k: number): XorScheme {
  checkCount(k, 'k', 1);
  checkTotal(k + 1, 'k + 1');
  return Object.freeze({ kind: 'xor', k });
}

/** Re-checks a scheme built by hand (an object literal) and returns it. */
export function checkScheme(scheme: Scheme): Scheme {
  switch (scheme?.kind) {
    case 'replication':
      return replicationScheme(scheme.copies);
    case 'rs':
      return rsScheme(scheme.k, scheme.m);
    case 'lrc':
      return lrcScheme(scheme.k, scheme.l, scheme.r);
    case 'xor':
      return xorScheme(scheme.k);
    default:
      throw new ModelError('scheme.invalid', 'kind', `unknown scheme kind ${JSON.stringify((scheme as { kind?: unknown })?.kind)}`);
  }
}

/** Total number of shards stored, n. */
export function shardCount(scheme: Scheme): number {
  switch (scheme.kind) {
    case 'replication':
      return scheme.copies;
    case 'rs':
      return scheme.k + scheme.m;
    case 'lrc':
      return scheme.k + scheme.l + scheme.r;
    case 'xor':
      return scheme.k + 1;
  }
}

/** Number of data shards, k (1 for replication: each copy is the whole object). */
export function dataShardCount(scheme: Scheme): number {
  return scheme.kind === 'replication' ? 1 : scheme.k;
}

/** Storage overhead (expansion factor), n / k. */
export function storageOverhead(scheme: Scheme): number {
  return shardCount(scheme) / dataShardCount(scheme);
}

/**
 * The largest t such that every pattern of t missing shards is decodable:
 * copies − 1, m, 1, and r + 1 for an MR LRC (the paper's "arbitrary r + 1 failures").
 */
export function faultTolerance(scheme: Scheme): number {
  switch (scheme.kind) {
    case 'replication':
      return scheme.copies - 1;
    case 'rs':
      return scheme.m;
    case 'xor':
      return 1;
    case 'lrc':
      return scheme.r + 1;
  }
}

/** The local groups of an LRC, in order. */
export function lrcGroups(scheme: LrcScheme): readonly LrcGroup[] {
  const { k, l } = scheme;
  const base = Math.floor(k / l);
  const larger = k % l;
  const groups: LrcGroup[] = [];
  let next = 0;
  for (let j = 0; j < l; j += 1) {
    const size = base + (j < larger ? 1 : 0);
    const data: number[] = [];
    for (let i = 0; i < size; i += 1) data.push(next + i);
    next += size;
    groups.push(Object.freeze({ data: Object.freeze(data), localParity: k + j }));
  }
  return Object.freeze(groups);
}

/** The local group of LRC data shard `index` (which must be < k). */
export function lrcGroupOf(scheme: LrcScheme, index: number): number {
  const base = Math.floor(scheme.k / scheme.l);
  const larger = scheme.k % scheme.l;
  const cut = larger * (base + 1);
  return index < cut ? Math.floor(index / (base + 1)) : larger + Math.floor((index - cut) / base);
}

/** Throws `shard.out_of_range` unless `index` is an integer shard index of `scheme`. */
export function checkShardIndex(scheme: Scheme, index: unknown, path: string): number {
  const n = shardCount(scheme);
  if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index >= n) {
    throw new ModelError('shard.out_of_range', path, `must be an integer in [0, ${n}), got ${String(index)}`);
  }
  return index;
}

/** What shard `index` is in `scheme`. */
export function shardRole(scheme: Scheme, index: number): ShardRole {
  checkShardIndex(scheme, index, 'index');
  switch (scheme.kind) {
    case 'replication':
      return { role: 'copy' };
    case 'rs':
    case 'xor':
      return index < scheme.k ? { role: 'data' } : { role: 'parity' };
    case 'lrc':
      if (index < scheme.k) return { role: 'data', group: lrcGroupOf(scheme, index) };
      if (index < scheme.k + scheme.l) return { role: 'local-parity', group: index - scheme.k };
      return { role: 'global-parity' };
  }
}

/** A 0/1 mask of length n from a list of shard indices (checked; duplicates allowed). */
export function shardMask(scheme: Scheme, indices: Iterable<number>, path: string): Uint8Array {
  const mask = new Uint8Array(shardCount(scheme));
  let i = 0;
  for (const index of indices) {
    mask[checkShardIndex(scheme, index, `${path}[${i}]`)] = 1;
    i += 1;
  }
  return mask;
}

/**
 * Decodability on a mask (1 = missing), unchecked: the simulator's inner loop.
 * `mask.length` must be the scheme's shard count.
 */
export function decodableMask(scheme: Scheme, missing: Uint8Array): boolean {
  if (scheme.kind === 'lrc') return lrcDecodable(scheme, missing);
  let lost = 0;
  for (let i = 0; i < missing.length; i += 1) lost += missing[i]!;
  return lost <= faultTolerance(scheme);
}

function lrcDecodable(scheme: LrcScheme, missing: Uint8Array): boolean {
  const { k, l, r } = scheme;
  let survivingGlobals = 0;
  for (let i = k + l; i < k + l + r; i += 1) if (missing[i] === 0) survivingGlobals += 1;
  let needGlobals = 0;
  const base = Math.floor(k / l);
  const larger = k % l;
  let start = 0;
  for (let j = 0; j < l; j += 1) {
    const size = base + (j < larger ? 1 : 0);
    let erased = 0;
    for (let i = start; i < start + size; i += 1) erased += missing[i]!;
    start += size;
    const localSurvives = missing[k + j] === 0 ? 1 : 0;
    if (erased > localSurvives) needGlobals += erased - localSurvives;
  }
  return needGlobals <= survivingGlobals;
}

/**
 * Whether the object can be rebuilt (and with it every missing shard) when the
 * shards in `missing` are gone. Indices are checked; duplicates count once.
 */
export function isRecoverable(scheme: Scheme, missing: Iterable<number>): boolean {
  return decodableMask(scheme, shardMask(scheme, missing, 'missing'));
}

/** A short human name: `RS(10,4)`, `LRC(12,2,2)`, `XOR(4)`, `replication×3`. */
export function schemeName(scheme: Scheme): string {
  switch (scheme.kind) {
    case 'replication':
      return `replication×${scheme.copies}`;
    case 'rs':
      return `RS(${scheme.k},${scheme.m})`;
    case 'lrc':
      return `LRC(${scheme.k},${scheme.l},${scheme.r})`;
    case 'xor':
      return `XOR(${scheme.k})`;
  }
}
