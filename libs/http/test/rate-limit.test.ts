import { describe, expect, it } from 'vitest';
import { routeRateLimit } from '../src/rate-limit.ts';
import { problemType } from '../src/problem.ts';
import { useTestServer } from './helpers.ts';
import type { SocketResponse } from './helpers.ts';

// Linux routes all of 127.0.0.0/8 to loopback, so clients can bind distinct source
// addresses: 127.0.0.x share one /24 bucket, 127.0.y.1 (y ≠ 0) are other buckets.
const MAX = 3;

const server = useTestServer({ rateLimit: { max: MAX, timeWindowMs: 60_000 } }, (app) => {
  app.get('/read', async () => ({ ok: true }));
  app.post('/write', { config: routeRateLimit({ max: 1, timeWindowMs: 60_000 }) }, async () => ({ ok: true }));
  app.get('/unlimited', { config: routeRateLimit(false) }, async () => ({ ok: true }));
});

const from = (localAddress: string, path = '/read', method = 'GET'): Promise<SocketResponse> =>
  server.request({
    path,
    localAddress,
    method,
    ...(method === 'POST' ? { headers: { 'content-type': 'application/json' }, body: '{}' } : {}),
  });

function expectNoRateLimitHeaders(response: SocketResponse): void {
  for (const name of Object.keys(response.headers)) expect(name).not.toMatch(/ratelimit/i);
}

describe('rate limiting by subnet bucket, over real sockets', () => {
  it('throttles a bucket after max requests (429 problem, Retry-After), shared by its /24 only', async () => {
    for (let i = 0; i < MAX; i += 1) {
      const ok = await from('127.0.0.1');
      expect(ok.status).toBe(200);
      expectNoRateLimitHeaders(ok);
      expect(ok.headers['retry-after']).toBeUndefined();
    }
    const limited = await from('127.0.0.1');
    expect(limited.status).toBe(429);
    expect(limited.headers['content-type']).toMatch(/^application\/problem\+json/);
    const retryAfter = Number(limited.headers['retry-after']);
    expect(Number.isInteger(retryAfter)).toBe(true);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expectNoRateLimitHeaders(limited);
    const problem = JSON.parse(limited.body) as Record<string, unknown>;
    expect(problem['type']).toBe(problemType('rate-limited'));
    expect(problem['status']).toBe(429);
    expect(String(problem['detail'])).toMatch(/retry after \d+ s/);
    expect(limited.body).not.toContain('127.0.0');

    // Another address in the same /24 shares the exhausted bucket...
    expect((await from('127.0.0.2')).status).toBe(429);
    // ...while an address in another /24 has its own.
    expect((await from('127.0.1.1')).status).toBe(200);
  });

  it('unknown paths count against the bucket too', async () => {
    const first = await from('127.0.2.1', '/nowhere');
    expect(first.status).toBe(404);
    for (let i = 1; i < MAX; i += 1) expect((await from('127.0.2.1', '/nowhere')).status).toBe(404);
    const limited = await from('127.0.2.1', '/nowhere');
    expect(limited.status).toBe(429);
    expect(limited.headers['retry-after']).toBeDefined();
  });

  it('a route can set a tighter limit of its own, counted apart from the global one', async () => {
    expect((await from('127.0.3.1', '/write', 'POST')).status).toBe(200);
    const second = await from('127.0.3.2', '/write', 'POST');
    expect(second.status).toBe(429);
    // The global read budget of the bucket is untouched by the write limit.
    expect((await from('127.0.3.1', '/read')).status).toBe(200);
  });

  it('ignores X-Forwarded-For by default (trustProxy false): a client cannot pick its bucket', async () => {
    for (let i = 0; i < MAX; i += 1) {
      const ok = await server.request({ path: '/read', localAddress: '127.0.5.1', headers: { 'x-forwarded-for': `198.51.${i}.1` } });
      expect(ok.status).toBe(200);
    }
    const limited = await server.request({ path: '/read', localAddress: '127.0.5.1', headers: { 'x-forwarded-for': '203.0.113.9' } });
    expect(limited.status).toBe(429);
  });

  it('a route can opt out', async () => {
    for (let i = 0; i < MAX + 2; i += 1) expect((await from('127.0.4.1', '/unlimited')).status).toBe(200);
  });
});
