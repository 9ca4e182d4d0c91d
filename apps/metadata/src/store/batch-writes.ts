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
 *
 * A key written more than once in a batch (a creator's count, a label left and joined
 * again) is written once, where its last write was: the bucket keeps only the last value
 * anyway, and the entries that survive keep their order in the stream (index order).
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
  #finalWrites: Write[] | undefined;

  put(key: string, value: Uint8Array): void {
    this.#writes.push({ key, value });
    this.#finalWrites = undefined;
  }

  delete(key: string): void {
    this.#writes.push({ key, value: undefined });
    this.#finalWrites = undefined;
  }

  /** Writes that will go out (a key's last write only). */
  get size(): number {
    return this.#final().length;
  }

  #final(): Write[] {
    if (this.#finalWrites) return this.#finalWrites;
    const seen = new Set<string>();
    const final: Write[] = [];
    for (let i = this.#writes.length - 1; i >= 0; i--) {
      const w = this.#writes[i] as Write;
      if (seen.has(w.key)) continue;
      seen.add(w.key);
      final.push(w);
    }
    this.#finalWrites = final.reverse();
    return this.#finalWrites;
  }

  /** Every write through the KV client, pipelined, in order; resolves when all are acknowledged. */
  async acknowledged(kv: KV): Promise<void> {
    await Promise.all(this.#final().map((w) => (w.value === undefined ? kv.delete(w.key) : kv.put(w.key, w.value))));
  }

  /** Every write as a core-NATS publish to the bucket's subjects, in order, unacknowledged. */
  unacknowledged(nc: NatsConnection, bucket: string): void {
    const deleted = headers();
    deleted.set('KV-Operation', 'DEL');
    for (const w of this.#final()) {
      const subject = `$KV.${bucket}.${w.key}`;
      if (w.value === undefined) nc.publish(subject, undefined, { headers: deleted });
      else nc.publish(subject, w.value);
    }
  }
}
