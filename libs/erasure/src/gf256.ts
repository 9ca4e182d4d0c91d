/**
 * GF(2^8) as the Backblaze / klauspost Reed–Solomon codecs define it: bytes are
 * polynomials over GF(2) reduced modulo the primitive polynomial
 * x^8 + x^4 + x^3 + x^2 + 1 (0x11D), and 2 (the polynomial x) generates the
 * multiplicative group. Addition is XOR.
 *
 * Tables are built once at load: exp/log (510 + 256 bytes) for the scalar functions
 * and a full 256×256 product table (64 KiB) for the byte-slice loops, where each byte
 * costs one lookup and one XOR.
 */
import { ErasureError } from './errors.ts';

/** x^8 + x^4 + x^3 + x^2 + 1. */
export const GF_POLYNOMIAL = 0x11d;

/** GF_EXP[i] = 2^i for 0 ≤ i < 510 (the second half repeats the first, so a sum of two logs needs no reduction). */
export const GF_EXP: Uint8Array = new Uint8Array(510);
/** GF_LOG[a] = i such that 2^i = a, for a ≠ 0; GF_LOG[0] is 0 and means nothing. */
export const GF_LOG: Uint8Array = new Uint8Array(256);
/** GF_MUL_TABLE[(a << 8) | b] = a · b. Row `a` is the 256 bytes starting at a << 8. */
export const GF_MUL_TABLE: Uint8Array = new Uint8Array(256 * 256);

{
  let x = 1;
  for (let i = 0; i < 255; i++) {
    GF_EXP[i] = x;
    GF_EXP[i + 255] = x;
    GF_LOG[x] = i;
    x <<= 1;
    if (x & 0x100) x ^= GF_POLYNOMIAL;
  }
  for (let a = 1; a < 256; a++) {
    const logA = GF_LOG[a]!;
    const row = a << 8;
    for (let b = 1; b < 256; b++) GF_MUL_TABLE[row | b] = GF_EXP[logA + GF_LOG[b]!]!;
  }
}

function checkElement(value: number, path: string): void {
  if (!Number.isInteger(value) || value < 0 || value > 255) {
    throw new ErasureError('field.not_element', path, `${String(value)} is not a field element (an integer from 0 to 255)`);
  }
}

/** a + b (and a − b): XOR. */
export function gfAdd(a: number, b: number): number {
  checkElement(a, 'a');
  checkElement(b, 'b');
  return a ^ b;
}

/** a · b. */
export function gfMul(a: number, b: number): number {
  checkElement(a, 'a');
  checkElement(b, 'b');
  return GF_MUL_TABLE[(a << 8) | b]!;
}

/** a / b. Throws `field.division_by_zero` when b is 0. */
export function gfDiv(a: number, b: number): number {
  checkElement(a, 'a');
  checkElement(b, 'b');
  if (b === 0) throw new ErasureError('field.division_by_zero', 'b', `${a} / 0 is undefined in GF(2^8)`);
  if (a === 0) return 0;
  return GF_EXP[GF_LOG[a]! + 255 - GF_LOG[b]!]!;
}

/** 1 / a. Throws `field.division_by_zero` when a is 0. */
export function gfInverse(a: number): number {
  checkElement(a, 'a');
  if (a === 0) throw new ErasureError('field.division_by_zero', 'a', '0 has no inverse in GF(2^8)');
  return GF_EXP[255 - GF_LOG[a]!]!;
}

/**
 * a^n for an integer n (negative n: the inverse's power). As in both reference codecs,
 * a^0 = 1 for every a, including 0^0 = 1, and 0^n = 0 for n > 0; 0^n for n < 0 throws
 * `field.division_by_zero`.
 */
export function gfExp(a: number, n: number): number {
  checkElement(a, 'a');
  if (!Number.isSafeInteger(n)) throw new ErasureError('field.not_element', 'n', `exponent ${String(n)} is not an integer`);
  if (n === 0) return 1;
  if (a === 0) {
    if (n < 0) throw new ErasureError('field.division_by_zero', 'a', `0^${n} is undefined in GF(2^8)`);
    return 0;
  }
  const e = (GF_LOG[a]! * (n % 255)) % 255;
  return GF_EXP[e < 0 ? e + 255 : e]!;
}

function checkSlices(c: number, input: Uint8Array, output: Uint8Array): void {
  checkElement(c, 'c');
  if (output.length < input.length) {
    throw new ErasureError('shards.size_mismatch', 'output', `output has ${output.length} bytes, input ${input.length}; output must be at least as long`);
  }
}

/** output[i] = c · input[i] for every i < input.length. */
export function mulSlice(c: number, input: Uint8Array, output: Uint8Array): void {
  checkSlices(c, input, output);
  mulRange(c, input, output, 0, input.length);
}

/** output[i] ^= c · input[i] for every i < input.length: the codec's inner loop. */
export function mulAddSlice(c: number, input: Uint8Array, output: Uint8Array): void {
  checkSlices(c, input, output);
  mulAddRange(c, input, output, 0, input.length);
}

/** mulSlice over [start, end), unchecked: the caller has validated c, lengths and bounds. */
export function mulRange(c: number, input: Uint8Array, output: Uint8Array, start: number, end: number): void {
  if (c === 0) {
    output.fill(0, start, end);
    return;
  }
  if (c === 1) {
    output.set(input.subarray(start, end), start);
    return;
  }
  const row = GF_MUL_TABLE.subarray(c << 8, (c << 8) + 256);
  let i = start;
  for (const last = end - 4; i <= last; i += 4) {
    output[i] = row[input[i]!]!;
    output[i + 1] = row[input[i + 1]!]!;
    output[i + 2] = row[input[i + 2]!]!;
    output[i + 3] = row[input[i + 3]!]!;
  }
  for (; i < end; i++) output[i] = row[input[i]!]!;
}

/** mulAddSlice over [start, end), unchecked: the caller has validated c, lengths and bounds. */
export function mulAddRange(c: number, input: Uint8Array, output: Uint8Array, start: number, end: number): void {
  if (c === 0) return;
  let i = start;
  if (c === 1) {
    for (const last = end - 4; i <= last; i += 4) {
      output[i] = output[i]! ^ input[i]!;
      output[i + 1] = output[i + 1]! ^ input[i + 1]!;
      output[i + 2] = output[i + 2]! ^ input[i + 2]!;
      output[i + 3] = output[i + 3]! ^ input[i + 3]!;
    }
    for (; i < end; i++) output[i] = output[i]! ^ input[i]!;
    return;
  }
  const row = GF_MUL_TABLE.subarray(c << 8, (c << 8) + 256);
  for (const last = end - 4; i <= last; i += 4) {
    output[i] = output[i]! ^ row[input[i]!]!;
    output[i + 1] = output[i + 1]! ^ row[input[i + 1]!]!;
    output[i + 2] = output[i + 2]! ^ row[input[i + 2]!]!;
    output[i + 3] = output[i + 3]! ^ row[input[i + 3]!]!;
  }
  for (; i < end; i++) output[i] = output[i]! ^ row[input[i]!]!;
}
