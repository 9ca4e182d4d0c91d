/**
 * One writer per projection: the metadata projector applies the log in order, so two
 * processes writing the same bucket would race. The writer holds `_lease` in the bucket
 * (created with a compare-and-set, renewed every few seconds with the revision it last
 * wrote). A lease not renewed for `LEASE_STALE_MS` belongs to a process that died and
 * may be taken over. The bucket is not sourced, so compare-and-set is safe on 2.9.10.
 */
import { randomBytes } from 'node:crypto';
import type { KV } from '@nats-io/kv';
import { KEYS } from '../domain/keys.ts';
import { decodeEntry, encodeJson } from './codec.ts';

export const LEASE_RENEW_MS = 3_000;
export const LEASE_STALE_MS = 15_000;

interface LeaseValue {
  holder: string;
  /** What holds it, for the message another process prints: `dmf up`, `dmf projections rebuild`. */
  what: string;
  renewed_at: number;
}

export class LeaseError extends Error {
  readonly code = 'lease.held';
  constructor(message: string) {
    super(message);
    this.name = 'LeaseError';
  }
}

export class ProjectionLease {
  readonly #kv: KV;
  readonly #value: LeaseValue;
  #revision = 0;
  /** Renewals written so far: the projector's fast writes must not count one as theirs. */
  renewals = 0;
  #timer: NodeJS.Timeout | undefined;
  #lost: ((error: Error) => void) | undefined;

  readonly #bucket: string;

  private constructor(kv: KV, bucket: string, what: string) {
    this.#kv = kv;
    this.#bucket = bucket;
    this.#value = { holder: randomBytes(8).toString('hex'), what, renewed_at: 0 };
  }

  /** Takes the lease or throws LeaseError naming who holds it. `onLost` is called if a renewal fails. */
  static async acquire(kv: KV, bucket: string, what: string, onLost: (error: Error) => void): Promise<ProjectionLease> {
    const lease = new ProjectionLease(kv, bucket, what);
    await lease.#take();
    lease.#lost = onLost;
    lease.#timer = setInterval(() => void lease.#renew(), LEASE_RENEW_MS);
    lease.#timer.unref();
    return lease;
  }

  async #take(): Promise<void> {
    const now = Date.now();
    const current = await this.#kv.get(KEYS.lease);
    const held = decodeEntry<LeaseValue>(current);
    const value = encodeJson({ ...this.#value, renewed_at: now });
    if (!current || !held) {
      this.#revision = current ? await this.#kv.update(KEYS.lease, value, current.revision) : await this.#kv.create(KEYS.lease, value);
      return;
    }
    if (now - held.renewed_at < LEASE_STALE_MS) {
      throw new LeaseError(
        `the projection in bucket ${this.#bucket} is being written by another process (${held.what}, renewed ${Math.round((now - held.renewed_at) / 1000)} s ago); stop it first`,
      );
    }
    this.#revision = await this.#kv.update(KEYS.lease, value, current.revision);
  }

  #renewing = false;

  async #renew(): Promise<void> {
    // A renewal still under way (a busy server) is not overtaken by the next one: two
    // updates expecting the same revision would make the second fail as a lost lease.
    if (this.#renewing) return;
    this.#renewing = true;
    try {
      this.renewals++;
      this.#revision = await this.#kv.update(KEYS.lease, encodeJson({ ...this.#value, renewed_at: Date.now() }), this.#revision);
    } catch (error) {
      clearInterval(this.#timer);
      this.#lost?.(new LeaseError(`lost the projection lease (another process took it, or the bucket was reset): ${(error as Error).message}`));
    } finally {
      this.#renewing = false;
    }
  }

  /** Stops renewing and deletes the lease if it is still ours. */
  async release(): Promise<void> {
    clearInterval(this.#timer);
    try {
      await this.#kv.delete(KEYS.lease, { previousSeq: this.#revision });
    } catch {
      // Someone else holds it now, or the connection is gone: it goes stale on its own.
    }
  }
}
