import { describe, expect, it } from 'vitest';
import type { FastifyRequest } from 'fastify';
import { createBucketHasher } from '../src/bucket-hasher.ts';
import { rateLimitPluginOptions, routeRateLimit } from '../src/rate-limit.ts';

describe('createBucketHasher', () => {
  it('gives every address of one bucket the same key, and other buckets other keys', () => {
    const hasher = createBucketHasher();
    const key = hasher.keyFor('192.0.2.1');
    expect(key).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(hasher.keyFor('192.0.2.254')).toBe(key);
    expect(hasher.keyFor('::ffff:192.0.2.77')).toBe(key);
    expect(hasher.keyFor('192.0.3.1')).not.toBe(key);
    expect(hasher.keyFor('2001:db8:1:2::1')).toBe(hasher.keyFor('2001:db8:1:ffff::9'));
    expect(hasher.keyFor('2001:db8:1::1')).not.toBe(hasher.keyFor('2001:db8:2::1'));
  });

  it('keys carry nothing of the address', () => {
    const hasher = createBucketHasher();
    const key = hasher.keyFor('192.0.2.1');
    expect(key).not.toContain('192');
    expect(Buffer.from(key, 'base64url').toString('latin1')).not.toContain('192.0.2');
  });

  it('uses a random salt: two hashers (two processes) give unrelated keys', () => {
    expect(createBucketHasher().keyFor('192.0.2.1')).not.toBe(createBucketHasher().keyFor('192.0.2.1'));
  });

  it('rotates the salt after saltRotationMs, and not before', () => {
    let now = 1_000_000;
    const hasher = createBucketHasher({ saltRotationMs: 60_000, now: () => now });
    const first = hasher.keyFor('192.0.2.1');
    now += 59_999;
    expect(hasher.keyFor('192.0.2.1')).toBe(first);
    now += 1;
    const second = hasher.keyFor('192.0.2.1');
    expect(second).not.toBe(first);
    // Within the new period the key is stable again, and buckets still group.
    expect(hasher.keyFor('192.0.2.200')).toBe(second);
    // A clock stepping backwards also rotates (never reuse a salt across a clock jump).
    now -= 10;
    expect(hasher.keyFor('192.0.2.1')).not.toBe(second);
  });

  it('maps unparseable addresses to one shared bucket instead of failing the request', () => {
    const hasher = createBucketHasher();
    expect(hasher.keyFor('')).toBe(hasher.keyFor('not an address'));
    expect(hasher.keyFor('')).not.toBe(hasher.keyFor('192.0.2.1'));
  });

  it('refuses a salt lifetime that is not a positive integer', () => {
    expect(() => createBucketHasher({ saltRotationMs: 0 })).toThrow(/saltRotationMs/);
    expect(() => createBucketHasher({ saltRotationMs: 1.5 })).toThrow(/saltRotationMs/);
  });
});

describe('rate-limit key generator', () => {
  const keyOf = (generator: (r: FastifyRequest) => unknown, ip: string): unknown =>
    generator({ ip } as FastifyRequest);

  it('keys requests by hashed subnet bucket: one /24 or /48 shares, neighbours do not', () => {
    const { keyGenerator } = rateLimitPluginOptions();
    if (keyGenerator === undefined) throw new Error('keyGenerator missing');
    expect(keyOf(keyGenerator, '127.0.0.1')).toBe(keyOf(keyGenerator, '127.0.0.2'));
    expect(keyOf(keyGenerator, '127.0.0.1')).toBe(keyOf(keyGenerator, '::ffff:127.0.0.99'));
    expect(keyOf(keyGenerator, '127.0.0.1')).not.toBe(keyOf(keyGenerator, '127.0.1.1'));
    expect(keyOf(keyGenerator, '2001:db8:5::1')).toBe(keyOf(keyGenerator, '2001:db8:5:abcd::2'));
    expect(keyOf(keyGenerator, '2001:db8:5::1')).not.toBe(keyOf(keyGenerator, '2001:db8:6::1'));
  });

  it('sends no X-RateLimit headers, only Retry-After on a 429', () => {
    const options = rateLimitPluginOptions();
    expect(options.addHeaders).toEqual({
      'x-ratelimit-limit': false,
      'x-ratelimit-remaining': false,
      'x-ratelimit-reset': false,
      'retry-after': true,
    });
    expect(Object.values(options.addHeadersOnExceeding ?? {}).every((v) => v === false)).toBe(true);
    expect(options.redis).toBeUndefined();
  });

  it('defaults let a script read 100 times a second and throttle thousands a minute', () => {
    const { max, timeWindow } = rateLimitPluginOptions();
    const perSecond = (max as number) / ((timeWindow as number) / 1000);
    expect(perSecond).toBeGreaterThanOrEqual(100);
    expect(perSecond * 60).toBeLessThan(10_000);
  });

  it('validates limits', () => {
    expect(() => rateLimitPluginOptions({ max: -1 })).toThrow(/rateLimit.max/);
    expect(() => rateLimitPluginOptions({ timeWindowMs: 0 })).toThrow(/rateLimit.timeWindowMs/);
    expect(() => routeRateLimit({ max: 5, timeWindowMs: 1.5 })).toThrow(/timeWindowMs/);
    expect(routeRateLimit({ max: 5, timeWindowMs: 60_000 })).toEqual({ rateLimit: { max: 5, timeWindow: 60_000 } });
    expect(routeRateLimit(false)).toEqual({ rateLimit: false });
  });
});
