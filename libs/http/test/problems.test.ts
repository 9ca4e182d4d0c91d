import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Type } from '@sinclair/typebox';
import type { LightMyRequestResponse } from 'fastify';
import { PROBLEM_KINDS, ProblemError, problemType } from '../src/problem.ts';
import { INTERNAL_ERROR_DETAIL, fieldError, pointerToPath, problemFromError } from '../src/error-mapping.ts';
import { capturedLogger, useTestServer } from './helpers.ts';

const Manifest = Type.Object(
  {
    title: Type.String({ minLength: 1, maxLength: 200 }),
    tags: Type.Array(Type.String({ maxLength: 20 }), { maxItems: 3 }),
    size: Type.Integer({ minimum: 0 }),
    chunks: Type.Optional(Type.Array(Type.Object({ cid: Type.String({ pattern: '^b[a-z2-7]+$' }) }))),
  },
  { additionalProperties: false },
);

const logs = capturedLogger();
const server = useTestServer({ logger: logs.logger, bodyLimit: 4096, rateLimit: { max: 1_000_000 } }, (app) => {
  app.post('/manifests', { schema: { body: Manifest } }, async (request, reply) => {
    reply.code(201);
    return { title: request.body.title };
  });
  app.get(
    '/manifests/:id',
    {
      schema: {
        params: Type.Object({ id: Type.String({ format: 'uuid' }) }),
        querystring: Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })) }),
      },
    },
    async (request) => ({ id: request.params.id, limit: request.query.limit ?? 10 }),
  );
  app.get('/conflict', async () => {
    throw new ProblemError({
      status: 409,
      slug: 'manifest-conflict',
      title: 'Manifest conflict',
      detail: 'seq: 3 is not greater than the current 4',
      headers: { 'retry-after': '5' },
    });
  });
  app.get('/unavailable', async () => {
    throw new ProblemError({ ...PROBLEM_KINDS.serviceUnavailable, detail: 'bus: not connected', cause: new Error('ECONNREFUSED') });
  });
  app.get('/boom', async () => {
    throw new Error('database password is hunter2');
  });
  app.get('/boom-sync', () => {
    throw new TypeError("Cannot read properties of undefined (reading 'x')");
  });
  app.get('/throw-string', async () => {
    // eslint-disable-next-line @typescript-eslint/only-throw-error
    throw 'a bare string with internals';
  });
  app.get('/upstream-5xx', async () => {
    throw Object.assign(new Error('upstream at 10.0.0.5 said no'), { statusCode: 502 });
  });
  app.get('/plain-4xx', async () => {
    throw Object.assign(new Error('that record is gone'), { statusCode: 410 });
  });
});

function problemOf(response: LightMyRequestResponse): Record<string, unknown> {
  expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
  const body = response.json<Record<string, unknown>>();
  expect(body['status']).toBe(response.statusCode);
  expect(typeof body['type']).toBe('string');
  expect(String(body['type'])).toMatch(/^https:\/\/dmf\.cwe\/problems\/[a-z0-9-]+$/);
  expect(typeof body['title']).toBe('string');
  expect(typeof body['detail']).toBe('string');
  return body;
}

const validManifest = { title: 'Album', tags: ['jazz'], size: 10 };

const post = (payload: unknown, headers: Record<string, string> = {}) =>
  server.app.inject({
    method: 'POST',
    url: '/manifests',
    payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
    headers: { 'content-type': 'application/json', ...headers },
  });

