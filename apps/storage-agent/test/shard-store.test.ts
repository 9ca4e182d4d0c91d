import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { cidOfBytes } from '@dmf/protocol';
import { ShardStore, ShardStoreError } from '../src/shard-store.ts';

let root: string;
let dir: string;
let store: ShardStore;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'dmf-shard-store-'));
  dir = join(root, 'shards');
  store = new ShardStore(dir);
  await store.open();
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function shardStoreError(p: Promise<unknown>): Promise<ShardStoreError> {
  try {
    await p;
  } catch (error) {
    expect(error).toBeInstanceOf(ShardStoreError);
    return error as ShardStoreError;
  }
  throw new Error('expected a ShardStoreError, nothing was thrown');
}

describe('ShardStore', () => {
  it('reads back what was put, as stored with the same bytes, in a file named by the CID', async () => {
    const bytes = new TextEncoder().encode('some shard bytes');
    const cid = cidOfBytes(bytes);
    await store.put(cid, bytes);
    const read = await store.read(cid);
    expect(read.state).toBe('stored');
    expect(read.state === 'stored' && Buffer.from(read.bytes).equals(Buffer.from(bytes))).toBe(true);
    expect(await readdir(dir)).toEqual([cid]);
    expect((await readFile(join(dir, cid))).equals(Buffer.from(bytes))).toBe(true);
  });

  it('round-trips any bytes, the empty shard included, and overwrites a shard with itself (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 0, maxLength: 2048 }), async (bytes) => {
        const cid = cidOfBytes(bytes);
        await store.put(cid, bytes);
        await store.put(cid, bytes);
        const read = await store.read(cid);
        expect(read.state).toBe('stored');
        if (read.state === 'stored') expect(Buffer.from(read.bytes).equals(Buffer.from(bytes))).toBe(true);
      }),
      { numRuns: 30 },
    );
    // No temporary file was left behind.
    expect((await readdir(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('refuses bytes that are not the CID\'s with shard.cid_mismatch and stores nothing', async () => {
    const cid = cidOfBytes(Buffer.from('the right bytes'));
    const error = await shardStoreError(store.put(cid, Buffer.from('the wrong bytes')));
    expect(error.code).toBe('shard.cid_mismatch');
    expect(error.message).toContain(cidOfBytes(Buffer.from('the wrong bytes')));
    expect(await readdir(dir)).toEqual([]);
    expect(await store.read(cid)).toEqual({ state: 'missing' });
  });

  it('does not replace a stored shard when the bytes offered for it are wrong', async () => {
    const bytes = Buffer.from('kept');
    const cid = cidOfBytes(bytes);
    await store.put(cid, bytes);
    await shardStoreError(store.put(cid, Buffer.from('keep')));
    const read = await store.read(cid);
    expect(read.state === 'stored' && Buffer.from(read.bytes).toString()).toBe('kept');
  });

  it('reads a file altered on disk as corrupt', async () => {
    const bytes = Buffer.from('bytes that will rot');
    const cid = cidOfBytes(bytes);
    await store.put(cid, bytes);
    const rotten = Buffer.from(bytes);
    rotten[0] = (rotten[0] as number) ^ 1;
    await writeFile(join(dir, cid), rotten);
    expect(await store.read(cid)).toEqual({ state: 'corrupt' });
    // Truncated is corrupt too.
    await writeFile(join(dir, cid), bytes.subarray(0, 5));
    expect(await store.read(cid)).toEqual({ state: 'corrupt' });
  });

  it('reads an absent CID as missing, and one removed as missing (removing twice is fine)', async () => {
    const bytes = Buffer.from('to be removed');
    const cid = cidOfBytes(bytes);
    expect(await store.read(cid)).toEqual({ state: 'missing' });
    await store.put(cid, bytes);
    await store.remove(cid);
    expect(await store.read(cid)).toEqual({ state: 'missing' });
    await expect(store.remove(cid)).resolves.toBeUndefined();
  });

  it('refuses a non-canonical CID with shard.invalid_cid before touching the disk, so no path escapes the folder', async () => {
    const cid = cidOfBytes(Buffer.from('x'));
    // A file next to the shard folder that a path escape would reach.
    await writeFile(join(root, 'x'), 'x');
    const bad = ['../x', '', 'x', `${cid}/../../x`, `../${cid}`, cid.toUpperCase(), `${cid}\n`, `${cid}.tmp`, ` ${cid}`, `bafkrei${'a'.repeat(40)}`];
    for (const name of bad) {
      for (const attempt of [() => store.read(name), () => store.put(name, Buffer.from('x')), () => store.remove(name)]) {
        const error = await shardStoreError(attempt());
        expect(error.code).toBe('shard.invalid_cid');
        expect(error.message).toContain(JSON.stringify(name));
      }
    }
    expect(await readFile(join(root, 'x'), 'utf8')).toBe('x');
    expect(await readdir(dir)).toEqual([]);
  });

  it('creates its folder on open, nested folders included', async () => {
    const nested = new ShardStore(join(root, 'a', 'b', 'c'));
    await nested.open();
    const bytes = Buffer.from('deep');
    await nested.put(cidOfBytes(bytes), bytes);
    expect(await readdir(join(root, 'a', 'b', 'c'))).toEqual([cidOfBytes(bytes)]);
  });
});
