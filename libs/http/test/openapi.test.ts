import { describe, expect, it } from 'vitest';
import { Type } from '@sinclair/typebox';
import { useTestServer } from './helpers.ts';

type Json = Record<string, unknown>;

const server = useTestServer({ info: { title: 'DMF metadata node', version: '1.2.3', description: 'test' } }, (app) => {
  app.post(
    '/manifests',
    {
      schema: {
        summary: 'Publish a content manifest',
        body: Type.Object({ title: Type.String({ maxLength: 200 }) }, { additionalProperties: false }),
        response: { 201: Type.Object({ id: Type.String() }) },
      },
    },
    async (_request, reply) => {
      reply.code(201);
      return { id: 'x' };
    },
  );
  app.get(
    '/manifests/:id',
    { schema: { params: Type.Object({ id: Type.String({ format: 'uuid' }) }), response: { 404: Type.Object({}) } } },
    async (request) => ({ id: request.params.id }),
  );
});

/** Every `$ref` in the document points at something that exists in it. */
function danglingRefs(document: Json): string[] {
  const dangling: string[] = [];
  const resolve = (ref: string): unknown =>
    ref
      .replace(/^#\//, '')
      .split('/')
      .reduce<unknown>((node, key) => (node as Json | undefined)?.[key.replace(/~1/g, '/').replace(/~0/g, '~')], document);
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (typeof node === 'object' && node !== null) {
      for (const [key, value] of Object.entries(node)) {
        if (key === '$ref' && typeof value === 'string' && (!value.startsWith('#/') || resolve(value) === undefined)) {
          dangling.push(value);
        }
        walk(value);
      }
    }
  };
  walk(document);
  return dangling;
}

describe('GET /openapi.json', () => {
  it('serves an OpenAPI 3.1 document built from the route schemas', async () => {
    const response = await server.request({ path: '/openapi.json' });
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    const document = JSON.parse(response.body) as Json;

    expect(document['openapi']).toMatch(/^3\.1\.\d+$/);
    expect(document['info']).toEqual({ title: 'DMF metadata node', version: '1.2.3', description: 'test' });
    expect(danglingRefs(document)).toEqual([]);

    const paths = document['paths'] as Record<string, Record<string, Json>>;
    expect(Object.keys(paths).sort()).toEqual(['/healthz', '/manifests', '/manifests/{id}']);
    for (const [path, operations] of Object.entries(paths)) {
      expect(path.startsWith('/')).toBe(true);
      for (const operation of Object.values(operations)) {
        expect(Object.keys(operation['responses'] as Json).length).toBeGreaterThan(0);
      }
    }

    const publish = paths['/manifests']?.['post'] as Json;
    expect(publish['summary']).toBe('Publish a content manifest');
    const bodySchema = (publish['requestBody'] as Json & { content: Record<string, { schema: Json }> }).content[
      'application/json'
    ]?.schema;
    expect(bodySchema).toMatchObject({
      type: 'object',
      additionalProperties: false,
      required: ['title'],
      properties: { title: { type: 'string', maxLength: 200 } },
    });
    const responses = publish['responses'] as Record<string, Json>;
    expect(Object.keys(responses).sort()).toEqual(['201', '4XX', '5XX']);
    expect(responses['4XX']).toMatchObject({
      content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/DmfProblem' } } },
    });

    // A route's own 404 documentation does not hide the other client errors it can get.
    const read = paths['/manifests/{id}']?.['get'] as Json;
    expect(Object.keys(read['responses'] as Json).sort()).toEqual(['404', '4XX', '5XX']);
    expect((read['parameters'] as Json[])[0]).toMatchObject({ in: 'path', name: 'id', required: true });

    const problem = (document['components'] as Json & { schemas: Record<string, Json> }).schemas['DmfProblem'];
    expect(problem).toMatchObject({
      type: 'object',
      required: ['type', 'title', 'status', 'detail'],
    });
    expect(Object.keys(problem?.['properties'] as Json).sort()).toEqual(['detail', 'errors', 'status', 'title', 'type']);
  });

  it('GET /healthz answers { status: "ok" }', async () => {
    const response = await server.app.inject({ url: '/healthz' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ status: 'ok' });
  });
});

describe('GET /healthz with dependency checks', () => {
  let redisUp = true;
  let natsHangs = false;
  const checked = useTestServer({
    healthChecks: {
      nats: () => (natsHangs ? new Promise(() => undefined) : Promise.resolve()),
      redis: async () => {
        if (!redisUp) throw new Error('connect ECONNREFUSED 127.0.0.1:6379');
      },
    },
  });

  it('answers 200 with each check ok, and 503 naming the check that fails', async () => {
    const ok = await checked.app.inject({ url: '/healthz' });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toEqual({ status: 'ok', checks: { nats: 'ok', redis: 'ok' } });
    redisUp = false;
    const down = await checked.app.inject({ url: '/healthz' });
    expect(down.statusCode).toBe(503);
    expect(down.json()).toEqual({ status: 'unavailable', checks: { nats: 'ok', redis: 'connect ECONNREFUSED 127.0.0.1:6379' } });
    redisUp = true;
  });

  it('counts a check that takes over a second as failed', async () => {
    natsHangs = true;
    const started = Date.now();
    const hung = await checked.app.inject({ url: '/healthz' });
    natsHangs = false;
    expect(hung.statusCode).toBe(503);
    expect(hung.json()).toEqual({ status: 'unavailable', checks: { nats: 'no answer within 1000 ms', redis: 'ok' } });
    expect(Date.now() - started).toBeLessThan(3000);
  });
});