describe('validation problems name the field and the reason', () => {
  it('accepts a valid body', async () => {
    const response = await post(validManifest);
    expect(response.statusCode).toBe(201);
  });

  it('too long a string', async () => {
    const body = problemOf(await post({ ...validManifest, title: 'x'.repeat(201) }));
    expect(body['type']).toBe(problemType('validation-failed'));
    expect(body['detail']).toBe('body.title: must NOT have more than 200 characters');
    expect(body['errors']).toEqual([{ path: 'body.title', reason: 'must NOT have more than 200 characters' }]);
  });

  it('a missing member is named as the member', async () => {
    const body = problemOf(await post({ title: 'a', tags: [] }));
    expect(body['detail']).toBe('body.size: is required');
  });

  it('an unknown member is refused, not dropped', async () => {
    const body = problemOf(await post({ ...validManifest, admin: true }));
    expect(body['detail']).toBe('body.admin: is not allowed');
  });

  it('nested array items are named by index', async () => {
    const body = problemOf(await post({ ...validManifest, chunks: [{ cid: 'bafy' }, { cid: 'NOPE' }] }));
    expect(body['detail']).toBe('body.chunks[1].cid: must match pattern "^b[a-z2-7]+$"');
  });

  it('wrong types, arrays and nulls', async () => {
    expect(problemOf(await post({ ...validManifest, size: -1 }))['detail']).toBe('body.size: must be >= 0');
    expect(problemOf(await post({ ...validManifest, size: 1.5 }))['detail']).toBe('body.size: must be integer');
    expect(problemOf(await post({ ...validManifest, tags: ['a', 'b', 'c', 'd'] }))['detail']).toBe(
      'body.tags: must NOT have more than 3 items',
    );
    expect(problemOf(await post([1, 2]))['detail']).toBe('body: must be object');
    expect(problemOf(await post('null'))['detail']).toBe('body: must be object');
    expect(problemOf(await post('"text"'))['detail']).toBe('body: must be object');
  });

  it('path parameters and query strings', async () => {
    const badId = problemOf(await server.app.inject({ url: '/manifests/not-a-uuid' }));
    expect(badId['detail']).toBe('params.id: must match format "uuid"');
    const id = '0b5a6c2e-3f4d-4e5f-8a9b-0c1d2e3f4a5b';
    expect((await server.app.inject({ url: `/manifests/${id}?limit=5` })).json()).toEqual({ id, limit: 5 });
    const badLimit = problemOf(await server.app.inject({ url: `/manifests/${id}?limit=500` }));
    expect(badLimit['detail']).toBe('querystring.limit: must be <= 100');
    const wordLimit = problemOf(await server.app.inject({ url: `/manifests/${id}?limit=ten` }));
    expect(wordLimit['detail']).toBe('querystring.limit: must be integer');
  });

  it('odd member names are quoted, and long ones shortened', () => {
    expect(pointerToPath('/a~1b/0/c~0d/x y')).toBe('["a/b"][0]["c~d"]["x y"]');
    expect(pointerToPath('')).toBe('');
    const long = fieldError('body', {
      keyword: 'additionalProperties',
      instancePath: '',
      params: { additionalProperty: 'k'.repeat(5000) },
      message: 'must NOT have additional properties',
    });
    expect(long.path.length).toBeLessThan(120);
    expect(long.reason).toBe('is not allowed');
  });
});

describe('body and media problems', () => {
  it('malformed JSON is a 400 malformed-json problem', async () => {
    for (const text of ['{"title":', '{title: 1}', "{'a':1}", '{"a":1}}', 'nul', '\u0000', '{"a":1,}']) {
      const response = await post(text);
      expect(response.statusCode, text).toBe(400);
      expect(problemOf(response)['type']).toBe(problemType('malformed-json'));
    }
  });

  it('an empty JSON body is a 400 problem', async () => {
    const response = await post('');
    expect(response.statusCode).toBe(400);
    expect(problemOf(response)['type']).toBe(problemType('malformed-json'));
  });

  it('prototype poisoning is refused as a client error', async () => {
    const response = await post('{"__proto__":{"admin":true},"title":"a","tags":[],"size":1}');
    expect(response.statusCode).toBe(400);
    problemOf(response);
    const ctor = await post('{"constructor":{"prototype":{"admin":true}},"title":"a","tags":[],"size":1}');
    expect(ctor.statusCode).toBe(400);
    problemOf(ctor);
  });

  it('other media types are a 415 problem', async () => {
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml', 'image/png']) {
      const response = await post('title=a', { 'content-type': type });
      expect(response.statusCode, type).toBe(415);
      expect(problemOf(response)['type']).toBe(problemType('unsupported-media-type'));
    }
  });

  it('a body without content-type is a 415 problem', async () => {
    const response = await server.app.inject({ method: 'POST', url: '/manifests', payload: Buffer.from('{}') });
    expect(response.statusCode).toBe(415);
    problemOf(response);
  });

  it('a body over the limit is a 413 problem naming the limit', async () => {
    const response = await post({ ...validManifest, title: 'x'.repeat(5000) });
    expect(response.statusCode).toBe(413);
    const body = problemOf(response);
    expect(body['type']).toBe(problemType('payload-too-large'));
    expect(body['detail']).toBe('body: exceeds the limit of 4096 bytes');
  });

  it('a content-length that lies is a 4xx problem', async () => {
    const response = await server.app.inject({
      method: 'POST',
      url: '/manifests',
      payload: JSON.stringify(validManifest),
      headers: { 'content-type': 'application/json', 'content-length': '10000' },
    });
    expect(response.statusCode).toBeGreaterThanOrEqual(400);
    expect(response.statusCode).toBeLessThan(500);
    problemOf(response);
  });
});

