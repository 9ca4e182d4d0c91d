/**
 * The LRC byte codec: maximal recoverability of the constructed coefficients (by rank
 * over GF(2^8) with an independent table, exhaustively over every erasure pattern or
 * every maximal recoverable pattern, sampled for larger codes), round trips over
 * every pattern for small codes and random ones for others, refusals that name the
 * missing shards, reads limited to the repair plan, and LRC(12,2,2) itself.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ErasureError,
  createLrcCodec,
  createPrng,
  isRecoverable,
  joinShards,
  lrcScheme,
  planRepair,
  splitShards,
} from '../src/mod.ts';
import { countMrConditions } from '../src/lrc-coefficients.ts';
import { combine, gfRank } from './gf-rank.ts';

type Config = readonly [k: number, l: number, r: number];
const name = ([k, l, r]: Config): string => `LRC(${k},${l},${r})`;

function randomStripe(k: number, l: number, r: number, size: number, seed: number): Uint8Array[] {
  const rng = createPrng(seed);
  return Array.from({ length: k + l + r }, (_, i) => {
    const s = new Uint8Array(size);
    if (i < k) for (let b = 0; b < size; b++) s[b] = rng.nextInt(256);
    return s;
  });
}

function encoded([k, l, r]: Config, size: number, seed: number): Uint8Array[] {
  const shards = randomStripe(k, l, r, size, seed);
  createLrcCodec(k, l, r).encode(shards);
  return shards;
}

/** Every subset of 0..n−1 with at most `max` elements, as index lists. */
function* subsetsUpTo(n: number, max: number, from = 0, pick: number[] = []): Generator<number[]> {
  yield pick.slice();
  if (pick.length === max) return;
  for (let i = from; i < n; i++) {
    pick.push(i);
    yield* subsetsUpTo(n, max, i + 1, pick);
    pick.pop();
  }
}

function rankDecodes(generator: Uint8Array[], k: number, missing: readonly number[]): boolean {
  const gone = new Set(missing);
  return gfRank(generator.filter((_, i) => !gone.has(i)), k) === k;
}

function generatorRows(codec: ReturnType<typeof createLrcCodec>): Uint8Array[] {
  const g = codec.generatorMatrix();
  return Array.from({ length: g.rows }, (_, i) => g.data.slice(i * g.cols, (i + 1) * g.cols));
}

/**
 * Every "tight" recoverable pattern: each group intact, or missing c data shards with
 * its local parity, or c + 1 data shards without it (needing c global parities), with
 * Σ c = t ≤ r and exactly t global parities surviving. Every recoverable pattern is a
 * subset of one of these, so rank k on all of them is MR.
 */
function* tightPatterns([k, l, r]: Config): Generator<number[]> {
  const groups = createLrcCodec(k, l, r).groups;
  const states = groups.map((g) => {
    const out: { missing: number[]; need: number }[] = [{ missing: [], need: 0 }];
    for (const m of subsetsUpTo(g.data.length, r + 1)) {
      if (m.length === 0) continue;
      const data = m.map((i) => g.data[i]!);
      if (m.length <= r) out.push({ missing: [...data, g.localParity], need: m.length });
      out.push({ missing: data, need: m.length - 1 });
    }
    out.push({ missing: [g.localParity], need: 0 });
    return out;
  });
  const globals = Array.from({ length: r }, (_, g) => k + l + g);
  function* walk(j: number, need: number, missing: number[]): Generator<number[]> {
    if (j === groups.length) {
      for (const lost of subsetsUpTo(r, r - need)) if (lost.length === r - need) yield [...missing, ...lost.map((g) => globals[g]!)];
      return;
    }
    for (const s of states[j]!) if (need + s.need <= r) yield* walk(j + 1, need + s.need, [...missing, ...s.missing]);
  }
  yield* walk(0, 0, []);
}

