/**
 * What an agent remembers between runs (`<data>/agent-state.json`): the shards it was
 * given (chunk, shard number, CID, the erasure group that named it) with the state it
 * last reported for each, and the highest report seq it signed. Written atomically
 * after each change.
 *
 * A report's seq only grows (the coordinator keeps the highest per node and shard), so
 * the next is above both the last one and the clock in milliseconds: a lost state file
 * does not make seq go back while the clock does not.
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import type { ShardState } from '@dmf/protocol';

export interface HeldShard {
  chunk: string;
  shard: number;
  cid: string;
  /** Record id of the erasure group (or the group a repair rebuilt it for). */
  group: string;
  /** What was last reported to the coordinators (undefined: not yet). */
  reported?: ShardState;
}

interface StateFile {
  seq: number;
  shards: HeldShard[];
}

export function shardKey(chunk: string, shard: number): string {
  return `${chunk} ${shard}`;
}

export class AgentState {
  readonly #file: string;
  readonly #shards = new Map<string, HeldShard>();
  #seq = 0;
  #saving: Promise<void> = Promise.resolve();

  constructor(file: string) {
    this.#file = file;
  }

  async load(): Promise<void> {
    let text: string;
    try {
      text = await readFile(this.#file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    const parsed = JSON.parse(text) as Partial<StateFile>;
    if (!Number.isSafeInteger(parsed.seq) || !Array.isArray(parsed.shards)) throw new Error(`${this.#file}: not an agent state file (seq and shards expected)`);
    this.#seq = parsed.seq as number;
    for (const s of parsed.shards) this.#shards.set(shardKey(s.chunk, s.shard), s);
  }

  /** The next report seq (see the top of this file). */
  nextSeq(now = Date.now()): number {
    this.#seq = Math.max(this.#seq + 1, now);
    return this.#seq;
  }

  shards(): HeldShard[] {
    return [...this.#shards.values()];
  }

  get(chunk: string, shard: number): HeldShard | undefined {
    return this.#shards.get(shardKey(chunk, shard));
  }

  async set(held: HeldShard): Promise<void> {
    this.#shards.set(shardKey(held.chunk, held.shard), held);
    await this.save();
  }

  /** Writes the file; writes never overlap, the last one holds everything. */
  save(): Promise<void> {
    // After a failed write (disk full) the next one tries again: the chain must not stay rejected.
    this.#saving = this.#saving.catch(() => undefined).then(async () => {
      const body: StateFile = { seq: this.#seq, shards: this.shards() };
      await writeFile(`${this.#file}.tmp`, `${JSON.stringify(body)}\n`);
      await rename(`${this.#file}.tmp`, this.#file);
    });
    return this.#saving;
  }
}
