import { describe, expect, it } from 'vitest';
import { useTestServer } from './helpers.ts';
import type { SocketResponse } from './helpers.ts';

/** Response headers a DMF response may carry; anything else could identify or track. */
const ALLOWED_HEADERS = new Set(['content-type', 'content-length', 'date', 'connection', 'keep-alive', 'allow', 'retry-after']);

const server = useTestServer({ rateLimit: { max: 10_000 } }, (app) => {
  app.get('/seen', async (request) => ({
    cookieHeader: 'cookie' in request.headers,
    rawCookie: request.raw.rawHeaders.some((name) => name.toLowerCase() === 'cookie'),
    distinctCookie: 'cookie' in request.raw.headersDistinct,
  }));
  app.get('/sets-cookies', async (_request, reply) => {
    reply.header('set-cookie', ['session=abc; HttpOnly', 'track=1']);
    reply.raw.setHeader('Set-Cookie', 'raw=1');
    return { ok: true };
  });
  app.get('/sets-cookie-then-fails', async (_request, reply) => {
    reply.header('set-cookie', 'session=abc');
    throw new Error('after setting a cookie');
  });
});

const get = (path: string, headers: Record<string, string> = {}, localAddress?: string): Promise<SocketResponse> =>
  server.request({ path, headers, ...(localAddress === undefined ? {} : { localAddress }) });

/** Headers without the clock. */
function comparable(response: SocketResponse): Record<string, unknown> {
  const { date: _date, ...rest } = response.headers;
  return rest;
}

describe('cookies', () => {
  it('a request with cookies is served exactly as one without', async () => {
    const without = await get('/seen');
    const withCookies = await get('/seen', { cookie: 'session=abc; track=xyz' });
    expect(JSON.parse(withCookies.body)).toEqual({ cookieHeader: false, rawCookie: false, distinctCookie: false });
    expect(withCookies.status).toBe(without.status);
    expect(withCookies.body).toBe(without.body);
    expect(comparable(withCookies)).toEqual(comparable(without));
  });

  it('no Set-Cookie leaves, however a handler sets it', async () => {
    const response = await get('/sets-cookies');
    expect(response.status).toBe(200);
    expect(response.headers['set-cookie']).toBeUndefined();
    const failed = await get('/sets-cookie-then-fails');
    expect(failed.status).toBe(500);
    expect(failed.headers['set-cookie']).toBeUndefined();
  });
});

describe('no tracking headers', () => {
  it('responses carry only neutral headers: no request id, rate-limit state, server or powered-by', async () => {
    const responses = await Promise.all([
      get('/healthz'),
      get('/seen', { cookie: 'a=b', 'x-request-id': 'client-chosen' }),
      get('/nowhere'),
      get('/openapi.json'),
      server.request({ path: '/healthz', method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }),
    ]);
    for (const response of responses) {
      for (const name of Object.keys(response.headers)) {
        expect(ALLOWED_HEADERS.has(name), `unexpected header ${name}`).toBe(true);
      }
    }
  });

  it('responses do not vary with the client address', async () => {
    const a = await get('/healthz', {}, '127.0.0.1');
    const b = await get('/healthz', {}, '127.0.0.3');
    expect(b.body).toBe(a.body);
    expect(comparable(b)).toEqual(comparable(a));
  });
});