describe('routing problems', () => {
  it('an unknown route is a 404 problem that does not echo the query', async () => {
    const response = await server.app.inject({ url: '/nowhere?token=abc' });
    expect(response.statusCode).toBe(404);
    const body = problemOf(response);
    expect(body['type']).toBe(problemType('not-found'));
    expect(body['detail']).toBe('url: no route for GET /nowhere');
  });

  it('a known route with another method is a 405 problem with Allow', async () => {
    const response = await server.app.inject({ method: 'DELETE', url: '/manifests' });
    expect(response.statusCode).toBe(405);
    expect(response.headers['allow']).toBe('POST');
    expect(problemOf(response)['type']).toBe(problemType('method-not-allowed'));
    const get = await server.app.inject({ method: 'PUT', url: '/healthz' });
    expect(get.statusCode).toBe(405);
    expect(get.headers['allow']).toBe('GET, HEAD');
  });

  it('bad URL encoding and over-long parameters are problems, before any route', async () => {
    const bad = await server.app.inject({ url: '/manifests/%zz' });
    expect(bad.statusCode).toBe(400);
    problemOf(bad);
    const long = await server.app.inject({ url: `/manifests/${'a'.repeat(500)}` });
    expect(long.statusCode).toBe(414);
    expect(problemOf(long)['type']).toBe(problemType('uri-too-long'));
  });
});

describe('thrown errors', () => {
  it('a ProblemError keeps its status, type, title, detail and headers', async () => {
    const response = await server.app.inject({ url: '/conflict' });
    expect(response.statusCode).toBe(409);
    expect(response.headers['retry-after']).toBe('5');
    expect(problemOf(response)).toEqual({
      type: 'https://dmf.cwe/problems/manifest-conflict',
      title: 'Manifest conflict',
      status: 409,
      detail: 'seq: 3 is not greater than the current 4',
    });
  });

  it('a 5xx ProblemError is sent as it is, its cause kept on the server', async () => {
    const response = await server.app.inject({ url: '/unavailable' });
    expect(response.statusCode).toBe(503);
    expect(problemOf(response)['detail']).toBe('bus: not connected');
    expect(response.body).not.toContain('ECONNREFUSED');
  });

  it('an unexpected error is a generic 500: no message, no stack', async () => {
    for (const url of ['/boom', '/boom-sync', '/throw-string', '/upstream-5xx']) {
      const response = await server.app.inject({ url });
      expect(response.statusCode, url).toBe(500);
      const body = problemOf(response);
      expect(body).toEqual({
        type: problemType('internal-error'),
        title: 'Internal server error',
        status: 500,
        detail: INTERNAL_ERROR_DETAIL,
      });
      for (const secret of ['hunter2', 'undefined', 'bare string', '10.0.0.5', 'at ', '.ts']) {
        expect(response.body, `${url} leaks ${secret}`).not.toContain(secret);
      }
    }
    // ...but the server log has it, with the stack.
    const failure = logs.records().find((r) => r['msg'] === 'request failed' && JSON.stringify(r).includes('hunter2'));
    expect(failure).toBeDefined();
    expect(JSON.stringify(failure)).toContain('stack');
    expect(failure?.['route']).toBe('/boom');
  });

  it('an error that carries a 4xx status stays a client error', async () => {
    const response = await server.app.inject({ url: '/plain-4xx' });
    expect(response.statusCode).toBe(410);
    expect(problemOf(response)['detail']).toBe('that record is gone');
  });
});

