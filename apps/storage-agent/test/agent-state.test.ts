import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { cidOfBytes } from '@dmf/protocol';
import { AgentState, shardKey, type HeldShard } from '../src/agent-state.ts';

let dir: string;
let file: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dmf-agent-state-'));
  file = join(dir, 'agent-state.json');
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const chunkA = cidOfBytes(Buffer.from('chunk a'));
const chunkB = cidOfBytes(Buffer.from('chunk b'));
const held = (chunk: string, shard: number, o: Partial<HeldShard> = {}): HeldShard => ({
  chunk,
  shard,
  cid: cidOfBytes(Buffer.from(`${chunk} ${shard}`)),
  group: `group-of-${chunk}`,
  ...o,
});

describe('AgentState', () => {
  it('gives report seqs that only grow and are at least the clock, even when the clock goes back (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 2 ** 45 }), { minLength: 1, maxLength: 50 }), (clocks) => {
        const state = new AgentState(file);
        let last = 0;
        for (const now of clocks) {
          const seq = state.nextSeq(now);
          expect(seq).toBeGreaterThan(last);
          expect(seq).toBeGreaterThanOrEqual(now);
          // No larger jump than needed: one above the last, or the clock.
          expect(seq).toBe(Math.max(last + 1, now));
          last = seq;
        }
      }),
    );
  });

  it('uses the wall clock by default', () => {
    const before = Date.now();
    const seq = new AgentState(file).nextSeq();
    expect(seq).toBeGreaterThanOrEqual(before);
    expect(seq).toBeLessThanOrEqual(Date.now());
  });

  it('loads a missing file as empty', async () => {
    const state = new AgentState(join(dir, 'nothing-here.json'));
    await state.load();
    expect(state.shards()).toEqual([]);
    expect(state.get(chunkA, 0)).toBeUndefined();
    // No seq remembered: the next is 1 with a clock at 0.
    expect(state.nextSeq(0)).toBe(1);
  });

  it('keeps shards and seq through save and load in a new instance', async () => {
    const first = new AgentState(file);
    await first.load();
    const a0 = held(chunkA, 0, { reported: 'stored' });
    const a3 = held(chunkA, 3);
    const b0 = held(chunkB, 0, { reported: 'corrupt' });
    await first.set(a0);
    await first.set(a3);
    await first.set(b0);
    const seq = first.nextSeq(1_000);
    expect(seq).toBe(1_000);
    await first.save();

    const second = new AgentState(file);
    await second.load();
    expect(second.shards()).toHaveLength(3);
    expect(second.get(chunkA, 0)).toEqual(a0);
    expect(second.get(chunkA, 3)).toEqual(a3);
    expect(second.get(chunkA, 3)).not.toHaveProperty('reported');
    expect(second.get(chunkB, 0)).toEqual(b0);
    expect(second.get(chunkB, 3)).toBeUndefined();
    // The seq goes on above the saved one even with a clock behind it.
    expect(second.nextSeq(0)).toBe(1_001);
    // Written atomically: the temporary file is gone.
    expect(await readdir(dir)).toEqual(['agent-state.json']);
  });

  it('keeps one entry per chunk and shard number: a later set replaces the earlier', async () => {
    const state = new AgentState(file);
    await state.set(held(chunkA, 1, { reported: 'stored' }));
    await state.set(held(chunkA, 1, { reported: 'missing', group: 'a later group' }));
    expect(state.shards()).toEqual([held(chunkA, 1, { reported: 'missing', group: 'a later group' })]);
    const reloaded = new AgentState(file);
    await reloaded.load();
    expect(reloaded.get(chunkA, 1)?.reported).toBe('missing');
    // The key tells chunk and shard apart.
    expect(shardKey(chunkA, 1)).not.toBe(shardKey(chunkA, 11));
    expect(shardKey(chunkA, 1)).not.toBe(shardKey(chunkB, 1));
  });

  it('loses nothing when sets are not awaited one by one: the last write holds everything', async () => {
    const state = new AgentState(file);
    const all = Array.from({ length: 20 }, (_, i) => held(i % 2 ? chunkA : chunkB, i));
    await Promise.all(all.map((h) => state.set(h)));
    const reloaded = new AgentState(file);
    await reloaded.load();
    expect(reloaded.shards()).toHaveLength(20);
    for (const h of all) expect(reloaded.get(h.chunk, h.shard)).toEqual(h);
  });

  it('writes JSON with the seq and the shards', async () => {
    const state = new AgentState(file);
    state.nextSeq(42);
    await state.set(held(chunkA, 2));
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({ seq: 42, shards: [held(chunkA, 2)] });
  });

  it('fails to load a file that is not JSON rather than starting empty', async () => {
    await writeFile(file, '{ not json');
    await expect(new AgentState(file).load()).rejects.toThrow(SyntaxError);
  });
});
