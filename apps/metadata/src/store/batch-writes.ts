/**
 * The writes of one projector batch, published in order. Two ways:
 *
 * - acknowledged: every put/delete through the KV client, all issued before any is
 *   awaited (pipelined), so the server stores them in the order given;
 * - fast: core-NATS publishes to the bucket's subjects with no acknowledgement each,
 *   then ONE acknowledged write that proves they were all stored: the bucket's stream
 *   numbers every message, and this process is the bucket's only writer, so if the proof
 *   lands exactly `count + 1` sequences after our previous acknowledged write, every
 *   write in between is ours and none was lost. Anything else (a lease renewal or a CLI
 *   request came in between, or the server dropped a message) and the caller writes the
 *   batch again, acknowledged. Writing a value twice is harmless (the bucket keeps one per
 *   key), so the check can afford to be strict.
 *
 * One connection delivers its publishes in order, so either way a crash leaves a prefix
 * of the batch stored: the projector writes heads after the other effects, and the
 * position last (projector.ts).
 */
import { headers, type NatsConnection } from '@nats-io/transport-node';
import type { KV } from '@nats-io/kv';

interface Write {
  key: string;
  /** undefined: delete. */
  value: Uint8Array | undefined;
}

export class BatchWrites {
  readonly #writes: Write[] = [];

  put(key: string, value: Uint8Array): void {
    this.#writes.push({ key, value });
  }

  delete(key: string): void {
    this.#writes.push({ key, value: undefined });
  }

  get size(): number {
    return this.#writes.length;
  }

  /** Every write through the KV client, pipelined, in order; resolves when all are acknowledged. */
  async acknowledged(kv: KV): Promise<void> {
    await Promise.all(this.#writes.map((w) => (w.value === undefined ? kv.delete(w.key) : kv.put(w.key, w.value))));
  }

  /** Every write as a core-NATS publish to the bucket's subjects, in order, unacknowledged. */
  unacknowledged(nc: NatsConnection, bucket: string): void {
    const deleted = headers();
    deleted.set('KV-Operation', 'DEL');
    for (const w of this.#writes) {
      const subject = `$KV.${bucket}.${w.key}`;
      if (w.value === undefined) nc.publish(subject, undefined, { headers: deleted });
      else nc.publish(subject, w.value);
    }
  }
}