describe('ProblemError and the mapping', () => {
  it('refuses statuses and slugs that would break the contract', () => {
    const base = { title: 't', detail: 'd' };
    expect(() => new ProblemError({ ...base, status: 200, slug: 'ok' })).toThrow(/status/);
    expect(() => new ProblemError({ ...base, status: 404.5, slug: 'x' })).toThrow(/status/);
    expect(() => new ProblemError({ ...base, status: 400, slug: 'Not Kebab' })).toThrow(/slug/);
    expect(() => new ProblemError({ ...base, status: 400, slug: '-x' })).toThrow(/slug/);
  });

  it('maps anything thrown to a problem', () => {
    for (const thrown of [null, undefined, 42, 'text', {}, [], new Error('x'), Object.assign(new Error('x'), { statusCode: 'bad' })]) {
      const { problem, internal } = problemFromError(thrown);
      expect(problem.status).toBe(500);
      expect(internal).toBe(true);
    }
    const problem = new ProblemError({ ...PROBLEM_KINDS.conflict, detail: 'x' });
    expect(problemFromError(problem).problem).toBe(problem);
    expect(problemFromError(Object.assign(new Error('x'), { statusCode: 499 })).problem.status).toBe(499);
  });
});

describe('no client mistake becomes a 500 (fuzz)', () => {
  it('random methods, paths, media types and bodies get 2xx or a 4xx problem', async () => {
    const method = fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD');
    const path = fc.oneof(
      fc.constantFrom('/manifests', '/healthz', '/openapi.json', '/manifests/0b5a6c2e-3f4d-4e5f-8a9b-0c1d2e3f4a5b'),
      fc.webPath().map((p) => (p.startsWith('/') ? p : `/${p}`)),
      fc.string({ maxLength: 40 }).map((s) => `/manifests/${encodeURIComponent(s)}`),
      fc.string({ maxLength: 20 }).map((s) => `/manifests?${s}`),
    );
    const contentType = fc.constantFrom(
      undefined,
      'application/json',
      'application/json; charset=utf-8',
      'application/json; charset=latin1',
      'text/plain',
      'application/octet-stream',
      '',
      ';;;',
      'application/problem+json',
    );
    const body = fc.oneof(
      fc.json(),
      fc.string({ maxLength: 200 }),
      fc.jsonValue().map((v) => JSON.stringify({ ...validManifest, extra: v })),
      fc.record({ title: fc.string(), tags: fc.array(fc.string()), size: fc.oneof(fc.integer(), fc.double(), fc.string()) }).map((v) =>
        JSON.stringify(v),
      ),
      fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes).toString('latin1')),
    );
    await fc.assert(
      fc.asyncProperty(method, path, contentType, body, async (m, p, ct, b) => {
        const withBody = m !== 'GET' && m !== 'HEAD';
        const response = await server.app.inject({
          method: m as 'GET',
          url: p,
          ...(withBody ? { payload: b } : {}),
          headers: ct === undefined ? {} : { 'content-type': ct },
        });
        expect(response.statusCode, `${m} ${p} ${String(ct)} ${b}`).toBeLessThan(500);
        if (response.statusCode >= 400 && m !== 'HEAD') {
          expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
          const problem = response.json<Record<string, unknown>>();
          expect(problem['status']).toBe(response.statusCode);
        }
      }),
      { numRuns: 400 },
    );
  });
});
