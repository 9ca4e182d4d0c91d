/**
 * Matrices over GF(2^8): the few operations the Reed–Solomon construction needs.
 * A matrix is `rows × cols` bytes in row-major order; functions never modify their
 * arguments and return new matrices.
 */
import { ErasureError } from './errors.ts';
import { GF_MUL_TABLE, gfExp, gfInverse, mulAddRange } from './gf256.ts';

export interface Matrix {
  readonly rows: number;
  readonly cols: number;
  /** rows × cols entries, row-major: entry (r, c) is data[r * cols + c]. */
  readonly data: Uint8Array;
}

function checkDimension(value: number, path: string): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new ErasureError('matrix.shape', path, `${String(value)} is not a dimension (an integer ≥ 0)`);
  }
}

/** A zero matrix. */
export function zeroMatrix(rows: number, cols: number): Matrix {
  checkDimension(rows, 'rows');
  checkDimension(cols, 'cols');
  return { rows, cols, data: new Uint8Array(rows * cols) };
}

/** A matrix from its rows (arrays of bytes, all of one length). */
export function matrixFromRows(rows: readonly (readonly number[] | Uint8Array)[]): Matrix {
  const cols = rows[0]?.length ?? 0;
  const m = zeroMatrix(rows.length, cols);
  rows.forEach((row, r) => {
    if (row.length !== cols) throw new ErasureError('matrix.shape', `rows[${r}]`, `row ${r} has ${row.length} entries, row 0 has ${cols}`);
    for (let c = 0; c < cols; c++) {
      const v = row[c]!;
      if (!Number.isInteger(v) || v < 0 || v > 255) {
        throw new ErasureError('field.not_element', `rows[${r}][${c}]`, `${String(v)} is not a field element (an integer from 0 to 255)`);
      }
      m.data[r * cols + c] = v;
    }
  });
  return m;
}

/** The rows as arrays of numbers (for tests and printing). */
export function matrixToRows(m: Matrix): number[][] {
  return Array.from({ length: m.rows }, (_, r) => Array.from(matrixRow(m, r)));
}

/** Row r as a view into the matrix (not a copy). */
export function matrixRow(m: Matrix, r: number): Uint8Array {
  if (!Number.isInteger(r) || r < 0 || r >= m.rows) throw new ErasureError('matrix.shape', 'r', `row ${String(r)} is not in 0..${m.rows - 1}`);
  return m.data.subarray(r * m.cols, (r + 1) * m.cols);
}

/** The n × n identity. */
export function identityMatrix(n: number): Matrix {
  const m = zeroMatrix(n, n);
  for (let i = 0; i < n; i++) m.data[i * n + i] = 1;
  return m;
}

/** a × b. Throws `matrix.shape` unless a.cols = b.rows. */
export function multiplyMatrices(a: Matrix, b: Matrix): Matrix {
  if (a.cols !== b.rows) {
    throw new ErasureError('matrix.shape', 'b', `cannot multiply ${a.rows}×${a.cols} by ${b.rows}×${b.cols}: columns of the first must equal rows of the second`);
  }
  const out = zeroMatrix(a.rows, b.cols);
  for (let r = 0; r < a.rows; r++) {
    const outRow = out.data.subarray(r * b.cols, (r + 1) * b.cols);
    for (let i = 0; i < a.cols; i++) {
      mulAddRange(a.data[r * a.cols + i]!, b.data.subarray(i * b.cols, (i + 1) * b.cols), outRow, 0, b.cols);
    }
  }
  return out;
}

/**
 * The rows rmin..rmax−1 and columns cmin..cmax−1 (ends exclusive, the argument order
 * of klauspost's SubMatrix and Backblaze's submatrix).
 */
export function subMatrix(m: Matrix, rmin: number, cmin: number, rmax: number, cmax: number): Matrix {
  for (const [name, v, hi] of [['rmin', rmin, m.rows], ['cmin', cmin, m.cols], ['rmax', rmax, m.rows], ['cmax', cmax, m.cols]] as const) {
    if (!Number.isInteger(v) || v < 0 || v > hi) throw new ErasureError('matrix.shape', name, `${String(v)} is not in 0..${hi}`);
  }
  if (rmax < rmin || cmax < cmin) throw new ErasureError('matrix.shape', 'rmax', `empty range: rows ${rmin}..${rmax}, columns ${cmin}..${cmax}`);
  const out = zeroMatrix(rmax - rmin, cmax - cmin);
  for (let r = rmin; r < rmax; r++) out.data.set(m.data.subarray(r * m.cols + cmin, r * m.cols + cmax), (r - rmin) * out.cols);
  return out;
}

/** The matrix made of the given rows of m, in the given order. */
export function selectRows(m: Matrix, rowIndexes: readonly number[]): Matrix {
  const out = zeroMatrix(rowIndexes.length, m.cols);
  rowIndexes.forEach((r, i) => out.data.set(matrixRow(m, r), i * m.cols));
  return out;
}

/**
 * The inverse, by Gauss–Jordan elimination. Throws `matrix.shape` for a non-square
 * matrix and `matrix.singular` when there is no inverse.
 */
export function invertMatrix(m: Matrix): Matrix {
  if (m.rows !== m.cols) throw new ErasureError('matrix.shape', 'm', `only a square matrix has an inverse; this one is ${m.rows}×${m.cols}`);
  const n = m.rows;
  const width = 2 * n;
  // Work on [m | I]; when the left half is I, the right half is the inverse.
  const w = new Uint8Array(n * width);
  for (let r = 0; r < n; r++) {
    w.set(m.data.subarray(r * n, (r + 1) * n), r * width);
    w[r * width + n + r] = 1;
  }
  const row = (r: number): Uint8Array => w.subarray(r * width, (r + 1) * width);
  for (let col = 0; col < n; col++) {
    if (w[col * width + col] === 0) {
      let below = col + 1;
      while (below < n && w[below * width + col] === 0) below++;
      if (below === n) throw new ErasureError('matrix.singular', 'm', `the ${n}×${n} matrix is singular (no pivot in column ${col})`);
      const tmp = row(col).slice();
      w.copyWithin(col * width, below * width, (below + 1) * width);
      w.set(tmp, below * width);
    }
    const pivotRow = row(col);
    const scale = gfInverse(pivotRow[col]!);
    if (scale !== 1) {
      const table = GF_MUL_TABLE.subarray(scale << 8, (scale << 8) + 256);
      for (let j = 0; j < width; j++) pivotRow[j] = table[pivotRow[j]!]!;
    }
    for (let r = 0; r < n; r++) {
      if (r === col) continue;
      const factor = w[r * width + col]!;
      if (factor !== 0) mulAddRange(factor, pivotRow, row(r), 0, width);
    }
  }
  const out = zeroMatrix(n, n);
  for (let r = 0; r < n; r++) out.data.set(w.subarray(r * width + n, (r + 1) * width), r * n);
  return out;
}

/**
 * The rows × cols Vandermonde matrix of klauspost's `vandermonde` and Backblaze's
 * `vandermonde`: entry (r, c) = r^c in GF(2^8), with 0^0 = 1 (so row 0 is 1, 0, 0, …).
 * Rows are the field elements 0..rows−1, so rows ≤ 256.
 */
export function vandermondeMatrix(rows: number, cols: number): Matrix {
  if (!Number.isInteger(rows) || rows < 0 || rows > 256) throw new ErasureError('matrix.shape', 'rows', `${String(rows)} is not in 0..256 (one row per field element)`);
  const m = zeroMatrix(rows, cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) m.data[r * cols + c] = gfExp(r, c);
  return m;
}
