/**
 * Rank over GF(2^8) with a product table of its own (built from reference.ts's
 * shift-and-add multiplication, sharing nothing with src/gf256.ts), for checking the
 * byte codecs' generator matrices pattern by pattern.
 */
import { refMul } from './reference.ts';

const MUL = new Uint8Array(256 * 256);
const INV = new Uint8Array(256);
for (let a = 0; a < 256; a++) {
  for (let b = 0; b < 256; b++) {
    const p = refMul(a, b);
    MUL[(a << 8) | b] = p;
    if (p === 1) INV[a] = b;
  }
}

export const mul = (a: number, b: number): number => MUL[(a << 8) | b]!;

/** Rank over GF(2^8) of the given rows (each `cols` bytes); the rows are copied. */
export function gfRank(rows: readonly Uint8Array[], cols: number): number {
  const m = rows.map((r) => r.slice());
  let rank = 0;
  for (let c = 0; c < cols && rank < m.length; c++) {
    let pivot = rank;
    while (pivot < m.length && m[pivot]![c] === 0) pivot++;
    if (pivot === m.length) continue;
    [m[rank], m[pivot]] = [m[pivot]!, m[rank]!];
    const top = m[rank]!;
    const scale = INV[top[c]!]!;
    for (let j = c; j < cols; j++) top[j] = mul(top[j]!, scale);
    for (let i = rank + 1; i < m.length; i++) {
      const row = m[i]!;
      const f = row[c]!;
      if (f === 0) continue;
      for (let j = c; j < cols; j++) row[j]! ^= mul(f, top[j]!);
    }
    rank++;
  }
  return rank;
}

/** parity = Σ_i coefficients[i] · data[i], byte by byte, with this file's table. */
export function combine(coefficients: ArrayLike<number>, data: readonly Uint8Array[], size: number): Uint8Array {
  const out = new Uint8Array(size);
  for (let i = 0; i < data.length; i++) for (let b = 0; b < size; b++) out[b]! ^= mul(coefficients[i]!, data[i]![b]!);
  return out;
}
