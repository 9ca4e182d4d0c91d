/** Limits and refusals: k + m = 255, empty shards, bad shard lists, split and join. */
import { describe, expect, it } from 'vitest';
import { ERASURE_ERROR_CODES, ErasureError, MAX_TOTAL_SHARDS, createReedSolomon, joinShards, shardSizeFor, splitShards } from '../src/mod.ts';
import { hex } from './reference.ts';

function stripe(k: number, m: number, size: number, seed = 1): Uint8Array[] {
  let x = seed;
  const next = (): number => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return x >>> 24;
  };
  const shards = Array.from({ length: k + m }, (_, i) => (i < k ? Uint8Array.from({ length: size }, next) : new Uint8Array(size)));
  createReedSolomon(k, m).encode(shards);
  return shards;
}

function thrown(f: () => unknown): ErasureError {
  try {
    f();
  } catch (e) {
    if (e instanceof ErasureError) return e;
    throw e;
  }
  throw new Error('expected an ErasureError, nothing was thrown');
}

describe('k + m = 255', () => {
  it.each([
    [255, 0],
    [254, 1],
    [200, 55],
    [128, 127],
    [1, 254],
  ])('%i + %i: encode, lose m shards (data first), reconstruct', (k, m) => {
    expect(k + m).toBe(MAX_TOTAL_SHARDS);
    const shards = stripe(k, m, 33, k);
    const rs = createReedSolomon(k, m);
    expect(rs.verify(shards)).toBe(true);
    const damaged: (Uint8Array | null)[] = shards.map((s) => s.slice());
    // Even indexes first, then odd ones: data and parity shards both go.
    const order = Array.from({ length: k + m }, (_, i) => i).sort((a, b) => (a % 2) - (b % 2) || a - b);
    for (const i of order.slice(0, m)) damaged[i] = null;
    const lost = damaged.filter((s) => s === null).length;
    expect(lost).toBe(m);
    rs.reconstruct(damaged);
    expect(damaged.map((s) => hex(s!))).toEqual(shards.map(hex));
  });

  it('256 shards in all is refused, naming the argument and the limit', () => {
    const e = thrown(() => createReedSolomon(200, 56));
    expect(e.code).toBe('config.out_of_range');
    expect(e.path).toBe('parityShards');
    expect(e.message).toBe('config.out_of_range: parityShards: 200 data + 56 parity = 256 shards; at most 255 in all');
  });
});

describe('configuration refusals', () => {
  it.each([
    [0, 1, 'dataShards'],
    [-1, 1, 'dataShards'],
    [1.5, 1, 'dataShards'],
    [Number.NaN, 1, 'dataShards'],
    [256, 0, 'dataShards'],
    [4, -1, 'parityShards'],
    [4, 0.5, 'parityShards'],
    [4, 255, 'parityShards'],
  ])('createReedSolomon(%s, %s) → config.out_of_range at %s', (k, m, path) => {
    const e = thrown(() => createReedSolomon(k, m));
    expect(e.code).toBe('config.out_of_range');
    expect(e.path).toBe(path);
  });

  it('a negative cache size is refused', () => {
    expect(thrown(() => createReedSolomon(2, 1, { decodeCacheSize: -1 })).path).toBe('options.decodeCacheSize');
  });

  it('the codec reports its shape', () => {
    const rs = createReedSolomon(10, 4);
    expect([rs.dataShards, rs.parityShards, rs.totalShards]).toEqual([10, 4, 14]);
    const matrix = rs.encodingMatrix();
    matrix.data.fill(0); // a copy: the codec keeps its own
    expect(rs.encodingMatrix().data[0]).toBe(1);
  });
});

describe('long shards', () => {
  it('shards longer than one 16 KiB pass code byte for byte as short ones do', () => {
    const size = 40_003; // two pass boundaries and a ragged end
    const shards = stripe(5, 3, size, 7);
    const rs = createReedSolomon(5, 3);
    for (const [start, end] of [
      [0, 10],
      [16_380, 16_390],
      [32_760, 32_775],
      [39_990, size],
    ] as const) {
      const window = shards.map((s, i) => (i < 5 ? s.slice(start, end) : new Uint8Array(end - start)));
      rs.encode(window);
      expect(window.slice(5).map(hex), `bytes ${start}..${end}`).toEqual(shards.slice(5).map((s) => hex(s.subarray(start, end))));
    }
    expect(rs.verify(shards)).toBe(true);
    shards[6]![size - 1]! ^= 1;
    expect(rs.verify(shards)).toBe(false);
    shards[6]![size - 1]! ^= 1;
    const damaged: (Uint8Array | null)[] = [...shards];
    damaged[0] = damaged[2] = damaged[6] = null;
    rs.reconstruct(damaged);
    expect(damaged.map((s) => hex(s!))).toEqual(shards.map(hex));
  });
});

