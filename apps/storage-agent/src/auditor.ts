/**
 * The agent's self-audit: every interval it reads each shard it was given and hashes
 * it again. A shard whose state (stored, missing, corrupt) differs from what was last
 * reported is reported again, so the coordinators learn of rot and loss without
 * having to ask. The first pass runs at start, which also reports what a crash left
 * unreported.
 */
import type { Logger } from 'pino';
import type { AgentState } from './agent-state.ts';
import type { Reporter } from './reporter.ts';
import type { ShardStore } from './shard-store.ts';

export interface AuditorOptions {
  store: ShardStore;
  state: AgentState;
  reporter: Reporter;
  logger: Logger;
  /** Between two passes. Default 1 hour. */
  intervalMs?: number;
}

export interface AuditPass {
  checked: number;
  stored: number;
  missing: number;
  corrupt: number;
  reported: number;
}

export class Auditor {
  readonly #o: AuditorOptions;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<unknown> | undefined;
  #closed = false;

  constructor(options: AuditorOptions) {
    this.#o = options;
  }

  start(): void {
    const run = () => {
      this.#running = this.pass()
        .catch((error: unknown) => this.#o.logger.error({ err: (error as Error).message }, 'audit pass failed'))
        .finally(() => {
          if (!this.#closed) {
            this.#timer = setTimeout(run, this.#o.intervalMs ?? 3_600_000);
            this.#timer.unref();
          }
        });
    };
    run();
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    await this.#running;
  }

  /** One pass over every shard held. */
  async pass(): Promise<AuditPass> {
    const result: AuditPass = { checked: 0, stored: 0, missing: 0, corrupt: 0, reported: 0 };
    for (const held of this.#o.state.shards()) {
      if (this.#closed) break;
      const { state } = await this.#o.store.read(held.cid);
      result.checked++;
      result[state]++;
      const told = this.#o.reporter.pendingState(held.chunk, held.shard) ?? held.reported;
      if (told === state) continue;
      if (state !== 'stored') this.#o.logger.warn({ chunk: held.chunk, shard: held.shard, state }, 'audit: shard not as stored');
      await this.#o.reporter.report(held, state);
      result.reported++;
    }
    return result;
  }
}
