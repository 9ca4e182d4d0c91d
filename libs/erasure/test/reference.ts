/**
 * The construction written out the slow, literal way, sharing no code or tables with
 * the package: shift-and-add multiplication reduced by 0x11D, inverses by search,
 * plain Gauss–Jordan on number[][]. Fine for small k and short shards only.
 */

export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('hex');
}

export function unhex(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, 'hex'));
}

/** a · b in GF(2^8) mod x^8 + x^4 + x^3 + x^2 + 1, bit by bit. */
export function refMul(a: number, b: number): number {
  let product = 0;
  for (let bit = 0; bit < 8; bit++) {
    if (b & (1 << bit)) product ^= a << bit;
  }
  for (let bit = 14; bit >= 8; bit--) {
    if (product & (1 << bit)) product ^= 0x11d << (bit - 8);
  }
  return product;
}

export function refPow(a: number, n: number): number {
  let result = 1;
  for (let i = 0; i < n; i++) result = refMul(result, a);
  return result;
}

export function refInverse(a: number): number {
  for (let b = 1; b < 256; b++) if (refMul(a, b) === 1) return b;
  throw new Error(`${a} has no inverse`);
}

function refMatMul(a: number[][], b: number[][]): number[][] {
  return a.map((row) => b[0]!.map((_, c) => row.reduce((acc, v, i) => acc ^ refMul(v, b[i]![c]!), 0)));
}

function refInvert(m: number[][]): number[][] {
  const n = m.length;
  const w = m.map((row, r) => [...row, ...Array.from({ length: n }, (_, c) => (c === r ? 1 : 0))]);
  for (let col = 0; col < n; col++) {
    const pivot = w.findIndex((row, r) => r >= col && row[col] !== 0);
    if (pivot < 0) throw new Error('singular');
    [w[col], w[pivot]] = [w[pivot]!, w[col]!];
    const inv = refInverse(w[col]![col]!);
    w[col] = w[col]!.map((v) => refMul(v, inv));
    for (let r = 0; r < n; r++) {
      if (r === col) continue;
      const f = w[r]![col]!;
      w[r] = w[r]!.map((v, c) => v ^ refMul(f, w[col]![c]!));
    }
  }
  return w.map((row) => row.slice(n));
}

/** vandermonde(total, k) · inverse(top k×k), with 0^0 = 1. */
export function refEncodingMatrix(k: number, total: number): number[][] {
  const vm = Array.from({ length: total }, (_, r) => Array.from({ length: k }, (_, c) => refPow(r, c)));
  return refMatMul(vm, refInvert(vm.slice(0, k)));
}

/** The m parity shards of the data shards, byte by byte. */
export function refParity(k: number, m: number, data: readonly Uint8Array[]): Uint8Array[] {
  const rows = refEncodingMatrix(k, k + m).slice(k);
  const size = data[0]?.length ?? 0;
  return rows.map((row) => {
    const out = new Uint8Array(size);
    for (let b = 0; b < size; b++) out[b] = row.reduce((acc, coefficient, i) => acc ^ refMul(coefficient, data[i]![b]!), 0);
    return out;
  });
}
