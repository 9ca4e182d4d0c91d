import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { startNatsServer, type NatsServerHandle } from '@dmf/testing';
import { OrderedFeed } from '@dmf/bus';

let server: NatsServerHandle;
let nc: NatsConnection;
let js: JetStreamClient;
let jsm: JetStreamManager;
const STREAM = 'FEED_TEST';

beforeAll(async () => {
  server = await startNatsServer({ name: 'ordered-feed', domain: 'feed' });
  nc = await connect({ servers: server.url });
  jsm = await jetstreamManager(nc);
  js = jetstream(nc);
  await jsm.streams.add({ name: STREAM, subjects: ['feed.>'], max_bytes: 16 << 20 });
  await Promise.all(Array.from({ length: 500 }, (_, i) => js.publish(`feed.${i % 7}`, new TextEncoder().encode(String(i)))));
});

afterAll(async () => {
  await nc?.close();
  await server?.close();
});

describe('OrderedFeed', () => {
  it('delivers every message once, in order, from a sequence, while holding at most about `high` of them', async () => {
    const feed = new OrderedFeed(js, STREAM, 101, { high: 40, low: 10, pull: 10 });
    await feed.start();
    const seen: number[] = [];
    while (seen.length < 400) {
      await feed.wait();
      expect(feed.error).toBeUndefined();
      for (const m of feed.take(7)) seen.push(m.seq);
      // A slow reader: the feed pauses and resumes many times.
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    await feed.close();
    expect(seen).toEqual(Array.from({ length: 400 }, (_, i) => 101 + i));
    // Paused at 40; a pull of 10 already on its way may come on top.
    expect(feed.maxQueued).toBeGreaterThanOrEqual(40);
    expect(feed.maxQueued).toBeLessThanOrEqual(50);
  });

  it('ends once stopped and taken empty, and refuses bounds that make no sense', async () => {
    const feed = new OrderedFeed(js, STREAM, 1, { high: 1000, low: 10 });
    await feed.start();
    await feed.wait();
    feed.stop();
    while (feed.size > 0) feed.take(100);
    expect(feed.ended).toBe(true);
    await feed.wait(); // returns at once: ended
    await feed.close();
    expect(() => new OrderedFeed(js, STREAM, 1, { high: 5, low: 5 })).toThrow(/high \(5\) must be above low \(5\)/);
  });
});
