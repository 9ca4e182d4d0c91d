/** recordIdLeaves: the leaf of a record id is its 32 raw bytes; anything else is refused. */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MerkleError, leafHash, merkleRoot, merkleRootHex, recordIdLeaves } from '../src/mod.ts';
import { hex, referenceLeafHash, referenceRoot } from './reference.ts';

const id = (label: string): string => createHash('sha256').update(label).digest('hex');
const ids = ['a', 'b', 'c', 'd', 'e'].map(id);

function refusal(run: () => unknown): MerkleError {
  try {
    run();
  } catch (error) {
    if (error instanceof MerkleError) return error;
    throw error;
  }
  throw new Error('expected a MerkleError');
}

describe('recordIdLeaves', () => {
  it('decodes each id to its 32 bytes, as plain Uint8Arrays', () => {
    const leaves = recordIdLeaves(ids);
    expect(leaves.map(hex)).toEqual(ids);
    for (const leaf of leaves) {
      expect(leaf).toHaveLength(32);
      expect(Buffer.isBuffer(leaf)).toBe(false);
    }
  });

  it('hashes the bytes, not the hex text', () => {
    const [leaf] = recordIdLeaves([ids[0]!]);
    const expected = createHash('sha256').update(Uint8Array.of(0)).update(Buffer.from(ids[0]!, 'hex')).digest('hex');
    expect(hex(leafHash(leaf!))).toBe(expected);
    expect(hex(leafHash(leaf!))).not.toBe(hex(referenceLeafHash(new TextEncoder().encode(ids[0]!))));
    expect(merkleRootHex(recordIdLeaves(ids))).toBe(hex(referenceRoot(ids.map((text) => Buffer.from(text, 'hex')))));
    expect(merkleRootHex(recordIdLeaves(ids))).not.toBe(merkleRootHex(ids.map((text) => new TextEncoder().encode(text))));
  });

  it('gives no leaves (and the empty root) for no ids', () => {
    expect(recordIdLeaves([])).toEqual([]);
    expect(hex(merkleRoot(recordIdLeaves([])))).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });

  it.each([
    ['upper case', ids[1]!.toUpperCase()],
    ['63 characters', ids[1]!.slice(1)],
    ['65 characters', `${ids[1]!}0`],
    ['a non-hex character', `${ids[1]!.slice(0, 63)}g`],
    ['a prefix', `0x${ids[1]!.slice(2)}`],
    ['surrounding space', ` ${ids[1]!.slice(1)}`],
    ['a trailing newline', `${ids[1]!}\n`],
    ['the empty string', ''],
  ])('refuses %s, naming the index', (_name, bad) => {
    const error = refusal(() => recordIdLeaves([ids[0]!, bad, ids[2]!]));
    expect(error.code).toBe('leaf.not_record_id');
    expect(error.path).toBe('ids[1]');
    expect(error.message).toMatch(/^leaf\.not_record_id: ids\[1\]: entry 1 is not a record id/);
    expect(error.message).not.toMatch(/\n/);
  });

  it('refuses entries that are not strings', () => {
    for (const bad of [null, undefined, 42, Buffer.from(ids[0]!, 'hex')]) {
      const error = refusal(() => recordIdLeaves([ids[0]!, ids[1]!, bad as unknown as string]));
      expect({ code: error.code, path: error.path }).toEqual({ code: 'leaf.not_record_id', path: 'ids[2]' });
    }
  });
});
