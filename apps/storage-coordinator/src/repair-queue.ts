/**
 * The repair queue: BullMQ on Redis (operator-local work, DESIGN.md). It is a
 * projection: every job follows from the log (a degraded chunk's current group, or a
 * repair task in the log), so at start it is emptied and filled again by the chunk
 * checker's first pass (`rebuild`). Two kinds of job:
 *
 * - `plan`: a degraded chunk. One per chunk and group version (job id from
 *   domain/repair-queue.ts: BullMQ adds nothing for an id it holds), prioritised by the
 *   expected time to loss.
 * - `execute`: a repair task another node posted (`POST /repair_task`), one per task.
 *
 * Both retry with exponential backoff; finished jobs are kept an hour (completed) or a
 * day (failed), during which the same id is not queued again.
 */
import { Queue, Worker, type Job, type Processor } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { REPAIR_RETRY, repairJobId } from './domain/repair-queue.ts';

export type RepairJob = { kind: 'plan'; chunk: string; group: string } | { kind: 'execute'; task: string };

/** What a processed job came to (kept with the completed job, shown by GET /chunk_status). */
export interface RepairOutcome {
  outcome: 'repaired' | 'superseded' | 'healthy' | 'not_coordinated_here';
  /** The task executed (this node's). */
  task?: string;
  /** The group after the job (the next version when repaired). */
  group?: string;
  /** The task another node posted, which this node adopted as `task`. */
  adopted?: string;
}

export interface RepairJobView {
  id: string;
  state: string;
  attempts: number;
  failed_reason?: string;
  outcome?: RepairOutcome;
}

/** BullMQ queue names must not contain ':' (its key separator). */
export function repairQueueName(operator: string): string {
  return `dmf-repair-${operator}`;
}

export function executeJobId(taskId: string): string {
  return `execute-${taskId}`;
}

const KEEP = { removeOnComplete: { age: 3600 }, removeOnFail: { age: 86_400 } };

export class RepairQueue {
  readonly queue: Queue<RepairJob, RepairOutcome>;
  readonly #logger: Logger;
  readonly #planned = new Set<string>();

  constructor(connection: Redis, operator: string, logger: Logger) {
    this.queue = new Queue<RepairJob, RepairOutcome>(repairQueueName(operator), { connection });
    this.#logger = logger;
  }

  /**
   * Queues the repair of degraded chunks' current groups in one round trip; resolves
   * with how many were not queued by this process before. BullMQ leaves a job it holds
   * as it is, so a repeat is harmless; the memory of what was queued only spares Redis
   * the repeats, and `forget()` clears it (the checker does on every sweep, so a chunk
   * whose job finished and was removed is queued again while it stays degraded).
   */
  async plan(items: readonly { chunk: string; group: string; priority: number }[]): Promise<number> {
    const fresh = items.filter(({ chunk, group }) => !this.#planned.has(repairJobId(chunk, group)));
    if (fresh.length === 0) return 0;
    await this.queue.addBulk(
      fresh.map(({ chunk, group, priority }) => ({ name: 'plan', data: { kind: 'plan' as const, chunk, group }, opts: { jobId: repairJobId(chunk, group), priority, ...REPAIR_RETRY, ...KEEP } })),
    );
    for (const { chunk, group } of fresh) this.#planned.add(repairJobId(chunk, group));
    return fresh.length;
  }

  forget(): void {
    this.#planned.clear();
  }

  /** Queues the execution of a posted repair task, ahead of planned repairs. */
  async execute(taskId: string): Promise<string> {
    const id = executeJobId(taskId);
    await this.queue.add('execute', { kind: 'execute', task: taskId }, { jobId: id, priority: 1, ...REPAIR_RETRY, ...KEEP });
    return id;
  }

  async view(jobId: string): Promise<RepairJobView | undefined> {
    // The job and its state are two reads: a job finishing between them would show
    // `completed` without its outcome. Read again until the state held across the job's read.
    let state = await this.queue.getJobState(jobId);
    let job = await this.queue.getJob(jobId);
    for (let tries = 0; job && tries < 3; tries++) {
      const after = await this.queue.getJobState(jobId);
      if (after === state) break;
      state = after;
      job = await this.queue.getJob(jobId);
    }
    if (!job) return undefined;
    return {
      id: jobId,
      state,
      attempts: job.attemptsMade,
      ...(job.failedReason ? { failed_reason: job.failedReason } : {}),
      ...(job.returnvalue ? { outcome: job.returnvalue } : {}),
    };
  }

  /** Counts by state, for stats and the benchmark. */
  async counts(): Promise<Record<string, number>> {
    return this.queue.getJobCounts('waiting', 'prioritized', 'active', 'delayed', 'completed', 'failed');
  }

  /** Empties the queue (every job, in every state): the checker then queues what the log says. */
  async rebuild(): Promise<void> {
    await this.queue.obliterate({ force: true });
    this.#planned.clear();
    this.#logger.info({ queue: this.queue.name }, 'repair queue emptied, to be filled from the log');
  }

  /** A worker running `processor` on this queue. */
  worker(connection: Redis, processor: Processor<RepairJob, RepairOutcome>, concurrency: number): Worker<RepairJob, RepairOutcome> {
    const worker = new Worker<RepairJob, RepairOutcome>(this.queue.name, processor, { connection, concurrency });
    worker.on('failed', (job: Job<RepairJob, RepairOutcome> | undefined, error: Error) => {
      this.#logger.warn({ job: job?.id, attempts: job?.attemptsMade, err: error.message }, 'repair attempt failed');
    });
    worker.on('error', (error: Error) => this.#logger.error({ err: error.message }, 'repair worker error'));
    return worker;
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}