describe('empty shards', () => {
  it('encode, verify and reconstruct work on shards of 0 bytes', () => {
    const rs = createReedSolomon(4, 2);
    const shards = Array.from({ length: 6 }, () => new Uint8Array(0));
    rs.encode(shards);
    expect(rs.verify(shards)).toBe(true);
    const damaged: (Uint8Array | null)[] = [...shards];
    damaged[0] = null;
    damaged[5] = null;
    rs.reconstruct(damaged);
    expect(damaged[0]).toBeInstanceOf(Uint8Array);
    expect(damaged[0]).toHaveLength(0);
    expect(damaged[5]).toHaveLength(0);
  });

  it('splitting empty data gives k + m empty shards, and they join back to nothing', () => {
    const shards = splitShards(new Uint8Array(0), 3, 2);
    expect(shards.map((s) => s.length)).toEqual([0, 0, 0, 0, 0]);
    expect(joinShards(shards, 3, 0)).toHaveLength(0);
  });
});

describe('shard list refusals', () => {
  const rs = createReedSolomon(6, 4);

  it('too few present: the message counts them', () => {
    const shards: (Uint8Array | null)[] = stripe(6, 4, 8);
    for (const i of [0, 1, 2, 3, 6, 7, 9]) shards[i] = null;
    const e = thrown(() => rs.reconstruct(shards));
    expect(e.code).toBe('shards.too_few');
    expect(e.message).toBe('shards.too_few: shards: 3 of 10 data+parity shards present; 6 needed');
  });

  it('unequal lengths throw shards.size_mismatch naming the shard, in encode, verify and reconstruct', () => {
    const shards = stripe(6, 4, 8);
    shards[3] = new Uint8Array(7);
    for (const f of [() => rs.encode(shards), () => rs.verify(shards), () => rs.reconstruct([...shards])]) {
      const e = thrown(f);
      expect(e.code).toBe('shards.size_mismatch');
      expect(e.path).toBe('shards[3]');
      expect(e.reason).toBe('shard 3 has 7 bytes, shard 0 has 8; all shards of a stripe have one length');
    }
    const withGap: (Uint8Array | null)[] = stripe(6, 4, 8);
    withGap[0] = null;
    withGap[9] = new Uint8Array(9);
    expect(thrown(() => rs.reconstruct(withGap)).reason).toBe('shard 9 has 9 bytes, shard 1 has 8; all shards of a stripe have one length');
  });

  it('a list of the wrong length throws shards.wrong_count', () => {
    const shards = stripe(6, 4, 8);
    const e = thrown(() => rs.encode(shards.slice(0, 9)));
    expect(e.code).toBe('shards.wrong_count');
    expect(e.reason).toBe('got 9 shards; 10 expected (6 data + 4 parity)');
    expect(thrown(() => rs.reconstruct([...shards, null])).code).toBe('shards.wrong_count');
  });

  it('a missing shard is refused by encode and verify (shards.missing), and a non-bytes entry everywhere (shards.not_bytes)', () => {
    const shards: (Uint8Array | null)[] = stripe(6, 4, 8);
    shards[8] = null;
    expect(thrown(() => rs.encode(shards as Uint8Array[]))).toMatchObject({ code: 'shards.missing', path: 'shards[8]' });
    expect(thrown(() => rs.verify(shards as Uint8Array[]))).toMatchObject({ code: 'shards.missing', path: 'shards[8]' });
    const odd = [...stripe(6, 4, 8)] as unknown[];
    odd[2] = [1, 2, 3, 4, 5, 6, 7, 8];
    expect(thrown(() => rs.reconstruct(odd as Uint8Array[]))).toMatchObject({ code: 'shards.not_bytes', path: 'shards[2]' });
  });

  it('a parity shard that shares bytes with a data shard is refused before anything is written', () => {
    const shards = stripe(6, 4, 8);
    const before = shards.map(hex);
    const aliased = [...shards];
    aliased[7] = shards[2]!.subarray(0, 8);
    expect(thrown(() => rs.encode(aliased))).toMatchObject({ code: 'shards.overlap', path: 'shards[7]' });
    expect(shards.map(hex)).toEqual(before);
    // Adjacent views of one buffer (as splitShards makes) do not overlap.
    const split = splitShards(new Uint8Array(60).fill(9), 6, 4);
    expect(split[6]!.buffer).toBe(split[0]!.buffer);
    rs.encode(split);
    expect(rs.verify(split)).toBe(true);
  });

  it('encode leaves the data shards as they were; nothing to reconstruct is a no-op', () => {
    const shards = stripe(6, 4, 8);
    const data = shards.slice(0, 6).map(hex);
    rs.encode(shards);
    expect(shards.slice(0, 6).map(hex)).toEqual(data);
    const all = [...shards];
    rs.reconstruct(all);
    all.forEach((s, i) => expect(s).toBe(shards[i]));
  });

  it('m = 0: encode and verify succeed, and a missing shard cannot be rebuilt', () => {
    const rs0 = createReedSolomon(3, 0);
    const shards = [Uint8Array.of(1), Uint8Array.of(2), Uint8Array.of(3)];
    rs0.encode(shards);
    expect(rs0.verify(shards)).toBe(true);
    expect(thrown(() => rs0.reconstruct([null, shards[1]!, shards[2]!])).reason).toBe('2 of 3 data+parity shards present; 3 needed');
  });
});

