/**
 * Shards on disk, named by CID: `<dir>/<cid>`. What is written is checked against its
 * CID first, written to a temporary file and renamed (a crash leaves the old file or
 * the new one, never half), and every read is checked again, so bytes that rotted on
 * disk are never served as the shard.
 */
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cidOfBytes, CID_RAW_SHA256_PATTERN } from '@dmf/protocol';

export type ShardRead = { state: 'stored'; bytes: Uint8Array } | { state: 'missing' } | { state: 'corrupt' };

const CID = new RegExp(CID_RAW_SHA256_PATTERN);

export class ShardStoreError extends Error {
  constructor(
    readonly code: 'shard.cid_mismatch' | 'shard.invalid_cid',
    message: string,
  ) {
    super(`${code}: ${message}`);
    this.name = 'ShardStoreError';
  }
}

export class ShardStore {
  readonly #dir: string;

  constructor(dir: string) {
    this.#dir = dir;
  }

  async open(): Promise<void> {
    await mkdir(this.#dir, { recursive: true, mode: 0o700 });
  }

  /** Stores `bytes` as shard `cid`; refuses bytes that are not that CID's. */
  async put(cid: string, bytes: Uint8Array): Promise<void> {
    const path = this.#path(cid);
    const actual = cidOfBytes(bytes);
    if (actual !== cid) throw new ShardStoreError('shard.cid_mismatch', `the bytes are ${actual}, not ${cid}`);
    const temporary = `${path}.${process.pid}.tmp`;
    await writeFile(temporary, bytes);
    await rename(temporary, path);
  }

  /** The shard's bytes when present and still its CID's. */
  async read(cid: string): Promise<ShardRead> {
    let bytes: Uint8Array;
    try {
      bytes = await readFile(this.#path(cid));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { state: 'missing' };
      throw error;
    }
    return cidOfBytes(bytes) === cid ? { state: 'stored', bytes } : { state: 'corrupt' };
  }

  async remove(cid: string): Promise<void> {
    await rm(this.#path(cid), { force: true });
  }

  #path(cid: string): string {
    // The CID is the file name: only the canonical spelling, so no path can be smuggled in.
    if (!CID.test(cid)) throw new ShardStoreError('shard.invalid_cid', `${JSON.stringify(cid)} is not a CIDv1 raw sha2-256`);
    return join(this.#dir, cid);
  }
}