describe('LRC construction', () => {
  it('local parities are the XOR of their group; global rows are the coefficients; parity equals a literal product', () => {
    const codec = createLrcCodec(12, 2, 2);
    const g = generatorRows(codec);
    for (let i = 0; i < 12; i++) expect(Array.from(g[i]!)).toEqual(Array.from({ length: 12 }, (_, j) => (j === i ? 1 : 0)));
    expect(Array.from(g[12]!)).toEqual([1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0]);
    expect(Array.from(g[13]!)).toEqual([0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1]);
    const a = codec.globalCoefficients();
    expect([a.rows, a.cols]).toEqual([2, 12]);
    expect(Array.from(g[14]!)).toEqual(Array.from(a.data.subarray(0, 12)));
    const shards = encoded([12, 2, 2], 50, 7);
    for (let s = 12; s < 16; s++) expect(shards[s]).toEqual(combine(g[s]!, shards.slice(0, 12), 50));
  });

  it('the coefficients are pinned (they are the shard format): LRC(12,2,2), LRC(6,2,2), LRC(6,3,1)', () => {
    expect(Array.from(createLrcCodec(12, 2, 2).globalCoefficients().data)).toEqual([
      142, 244, 71, 167, 122, 186, 151, 8, 221, 171, 147, 170, 244, 142, 167, 71, 186, 122, 4, 125, 152, 45, 123, 61,
    ]);
    expect(Array.from(createLrcCodec(6, 2, 2).globalCoefficients().data)).toEqual([142, 244, 71, 167, 122, 147, 244, 142, 167, 71, 186, 13]);
    expect(Array.from(createLrcCodec(6, 3, 1).globalCoefficients().data)).toEqual([1, 142, 244, 71, 167, 122]);
  });

  it('the number of MR conditions matches a direct count of the tight patterns’ column sets', () => {
    expect(countMrConditions([6, 6], 2)).toBe(595);
    expect(countMrConditions([2, 2, 2], 1)).toBe(9);
    expect(countMrConditions([3], 0)).toBe(0);
  });

  // Every erasure pattern of the whole code: decodable by rank ⇔ isRecoverable.
  const everyPattern: Config[] = [[4, 2, 2], [5, 2, 2], [6, 2, 2], [6, 3, 1], [7, 3, 2], [6, 2, 4], [8, 2, 3], [12, 2, 2]];
  it.each(everyPattern.map((c) => [name(c), c] as const))('%s: every erasure pattern decodes by rank exactly when isRecoverable says so', (_, config) => {
    const [k, l, r] = config;
    const codec = createLrcCodec(k, l, r);
    const g = generatorRows(codec);
    const n = k + l + r;
    for (let mask = 0; mask < 1 << n; mask++) {
      const missing: number[] = [];
      for (let i = 0; i < n; i++) if ((mask >> i) & 1) missing.push(i);
      const expected = isRecoverable(codec.scheme, missing);
      if (rankDecodes(g, k, missing) !== expected) expect.fail(`${name(config)} missing [${missing}]: rank says ${!expected}, isRecoverable ${expected}`);
    }
  });

  // Every maximal recoverable pattern (so every recoverable one) for larger codes.
  const tight: Config[] = [[12, 3, 2], [12, 4, 2], [12, 2, 1], [12, 2, 3], [14, 2, 2], [16, 4, 2], [10, 2, 4], [9, 3, 3]];
  it.each(tight.map((c) => [name(c), c] as const))('%s: every maximal recoverable pattern decodes by rank', (_, config) => {
    const codec = createLrcCodec(...config);
    const g = generatorRows(codec);
    let count = 0;
    for (const missing of tightPatterns(config)) {
      count++;
      expect(isRecoverable(codec.scheme, missing)).toBe(true);
      if (!rankDecodes(g, config[0], missing)) expect.fail(`${name(config)} missing [${missing}] does not decode`);
    }
    expect(count).toBeGreaterThan(0);
  });

  // Sampled for codes too big to enumerate here.
  const sampled: Config[] = [[24, 2, 2], [20, 4, 2], [14, 2, 3], [16, 4, 3], [24, 6, 2]];
  it.each(sampled.map((c) => [name(c), c] as const))('%s: 3000 random patterns of r+1..r+3 losses decode by rank ⇔ isRecoverable', (_, config) => {
    const [k, l, r] = config;
    const codec = createLrcCodec(k, l, r);
    const g = generatorRows(codec);
    const rng = createPrng(k * 1000 + l * 10 + r);
    const n = k + l + r;
    let recoverable = 0;
    for (let s = 0; s < 3000; s++) {
      const want = r + 1 + rng.nextInt(3);
      const set = new Set<number>();
      while (set.size < want) set.add(rng.nextInt(n));
      const missing = [...set];
      const expected = isRecoverable(codec.scheme, missing);
      if (expected) recoverable++;
      if (rankDecodes(g, k, missing) !== expected) expect.fail(`${name(config)} missing [${missing.sort((x, y) => x - y)}]: isRecoverable ${expected}`);
    }
    expect(recoverable).toBeGreaterThan(100);
  });

  it('refuses shapes it cannot make maximally recoverable in GF(2^8), and bad counts', () => {
    const err = (f: () => unknown): ErasureError => {
      try {
        f();
      } catch (e) {
        return e as ErasureError;
      }
      throw new Error('no error');
    };
    const e = err(() => createLrcCodec(12, 2, 4));
    expect(e).toBeInstanceOf(ErasureError);
    expect(e.code).toBe('config.not_maximally_recoverable');
    expect(e.message).toMatch(/^config\.not_maximally_recoverable: r: LRC\(12,2,4\): no global parity coefficients/);
    expect(err(() => createLrcCodec(200, 2, 20)).message).toMatch(/more than the construction checks/);
    expect(err(() => createLrcCodec(0, 1, 1)).code).toBe('config.out_of_range');
    expect(err(() => createLrcCodec(4, 5, 1)).message).toBe('config.out_of_range: localGroups: 5 is not an integer from 1 to 4');
    expect(err(() => createLrcCodec(4, 2, -1)).code).toBe('config.out_of_range');
    expect(err(() => createLrcCodec(200, 50, 10)).message).toMatch(/^config\.out_of_range: globalParities: 200 data \+ 50 local \+ 10 global = 260 shards/);
    expect(err(() => createLrcCodec(4, 2, 1, { decodeCacheSize: -1 })).code).toBe('config.out_of_range');
  });
});