describe('split and join', () => {
  it('shard size is ceil(length / k) and the tail is zero padded, possibly over several shards', () => {
    expect(shardSizeFor(10, 4)).toBe(3);
    expect(splitShards(Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]), 4).map(hex)).toEqual(['010203', '040506', '070809', '0a0000']);
    expect(splitShards(Uint8Array.from([1, 2, 3, 4, 5]), 4, 1).map(hex)).toEqual(['0102', '0304', '0500', '0000', '0000']);
    expect(shardSizeFor(12, 4)).toBe(3);
    expect(splitShards(new Uint8Array(12), 4)).toHaveLength(4);
  });

  it('split copies: changing the input afterwards changes no shard', () => {
    const data = Uint8Array.of(1, 2, 3);
    const shards = splitShards(data, 2);
    data[0] = 99;
    expect(shards.map(hex)).toEqual(['0102', '0300']);
  });

  it('join refuses a missing data shard, a length beyond the shards and too short a list', () => {
    const shards: (Uint8Array | null)[] = splitShards(new Uint8Array(10).fill(1), 4, 2);
    expect(joinShards(shards, 4, 10)).toEqual(new Uint8Array(10).fill(1));
    expect(joinShards(shards, 4, 12)).toEqual(Uint8Array.of(1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0));
    expect(thrown(() => joinShards(shards, 4, 13))).toMatchObject({ code: 'join.length_out_of_range', path: 'length' });
    expect(thrown(() => joinShards(shards, 4, -1)).code).toBe('join.length_out_of_range');
    expect(thrown(() => joinShards(shards.slice(0, 3), 4, 9)).code).toBe('shards.wrong_count');
    shards[4] = null; // a parity shard: join ignores it
    expect(joinShards(shards, 4, 10)).toHaveLength(10);
    shards[1] = null;
    expect(thrown(() => joinShards(shards, 4, 10))).toMatchObject({ code: 'shards.missing', path: 'shards[1]' });
  });

  it('split refuses bad counts like createReedSolomon', () => {
    expect(thrown(() => splitShards(new Uint8Array(4), 0)).path).toBe('dataShards');
    expect(thrown(() => splitShards(new Uint8Array(4), 100, 156)).code).toBe('config.out_of_range');
  });
});

describe('error codes', () => {
  it('every code is family.reason and appears once', () => {
    expect(new Set(ERASURE_ERROR_CODES).size).toBe(ERASURE_ERROR_CODES.length);
    for (const code of ERASURE_ERROR_CODES) expect(code).toMatch(/^[a-z]+\.[a-z_]+$/);
  });
});
