import { randomBytes } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir, removeDir } from '@dmf/testing';
import { runDmf } from './run-dmf.ts';

describe('dmf erasure', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await makeTempDir('cli-erasure');
  });
  afterAll(async () => {
    await removeDir(dir);
  });

  it('encodes a file into K+M shards and rebuilds it from any K, a damaged shard refused', async () => {
    const original = randomBytes(100_003);
    await writeFile(join(dir, 'song.bin'), original);
    const shards = join(dir, 'shards');
    const encoded = await runDmf(['erasure', 'encode', join(dir, 'song.bin'), '--data', '4', '--parity', '2', '--out', shards, '--json']);
    expect(encoded.stderr).toBe('');
    expect(encoded.code).toBe(0);
    const description = JSON.parse(encoded.stdout) as { shard_bytes: number; shards: string[]; length: number };
    expect(description).toMatchObject({ length: 100_003, shard_bytes: 25_001 });
    expect(description.shards).toHaveLength(6);
    // The last data shard is zero-padded; data shards are the file's bytes in order.
    expect((await readFile(join(shards, '0'))).equals(original.subarray(0, 25_001))).toBe(true);

    // Two shards gone: one deleted, one damaged (a byte flipped): any 4 of 6 still rebuild.
    await rm(join(shards, '1'));
    const parity = await readFile(join(shards, '5'));
    parity[7] = (parity[7] as number) ^ 1;
    await writeFile(join(shards, '5'), parity);
    const decoded = await runDmf(['erasure', 'decode', shards, '--out', join(dir, 'back.bin'), '--json']);
    expect(decoded.stderr).toBe('');
    expect(decoded.code).toBe(0);
    expect(JSON.parse(decoded.stdout)).toMatchObject({ length: 100_003, used: 4, missing: [1], damaged: [5] });
    expect((await readFile(join(dir, 'back.bin'))).equals(original)).toBe(true);

    // A third shard gone: too few, one line saying so, nothing written.
    await rm(join(shards, '0'));
    const failed = await runDmf(['erasure', 'decode', shards, '--out', join(dir, 'never.bin')]);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/^dmf: shards\.too_few: .*3 of 6 .* (4 needed|needed).*\(missing 0, 1; damaged 5\)\n$/);
    await expect(readFile(join(dir, 'never.bin'))).rejects.toThrow();
  });

  it('names the bad argument in one line, exit 2', async () => {
    const cases: [string[], RegExp][] = [
      [['erasure', 'encode', join(dir, 'nothing'), '--data', '4', '--parity', '2', '--out', join(dir, 'x')], /^dmf: <file>: cannot read .*nothing: no such file$/m],
      [['erasure', 'encode', join(dir, 'song.bin'), '--data', '0', '--parity', '2', '--out', join(dir, 'x')], /^dmf: --data: "0" must be a whole number, at least 1$/m],
      [['erasure', 'encode', join(dir, 'song.bin'), '--data', '200', '--parity', '100', '--out', join(dir, 'x')], /^dmf: --data\/--parity: 200 \+ 100 = 300 shards; at most 255$/m],
      [['erasure', 'encode', join(dir, 'song.bin'), '--data', '4', '--parity', '2', '--scheme', 'lrc', '--out', join(dir, 'x')], /^dmf: --scheme: "lrc" is not available here \(rs is\)$/m],
      [['erasure', 'decode', dir, '--out', join(dir, 'y')], /^dmf: <dir>: cannot read .*erasure\.json: no such file/m],
    ];
    for (const [args, message] of cases) {
      const result = await runDmf(args);
      expect({ args, code: result.code }).toEqual({ args, code: 2 });
      expect(result.stderr).toMatch(message);
    }
  });
});
