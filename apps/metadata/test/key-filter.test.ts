import { describe, expect, it } from 'vitest';
import type { NatsConnection } from '@nats-io/transport-node';
import { KeyFilter } from '../src/domain/key-filter.ts';
import { BatchWrites } from '../src/store/batch-writes.ts';

describe('KeyFilter', () => {
  it('never forgets a key, as it grows past several filters', () => {
    const filter = new KeyFilter();
    const keys = Array.from({ length: 300_000 }, (_, i) => `man.${i.toString(36)}-${(i * 7919).toString(16)}`);
    for (const key of keys) filter.add(key);
    expect(keys.every((key) => filter.mightHold(key))).toBe(true);
    // 65,536 + 131,072 + 262,144 keys of room: three filters of 10 bits a key.
    expect(filter.bytes).toBe(((65_536 + 131_072 + 262_144) * 10) / 8);
  });

  it('says "not here" for nearly every key it never saw (false positives stay under 5%)', () => {
    const filter = new KeyFilter();
    for (let i = 0; i < 200_000; i++) filter.add(`fp.bafkrei${i}`);
    let falsePositives = 0;
    const probes = 100_000;
    for (let i = 0; i < probes; i++) if (filter.mightHold(`fp.bafkrei-other-${i}`)) falsePositives++;
    expect(falsePositives / probes).toBeLessThan(0.05);
    expect(new KeyFilter().mightHold('man.anything')).toBe(false);
  });
});

describe('BatchWrites', () => {
  /** Records what would be published (a unit test of the order; integration tests use real NATS). */
  function recorder() {
    const published: { subject: string; data: string; deleted: boolean }[] = [];
    const nc = {
      publish(subject: string, data: Uint8Array | undefined, options?: { headers?: { get(k: string): string } }) {
        published.push({ subject, data: new TextDecoder().decode(data ?? new Uint8Array()), deleted: options?.headers?.get('KV-Operation') === 'DEL' });
      },
    } as unknown as NatsConnection;
    return { nc, published };
  }
  const bytes = (s: string) => new TextEncoder().encode(s);

  it('writes a key written twice once, where its last write was, and keeps the rest in order', () => {
    const writes = new BatchWrites();
    writes.put('idx.a.m1', bytes('1'));
    writes.put('cnt.c', bytes('1'));
    writes.delete('idx.a.m1');
    writes.put('idx.a.m2', bytes(''));
    writes.put('cnt.c', bytes('2'));
    expect(writes.size).toBe(3);
    const { nc, published } = recorder();
    writes.unacknowledged(nc, 'b');
    expect(published).toEqual([
      { subject: '$KV.b.idx.a.m1', data: '', deleted: true },
      { subject: '$KV.b.idx.a.m2', data: '', deleted: false },
      { subject: '$KV.b.cnt.c', data: '2', deleted: false },
    ]);
    // Joined again after leaving: written once, after m2 (the index lists it after m2).
    writes.put('idx.a.m1', bytes(''));
    expect(writes.size).toBe(3);
    const again = recorder();
    writes.unacknowledged(again.nc, 'b');
    expect(again.published.map((p) => p.subject)).toEqual(['$KV.b.idx.a.m2', '$KV.b.cnt.c', '$KV.b.idx.a.m1']);
  });
});
