/**
 * A small seeded PRNG for simulations: xoshiro128** 1.1 by David Blackman and
 * Sebastiano Vigna (public domain reference C at https://prng.di.unimi.it/xoshiro128starstar.c;
 * "Scrambled Linear Pseudorandom Number Generators", ACM TOMS 47(4), 2021).
 * Version 1.1: the scrambler reads s[1] (1.0 read s[0]). The 128-bit state is
 * filled from the 32-bit seed by a Weyl sequence (step 0x9E3779B9) passed through
 * MurmurHash3's fmix32 finaliser (Austin Appleby, public domain). fmix32 is a
 * bijection and the four Weyl values are distinct, so at most one state word is zero
 * and the forbidden all-zero state cannot occur (the guard below is belt and braces).
 *
 * Not for cryptography. Same seed, same sequence, on every platform: only 32-bit
 * integer operations (Math.imul, shifts) are used.
 */
import { ModelError } from './model-errors.ts';

export interface Prng {
  /** The next 32-bit unsigned integer. */
  nextUint32(): number;
  /** A float in [0, 1) with 32 random bits. */
  next(): number;
  /** An integer in [0, bound) for 1 ≤ bound ≤ 2^32 (multiply-shift; bias below bound/2^32). */
  nextInt(bound: number): number;
}

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** A xoshiro128** generator seeded from `seed` (an integer; taken modulo 2^32). */
export function createPrng(seed: number): Prng {
  let weyl = seed >>> 0;
  const state: number[] = [];
  for (let i = 0; i < 4; i += 1) {
    weyl = (weyl + 0x9e3779b9) >>> 0;
    state.push(fmix32(weyl));
  }
  if ((state[0]! | state[1]! | state[2]! | state[3]!) === 0) state[0] = 1;
  return prngFromState(state);
}

/**
 * A xoshiro128** generator from an explicit 128-bit state (four 32-bit words, not all
 * zero): the reference code's own starting point, used to check against its output.
 */
export function prngFromState(state: readonly number[]): Prng {
  const s = Uint32Array.from(state.slice(0, 4));
  if (s.length !== 4 || (s[0]! | s[1]! | s[2]! | s[3]!) === 0) throw new ModelError('argument.invalid', 'state', 'must be four 32-bit words, not all zero');
  const nextUint32 = (): number => {
    const result = Math.imul(rotl(Math.imul(s[1]!, 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1]! << 9) >>> 0;
    s[2]! ^= s[0]!;
    s[3]! ^= s[1]!;
    s[1]! ^= s[2]!;
    s[0]! ^= s[3]!;
    s[2]! ^= t;
    s[3] = rotl(s[3]!, 11);
    return result;
  };
  return {
    nextUint32,
    next: () => nextUint32() / 4294967296,
    nextInt: (bound: number) => Math.floor((nextUint32() / 4294967296) * bound),
  };
}
