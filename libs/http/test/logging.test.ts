import { describe, expect, it } from 'vitest';
import { Type } from '@sinclair/typebox';
import { capturedLogger, useTestServer } from './helpers.ts';

// The client connects from 127.0.0.2; the server listens on 127.0.0.1 (and may log its own address).
const CLIENT_ADDRESS = '127.0.0.2';
const USER_AGENT = 'SecretAgent/7.1 (tracking-me)';
const SECRETS = [
  CLIENT_ADDRESS,
  'SecretAgent',
  'tracking-me',
  'query-needle',
  'cookie-needle',
  'param-needle',
  'path-needle',
  'forwarded-needle',
  'referer-needle',
  'body-needle',
];

const logs = capturedLogger();
const server = useTestServer({ logger: logs.logger, rateLimit: { max: 5 } }, (app) => {
  app.get('/items/:id', { schema: { params: Type.Object({ id: Type.String() }) } }, async (req) => {
    // A handler that logs the request object gets only method and route.
    req.log.info({ req }, 'handler saw a request');
    return { id: req.params.id };
  });
  app.post('/items', { schema: { body: Type.Object({ n: Type.Integer() }) } }, async () => ({ ok: true }));
  app.get('/fail', async () => {
    throw new Error('internal failure');
  });
});

const send = (path: string, method = 'GET', body?: string) =>
  server.request({
    path,
    method,
    localAddress: CLIENT_ADDRESS,
    headers: {
      'user-agent': USER_AGENT,
      cookie: 'sid=cookie-needle',
      'x-forwarded-for': 'forwarded-needle',
      referer: 'https://referer-needle.example/',
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body }),
  });

describe('logs say what the server did, never who asked', () => {
  it('one line per request: method, route pattern, status, duration; nothing about the client', async () => {
    const responses = [
      await send('/items/param-needle?q=query-needle'),
      await send('/path-needle?q=query-needle'),
      await send('/items', 'POST', '{"n":"body-needle"}'),
      await send('/items', 'POST', '{"n":'),
      await send('/fail?q=query-needle'),
      await send('/items/param-needle'), // the 6th request from the bucket: 429
    ];
    expect(responses.map((r) => r.status)).toEqual([200, 404, 400, 400, 500, 429]);

    const records = logs.records();
    const requestLines = records.filter((r) => r['msg'] === 'request');
    expect(requestLines.map((r) => [r['method'], r['route'], r['status']])).toEqual([
      ['GET', '/items/:id', 200],
      ['GET', '(unmatched)', 404],
      ['POST', '/items', 400],
      ['POST', '/items', 400],
      ['GET', '/fail', 500],
      ['GET', '/items/:id', 429],
    ]);
    for (const line of requestLines) {
      expect(typeof line['durationMs']).toBe('number');
      expect(line['sub']).toBe('http');
      expect(line).not.toHaveProperty('reqId');
    }

    const handlerLine = records.find((r) => r['msg'] === 'handler saw a request');
    expect(handlerLine?.['req']).toEqual({ method: 'GET', route: '/items/:id' });

    // The unexpected error is logged, with its stack, server-side.
    expect(records.some((r) => r['msg'] === 'request failed' && JSON.stringify(r['err']).includes('internal failure'))).toBe(true);

    const text = logs.text();
    for (const secret of SECRETS) expect(text, `log contains ${secret}`).not.toContain(secret);
    expect(text).not.toMatch(/remoteAddress|remotePort|userAgent|user-agent|hostname":"127/);
  });
});
