/**
 * Interoperability: outputs of klauspost/reedsolomon, Backblaze JavaReedSolomon and
 * two codecs compatible with them (vectors/published.json), and of Backblaze's code run
 * on seeded data (vectors/backblaze-generated.json). Sources in vectors/README.md.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  buildEncodingMatrix,
  createReedSolomon,
  gfExp,
  gfInverse,
  gfMul,
  invertMatrix,
  joinShards,
  matrixFromRows,
  matrixToRows,
  mulAddSlice,
  mulSlice,
  multiplyMatrices,
  splitShards,
} from '../src/mod.ts';
import { GF_EXP, GF_LOG, GF_MUL_TABLE } from '../src/gf256.ts';
import { hex, unhex } from './reference.ts';

interface EncodeVector {
  name?: string;
  data_shards: number;
  parity_shards: number;
  split_input?: string;
  data: string[];
  parity: string[];
}

interface Published {
  field: { mul: [number, number, number][]; exp: [number, number, number][]; generating_polynomials: number[] };
  slices: { input: string; cases: { op: 'mul' | 'mul_add'; c: number; output_before?: string; output: string }[] };
  matrix: {
    multiply: { a: number[][]; b: number[][]; product: number[][] }[];
    inverse: { m: number[][]; inverse: number[][] }[];
    singular: number[][][];
  };
  encode: EncodeVector[];
}

interface Generated {
  field: { log_table: number[]; exp_table: number[]; inverse_1_to_255: number[]; mul_table_sha256: string };
  encode: EncodeVector[];
  matrices: { data_shards: number; parity_shards: number; parity_rows: string[] }[];
}

const load = <T>(name: string): T => JSON.parse(readFileSync(new URL(`./vectors/${name}`, import.meta.url), 'utf8')) as T;
const published = load<Published>('published.json');
const generated = load<Generated>('backblaze-generated.json');

/** Encodes v.data, checks the parity, then erases up to m shards in a few patterns and reconstructs. */
function checkEncodeVector(v: EncodeVector): void {
  const k = v.data_shards;
  const m = v.parity_shards;
  expect(v.data).toHaveLength(k);
  expect(v.parity).toHaveLength(m);
  const rs = createReedSolomon(k, m);
  const size = unhex(v.data[0]!).length;
  const shards = [...v.data.map(unhex), ...v.parity.map(() => new Uint8Array(size).fill(0xee))];
  rs.encode(shards);
  expect(shards.slice(k).map(hex)).toEqual(v.parity);
  expect(shards.slice(0, k).map(hex)).toEqual(v.data);
  expect(rs.verify(shards)).toBe(true);

  const total = k + m;
  const patterns = [
    Array.from({ length: Math.min(m, k) }, (_, i) => i), // leading data shards
    Array.from({ length: m }, (_, i) => total - 1 - i), // all parity
    Array.from({ length: m }, (_, i) => (i * 7 + 3) % total).filter((x, i, a) => a.indexOf(x) === i), // scattered
  ];
  for (const lost of patterns) {
    const damaged: (Uint8Array | null)[] = shards.map((s) => s.slice());
    for (const i of lost) damaged[i] = null;
    rs.reconstruct(damaged);
    expect(damaged.map((s) => hex(s!)), `lost ${lost.join(',')}`).toEqual([...v.data, ...v.parity]);
  }
}

describe('published: field', () => {
  it.each(published.field.mul)('%i · %i = %i', (a, b, product) => {
    expect(gfMul(a, b)).toBe(product);
  });

  it.each(published.field.exp)('%i ^ %i = %i', (a, n, power) => {
    expect(gfExp(a, n)).toBe(power);
  });

  it('0x11D is among the generating polynomials Backblaze lists, and x^8 reduces to its low byte', () => {
    expect(published.field.generating_polynomials).toContain(0x11d & 0xff);
    expect(GF_EXP[8]).toBe(0x11d & 0xff);
  });

  it.each(published.slices.cases.map((c) => [`${c.op} by ${c.c}`, c] as const))('slice %s', (_name, c) => {
    const input = unhex(published.slices.input);
    const output = c.output_before ? unhex(c.output_before) : new Uint8Array(input.length).fill(0x55);
    if (c.op === 'mul') mulSlice(c.c, input, output);
    else mulAddSlice(c.c, input, output);
    expect(hex(output)).toBe(c.output);
  });
});