/** Erase `missing`, reconstruct, compare with the original; returns the plan. */
function roundTrip(config: Config, original: readonly Uint8Array[], missing: readonly number[]) {
  const codec = createLrcCodec(...config);
  const shards: (Uint8Array | null)[] = original.map((s) => s.slice());
  for (const i of missing) shards[i] = null;
  const plan = codec.reconstruct(shards);
  expect(shards).toEqual(original);
  return plan;
}

describe('LRC reconstruct', () => {
  const exhaustive: Config[] = [[4, 2, 2], [5, 2, 2], [6, 2, 2], [6, 3, 1], [3, 3, 1], [4, 1, 2], [12, 2, 2]];
  it.each(exhaustive.map((c) => [name(c), c] as const))('%s: every pattern (up to r + 3 losses): recoverable ones round-trip with the planned reads, others are refused', (_, config) => {
    const [k, l, r] = config;
    const n = k + l + r;
    const codec = createLrcCodec(k, l, r);
    const original = encoded(config, 13, k + l + r);
    for (const missing of subsetsUpTo(n, r + 3)) {
      const shards: (Uint8Array | null)[] = original.map((s) => s.slice());
      for (const i of missing) shards[i] = null;
      if (isRecoverable(codec.scheme, missing)) {
        const plan = codec.reconstruct(shards);
        expect(plan).toEqual(planRepair(codec.scheme, missing));
        if (!shards.every((s, i) => s !== null && s.every((b, j) => b === original[i]![j]))) expect.fail(`${name(config)}: [${missing}] rebuilt wrong bytes`);
      } else {
        const before = shards.slice();
        let error: unknown;
        try {
          codec.reconstruct(shards);
        } catch (e) {
          error = e;
        }
        expect(error).toBeInstanceOf(ErasureError);
        const e = error as ErasureError;
        expect(e.code).toBe(n - missing.length < k ? 'shards.too_few' : 'shards.unrecoverable');
        expect(e.message).toContain(`shards [${missing.join(', ')}] are missing`);
        expect(shards).toEqual(before);
      }
    }
  });

  const anyConfig = fc
    .tuple(fc.integer({ min: 1, max: 14 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 0, max: 3 }))
    .filter(([k, l]) => l <= k)
    .map((c) => c as Config);

  it('fast-check: random codes, sizes and recoverable patterns round-trip; corrupting every shard outside the plan changes nothing', () => {
    fc.assert(
      fc.property(anyConfig, fc.integer({ min: 0, max: 200 }), fc.integer(), fc.array(fc.nat(), { maxLength: 8 }), (config, size, seed, picks) => {
        const [k, l, r] = config;
        const n = k + l + r;
        const original = encoded(config, size, seed);
        const missing = [...new Set(picks.map((p) => p % n))];
        const codec = createLrcCodec(k, l, r);
        if (!isRecoverable(codec.scheme, missing)) {
          expect(() => codec.reconstruct(original.map((s, i) => (missing.includes(i) ? null : s)))).toThrow(ErasureError);
          return;
        }
        const plan = codec.repairPlan(missing);
        const shards: (Uint8Array | null)[] = original.map((s, i) => {
          if (missing.includes(i)) return null;
          if (plan.read.includes(i)) return s.slice();
          return s.map((b) => b ^ 0x5a); // not to be read: garbage
        });
        expect(codec.reconstruct(shards)).toEqual(plan);
        for (const i of missing) expect(shards[i]).toEqual(original[i]);
      }),
      { numRuns: 400 },
    );
  });

  it('a single loss is rebuilt from its local group only (reads = the rest of the group)', () => {
    const config: Config = [12, 2, 2];
    const codec = createLrcCodec(...config);
    const original = encoded(config, 100, 3);
    for (let lost = 0; lost < 14; lost++) {
      const group = codec.groups[lost < 12 ? Math.floor(lost / 6) : lost - 12]!;
      const members = [...group.data, group.localParity].filter((i) => i !== lost);
      expect(codec.repairReads([lost])).toEqual(members);
      // Everything outside the group is removed: the group alone must rebuild it.
      const shards: (Uint8Array | null)[] = original.map((s, i) => (members.includes(i) ? s.slice() : null));
      const onlyGroup = shards.slice();
      for (let i = 0; i < 16; i++) if (i !== lost && !members.includes(i)) onlyGroup[i] = new Uint8Array(100).fill(0xee);
      onlyGroup[lost] = null;
      const plan = codec.reconstruct(onlyGroup);
      expect(plan).toEqual({ method: 'local', rebuild: [lost], read: members });
      expect(onlyGroup[lost]).toEqual(original[lost]);
      expect(members).toHaveLength(6);
    }
    // One loss in each group: still local, 12 reads in all.
    expect(roundTrip(config, original, [2, 9])).toEqual({ method: 'local', rebuild: [2, 9], read: [0, 1, 3, 4, 5, 6, 7, 8, 10, 11, 12, 13] });
    // A lost global parity is recomputed from the k data shards.
    expect(roundTrip(config, original, [15])).toEqual({ method: 'decode', rebuild: [15], read: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11] });
  });

  it('LRC(12,2,2): every 3 losses decode; 4 losses decode exactly as isRecoverable says; bytes split and join back', () => {
    const config: Config = [12, 2, 2];
    const codec = createLrcCodec(...config);
    const bytes = new Uint8Array(10_000).map((_, i) => (i * 31 + 7) & 0xff);
    const shards = splitShards(bytes, 12, 4);
    codec.encode(shards);
    expect(codec.verify(shards)).toBe(true);
    let four = 0;
    for (const missing of subsetsUpTo(16, 4)) {
      if (missing.length < 3) continue;
      const recoverable = codec.isRecoverable(missing);
      if (missing.length === 3) expect(recoverable).toBe(true);
      else if (recoverable) four++;
      if (!recoverable) continue;
      const copy: (Uint8Array | null)[] = shards.map((s) => s);
      for (const i of missing) copy[i] = null;
      codec.reconstruct(copy);
      if (!Buffer.from(joinShards(copy, 12, bytes.length)).equals(bytes)) expect.fail(`[${missing}] joined bytes differ`);
      for (const i of missing) if (!Buffer.from(copy[i]!).equals(shards[i]!)) expect.fail(`[${missing}] shard ${i}`);
    }
    // 1568 of the 1820 patterns of 4 losses: 86%, the figure Huang et al. give for
    // LRC(12,2,2) ("Erasure Coding in Windows Azure Storage", section 2.2).
    expect(four).toBe(1568);
  });

  it('refusals: wrong count, non-bytes, size mismatch, missing on encode/verify, overlapping parity; verify catches one changed byte', () => {
    const codec = createLrcCodec(4, 2, 1);
    const shards = encoded([4, 2, 1], 10, 1);
    expect(codec.verify(shards)).toBe(true);
    for (let i = 0; i < 7; i++) {
      const bad = shards.map((s) => s.slice());
      bad[i]![3]! ^= 1;
      expect(codec.verify(bad)).toBe(false);
    }
    expect(() => codec.encode(shards.slice(1))).toThrow(/^shards\.wrong_count: shards: got 6 shards; 7 expected \(LRC\(4,2,1\)/);
    expect(() => codec.reconstruct([...shards.slice(0, 6), 'x' as unknown as Uint8Array])).toThrow(/^shards\.not_bytes: shards\[6\]/);
    expect(() => codec.reconstruct([...shards.slice(0, 6), new Uint8Array(3)])).toThrow(/^shards\.size_mismatch: shards\[6\]/);
    expect(() => codec.verify([null as unknown as Uint8Array, ...shards.slice(1)])).toThrow(/^shards\.missing: shards\[0\]/);
    const block = new Uint8Array(70);
    const views = Array.from({ length: 7 }, (_, i) => block.subarray(i * 10, i * 10 + 10));
    views[5] = views[1]!;
    expect(() => codec.encode(views)).toThrow(/^shards\.overlap: shards\[5\]/);
    const e = (() => {
      try {
        codec.reconstruct([null, null, shards[2]!, shards[3]!, shards[4]!, shards[5]!, null]);
      } catch (err) {
        return err as ErasureError;
      }
      return undefined;
    })();
    expect(e?.message).toBe(
      'shards.unrecoverable: shards: shards [0, 1, 6] are missing and LRC(4,2,1) cannot rebuild them: group 0 misses 2 data shards with its local parity present: 1 global parity needed, 0 present',
    );
    expect(() => codec.reconstruct([null, null, null, shards[3]!, null, shards[5]!, shards[6]!])).toThrow(
      'shards.too_few: shards: shards [0, 1, 2, 4] are missing: 3 of 7 shards present; LRC(4,2,1) needs at least 4 (group 0 misses 2 data shards with its local parity missing: 2 global parities needed, 1 present)',
    );
  });

  it('no global parities (r = 0) and one-shard groups (l = k) work', () => {
    roundTrip([5, 2, 0], encoded([5, 2, 0], 9, 1), [0, 4]);
    roundTrip([3, 3, 2], encoded([3, 3, 2], 9, 1), [0, 3, 6]);
    expect(() => roundTrip([5, 2, 0], encoded([5, 2, 0], 9, 1), [0, 1])).toThrow(/^shards\.unrecoverable: shards: shards \[0, 1\] are missing/);
    expect(lrcScheme(5, 2, 0)).toEqual(createLrcCodec(5, 2, 0).scheme);
  });
});
