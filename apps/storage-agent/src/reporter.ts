/**
 * Signs the agent's shard reports and delivers them to its coordinators. The newest
 * report per shard is kept until every coordinator took it, and sent again with a
 * growing delay (up to ten minutes); a newer report of the same shard replaces it.
 */
import type { Logger } from 'pino';
import { canonicalBytes, signRecord, type ShardState, type SigningKey } from '@dmf/protocol';
import { shardKey, type AgentState, type HeldShard } from './agent-state.ts';
import type { CoordinatorLink } from './coordinator-link.ts';

export interface ReporterOptions {
  key: SigningKey;
  state: AgentState;
  link: CoordinatorLink;
  logger: Logger;
  /** First delay before sending again. Default 2 s. */
  retryMs?: number;
}

interface Pending {
  held: HeldShard;
  state: ShardState;
  body: string;
  attempts: number;
  dueAt: number;
}

const MAX_RETRY_MS = 600_000;

export class Reporter {
  readonly #o: ReporterOptions;
  readonly #pending = new Map<string, Pending>();
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(options: ReporterOptions) {
    this.#o = options;
  }

  start(): void {
    this.#timer = setInterval(() => void this.flush(), 1000);
    this.#timer.unref();
  }

  close(): void {
    this.#closed = true;
    clearInterval(this.#timer);
  }

  /** Reports waiting for a coordinator. */
  get pending(): number {
    return this.#pending.size;
  }

  /** The state of the report of a shard still waiting, if any. */
  pendingState(chunk: string, shard: number): ShardState | undefined {
    return this.#pending.get(shardKey(chunk, shard))?.state;
  }

  /** Signs a report of `held` in `state` and sends it; resolves when every coordinator took it (true) or it was queued (false). */
  async report(held: HeldShard, state: ShardState): Promise<boolean> {
    const now = new Date();
    const record = signRecord(
      { kind: 'shard_report', node: this.#o.key.did, group: held.group, chunk: held.chunk, shard: held.shard, cid: held.cid, state, seq: this.#o.state.nextSeq(now.getTime()), issued_at: now.toISOString() },
      this.#o.key,
      { now },
    );
    const pending: Pending = { held, state, body: new TextDecoder().decode(canonicalBytes(record.document)), attempts: 0, dueAt: 0 };
    this.#pending.set(shardKey(held.chunk, held.shard), pending);
    return this.#send(pending);
  }

  /** Sends every report that is due. */
  async flush(): Promise<void> {
    const now = Date.now();
    for (const p of [...this.#pending.values()]) if (!this.#closed && p.dueAt <= now) await this.#send(p);
  }

  async #send(p: Pending): Promise<boolean> {
    p.attempts++;
    const delivered = await this.#o.link.report(p.body);
    const key = shardKey(p.held.chunk, p.held.shard);
    if (delivered) {
      // Unless a newer report of the shard came meanwhile.
      if (this.#pending.get(key) === p) this.#pending.delete(key);
      const current = this.#o.state.get(p.held.chunk, p.held.shard);
      if (current?.cid === p.held.cid) await this.#o.state.set({ ...current, reported: p.state });
      return true;
    }
    p.dueAt = Date.now() + Math.min(MAX_RETRY_MS, (this.#o.retryMs ?? 2000) * 2 ** Math.min(p.attempts - 1, 12));
    return false;
  }
}
