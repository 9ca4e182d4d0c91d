/** Matrices over GF(2^8): identity, product, sub-matrix, inverse and Vandermonde. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  identityMatrix,
  invertMatrix,
  matrixFromRows,
  matrixToRows,
  multiplyMatrices,
  selectRows,
  subMatrix,
  vandermondeMatrix,
} from '../src/mod.ts';
import type { Matrix } from '../src/mod.ts';
import { refMul, refPow } from './reference.ts';

const squareRows = (n: number) => fc.array(fc.array(fc.integer({ min: 0, max: 255 }), { minLength: n, maxLength: n }), { minLength: n, maxLength: n });
const anySquare = fc.integer({ min: 1, max: 12 }).chain(squareRows);

function isIdentity(m: Matrix): boolean {
  return m.rows === m.cols && m.data.every((v, i) => v === (Math.floor(i / m.cols) === i % m.cols ? 1 : 0));
}

/** The determinant's zero test the long way: rank by elimination on number[][] with shift-and-add products. */
function refIsSingular(rows: number[][]): boolean {
  const w = rows.map((r) => [...r]);
  const n = w.length;
  for (let col = 0; col < n; col++) {
    const p = w.findIndex((r, i) => i >= col && r[col] !== 0);
    if (p < 0) return true;
    [w[col], w[p]] = [w[p]!, w[col]!];
    for (let r = col + 1; r < n; r++) {
      const f = w[r]![col]!;
      if (f === 0) continue;
      // row_r = pivot · row_r − f · row_col (scaling a row keeps the rank)
      const pivot = w[col]![col]!;
      w[r] = w[r]!.map((v, c) => refMul(pivot, v) ^ refMul(f, w[col]![c]!));
    }
  }
  return false;
}

describe('identity and product', () => {
  it('identityMatrix(3) is the 3×3 identity', () => {
    expect(matrixToRows(identityMatrix(3))).toEqual([
      [1, 0, 0],
      [0, 1, 0],
      [0, 0, 1],
    ]);
  });

  it('I · M = M · I = M', () => {
    fc.assert(
      fc.property(anySquare, (rows) => {
        const m = matrixFromRows(rows);
        expect(matrixToRows(multiplyMatrices(identityMatrix(m.rows), m))).toEqual(rows);
        expect(matrixToRows(multiplyMatrices(m, identityMatrix(m.rows)))).toEqual(rows);
      }),
    );
  });

  it('entries of a product are sums of shift-and-add products', () => {
    fc.assert(
      fc.property(squareRows(4), squareRows(4), (a, b) => {
        const got = matrixToRows(multiplyMatrices(matrixFromRows(a), matrixFromRows(b)));
        for (let r = 0; r < 4; r++) for (let c = 0; c < 4; c++) expect(got[r]![c]).toBe(a[r]!.reduce((acc, v, i) => acc ^ refMul(v, b[i]![c]!), 0));
      }),
    );
  });

  it('a product of mismatched shapes throws matrix.shape', () => {
    expect(() => multiplyMatrices(identityMatrix(2), identityMatrix(3))).toThrow(expect.objectContaining({ code: 'matrix.shape' }));
    expect(() => matrixFromRows([[1, 2], [3]])).toThrow(expect.objectContaining({ code: 'matrix.shape', path: 'rows[1]' }));
  });
});

describe('sub-matrix and rows', () => {
  it('subMatrix takes rows rmin..rmax−1 and columns cmin..cmax−1', () => {
    const m = matrixFromRows([
      [1, 2, 3],
      [4, 5, 6],
      [7, 8, 9],
    ]);
    expect(matrixToRows(subMatrix(m, 1, 1, 3, 3))).toEqual([
      [5, 6],
      [8, 9],
    ]);
    expect(matrixToRows(subMatrix(m, 0, 0, 1, 3))).toEqual([[1, 2, 3]]);
    expect(matrixToRows(selectRows(m, [2, 0]))).toEqual([
      [7, 8, 9],
      [1, 2, 3],
    ]);
    expect(() => subMatrix(m, 0, 0, 4, 3)).toThrow(expect.objectContaining({ code: 'matrix.shape', path: 'rmax' }));
  });
});

describe('inverse', () => {
  it('M · M⁻¹ = M⁻¹ · M = I for every invertible M, and singular M throws matrix.singular', () => {
    let inverted = 0;
    let singular = 0;
    fc.assert(
      fc.property(anySquare, (rows) => {
        const m = matrixFromRows(rows);
        if (refIsSingular(rows)) {
          singular++;
          expect(() => invertMatrix(m)).toThrow(expect.objectContaining({ code: 'matrix.singular' }));
          return;
        }
        inverted++;
        const inv = invertMatrix(m);
        expect(isIdentity(multiplyMatrices(m, inv))).toBe(true);
        expect(isIdentity(multiplyMatrices(inv, m))).toBe(true);
        expect(matrixToRows(invertMatrix(inv))).toEqual(rows);
        expect(matrixToRows(m)).toEqual(rows); // the argument is untouched
      }),
      // A fixed seed: the counts below are facts about this sample, not a chance (one
      // unseeded run in about 24 drew too few of one kind).
      { numRuns: 500, seed: 20261129 },
    );
    expect(inverted).toBeGreaterThan(100);
    expect(singular).toBeGreaterThan(0);
  });

  it('a matrix with a repeated row, or a zero column, is singular', () => {
    expect(() => invertMatrix(matrixFromRows([[4, 2], [4, 2]]))).toThrow(expect.objectContaining({ code: 'matrix.singular' }));
    expect(() => invertMatrix(matrixFromRows([[0, 1, 2], [0, 3, 4], [0, 5, 7]]))).toThrow(expect.objectContaining({ code: 'matrix.singular', path: 'm' }));
  });

  it('a pivot of zero is found below (row swap)', () => {
    const rows = [
      [0, 1],
      [1, 0],
    ];
    expect(matrixToRows(invertMatrix(matrixFromRows(rows)))).toEqual(rows);
  });

  it('a non-square matrix throws matrix.shape', () => {
    expect(() => invertMatrix(matrixFromRows([[56, 23], [3, 100], [45, 201]]))).toThrow(expect.objectContaining({ code: 'matrix.shape' }));
  });
});

describe('vandermonde', () => {
  it('entry (r, c) is r^c with 0^0 = 1: row 0 is 1, 0, 0, …; row 1 is all ones; column 0 is all ones', () => {
    const vm = vandermondeMatrix(256, 6);
    const rows = matrixToRows(vm);
    expect(rows[0]).toEqual([1, 0, 0, 0, 0, 0]);
    expect(rows[1]).toEqual([1, 1, 1, 1, 1, 1]);
    expect(rows[2]).toEqual([1, 2, 4, 8, 16, 32]);
    for (let r = 0; r < 256; r++) for (let c = 0; c < 6; c++) expect(rows[r]![c]).toBe(refPow(r, c));
  });

  it('any k of its rows are invertible (sampled)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20 }).chain((k) => fc.tuple(fc.constant(k), fc.uniqueArray(fc.integer({ min: 0, max: 255 }), { minLength: k, maxLength: k }))),
        ([k, rowIndexes]) => {
          const sub = selectRows(vandermondeMatrix(256, k), rowIndexes);
          expect(isIdentity(multiplyMatrices(sub, invertMatrix(sub)))).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('more than 256 rows throws matrix.shape', () => {
    expect(() => vandermondeMatrix(257, 2)).toThrow(expect.objectContaining({ code: 'matrix.shape', path: 'rows' }));
  });
});
