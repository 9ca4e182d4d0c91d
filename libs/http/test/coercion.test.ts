import { describe, expect, it } from 'vitest';
import { Type } from '@sinclair/typebox';
import { useTestServer } from './helpers.ts';

describe('type coercion', () => {
  const server = useTestServer({}, (app) => {
    app.post(
      '/things',
      { schema: { body: Type.Object({ size: Type.Integer({ minimum: 1 }), tags: Type.Array(Type.String()) }, { additionalProperties: false }) } },
      async (request) => request.body,
    );
    app.get('/things', { schema: { querystring: Type.Object({ limit: Type.Integer({ minimum: 1, maximum: 100 }) }) } }, async (request) => request.query);
  });

  it('takes a query parameter as the integer its schema asks for', async () => {
    const answer = await server.app.inject({ url: '/things?limit=20' });
    expect(answer.statusCode).toBe(200);
    expect(answer.json()).toEqual({ limit: 20 });
  });

  it('refuses a JSON body whose member has the wrong type, naming it, instead of converting it', async () => {
    const asText = await server.app.inject({ method: 'POST', url: '/things', payload: { size: '5000', tags: ['a'] } });
    expect(asText.statusCode).toBe(400);
    expect(asText.json()).toMatchObject({ errors: [{ path: 'body.size' }] });
    const scalarForArray = await server.app.inject({ method: 'POST', url: '/things', payload: { size: 5000, tags: 'a' } });
    expect(scalarForArray.statusCode).toBe(400);
    expect(scalarForArray.json()).toMatchObject({ errors: [{ path: 'body.tags' }] });
    const right = await server.app.inject({ method: 'POST', url: '/things', payload: { size: 5000, tags: ['a'] } });
    expect(right.statusCode).toBe(200);
    expect(right.json()).toEqual({ size: 5000, tags: ['a'] });
  });
});