describe('published: matrices', () => {
  it.each(published.matrix.multiply.map((v) => [JSON.stringify(v.product), v] as const))('product %s', (_name, v) => {
    expect(matrixToRows(multiplyMatrices(matrixFromRows(v.a), matrixFromRows(v.b)))).toEqual(v.product);
  });

  it.each(published.matrix.inverse.map((v) => [JSON.stringify(v.m), v] as const))('inverse of %s', (_name, v) => {
    expect(matrixToRows(invertMatrix(matrixFromRows(v.m)))).toEqual(v.inverse);
  });

  it.each(published.matrix.singular.map((m) => [JSON.stringify(m), m] as const))('%s is singular', (_name, m) => {
    expect(() => invertMatrix(matrixFromRows(m))).toThrow(expect.objectContaining({ code: 'matrix.singular' }));
  });
});

describe('published: encodings', () => {
  it('has the 5+5, 12+6 and 2+2 vectors', () => {
    expect(published.encode.map((v) => `${v.data_shards}+${v.parity_shards}`)).toEqual(['5+5', '12+6', '2+2']);
  });

  it.each(published.encode.map((v) => [v.name!, v] as const))('%s: parity, and reconstruction after erasures', (_name, v) => {
    checkEncodeVector(v);
  });

  it('hello-world-12+6: splitShards lays the text out as klauspost Split did, and joins back', () => {
    const v = published.encode.find((e) => e.split_input)!;
    const text = unhex(v.split_input!);
    const shards = splitShards(text, v.data_shards, v.parity_shards);
    expect(shards).toHaveLength(18);
    expect(shards.slice(0, 12).map(hex)).toEqual(v.data);
    createReedSolomon(12, 6).encode(shards);
    expect(shards.slice(12).map(hex)).toEqual(v.parity);
    expect(Buffer.from(joinShards(shards, 12, text.length)).toString('latin1')).toBe('hello world hello world ');
  });

  it('one-encode-5+5: changing one parity byte fails verify (as in both test suites)', () => {
    const v = published.encode[0]!;
    const shards = [...v.data, ...v.parity].map(unhex);
    const rs = createReedSolomon(5, 5);
    expect(rs.verify(shards)).toBe(true);
    shards[8]![0]! += 1;
    expect(rs.verify(shards)).toBe(false);
  });
});

describe('Backblaze JavaReedSolomon, run: field tables', () => {
  it('log table equals Galois.LOG_TABLE (log 0 undefined)', () => {
    expect(generated.field.log_table[0]).toBe(-1);
    expect(Array.from(GF_LOG.subarray(1))).toEqual(generated.field.log_table.slice(1));
  });

  it('exp table equals Galois.EXP_TABLE (510 entries)', () => {
    expect(Array.from(GF_EXP)).toEqual(generated.field.exp_table);
  });

  it('inverses equal Galois.divide(1, a)', () => {
    expect(Array.from({ length: 255 }, (_, i) => gfInverse(i + 1))).toEqual(generated.field.inverse_1_to_255);
  });

  it('the 64 KiB product table hashes as Galois.MULTIPLICATION_TABLE does', () => {
    expect(createHash('sha256').update(GF_MUL_TABLE).digest('hex')).toBe(generated.field.mul_table_sha256);
  });
});

describe('Backblaze JavaReedSolomon, run: encoding matrices', () => {
  it.each(generated.matrices.map((v) => [`${v.data_shards}+${v.parity_shards}`, v] as const))('%s parity rows', (_name, v) => {
    const k = v.data_shards;
    const m = v.parity_shards;
    const matrix = createReedSolomon(k, m).encodingMatrix();
    expect(matrix.rows).toBe(k + m);
    expect(matrix.cols).toBe(k);
    const rows = matrixToRows(matrix);
    rows.slice(0, k).forEach((row, r) => expect(row, `row ${r}`).toEqual(row.map((_, c) => (c === r ? 1 : 0))));
    expect(rows.slice(k).map((row) => hex(Uint8Array.from(row)))).toEqual(v.parity_rows);
  });

  it('5+5: the first parity row is 7, 7, 6, 6, 1 (the row Backblaze\'s and klauspost\'s inverse2 test uses)', () => {
    expect(matrixToRows(buildEncodingMatrix(5, 10))[5]).toEqual([7, 7, 6, 6, 1]);
  });
});

describe('Backblaze JavaReedSolomon, run: encodings', () => {
  it('covers k + m from 2 to 255, including 1+254, 254+1, 128+127 and 200+55', () => {
    const configs = generated.encode.map((v) => `${v.data_shards}+${v.parity_shards}`);
    expect(configs).toEqual(expect.arrayContaining(['1+1', '1+254', '254+1', '128+127', '200+55', '64+64', '10+4', '17+3']));
    expect(configs.length).toBeGreaterThanOrEqual(15);
  });

  it.each(generated.encode.map((v) => [`${v.data_shards}+${v.parity_shards} × ${unhex(v.data[0]!).length} bytes`, v] as const))(
    '%s: parity, and reconstruction after erasures',
    (_name, v) => {
      checkEncodeVector(v);
    },
  );
});
