import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ClientError, createClient, type ClientOptions, type DmfClient } from '../src/mod.ts';
import { answer, deadUrl, echo, redirect, refusal, useBench } from './support.ts';

const bench = useBench({ allow: ['127.0.0.1/32'] });
const { startNode, server, client } = bench;

function json(body: Uint8Array): Record<string, unknown> {
  return JSON.parse(Buffer.from(body).toString('utf8')) as Record<string, unknown>;
}

describe('call', () => {
  it('verifies the chain, then calls the service entrypoint', async () => {
    const node = await startNode();
    const response = await client().call({ node: node.url, serviceType: 'federation' }, { method: 'GET', path: '/echo?q=sea' });
    expect(response.status).toBe(200);
    expect(json(response.body)).toEqual({ method: 'GET', path: '/api/echo?q=sea', body: '' });
    expect(response.url).toBe(`${node.url}/api/echo?q=sea`);
    expect(response.node.manifest.node_id).toBe(node.key.did);
    expect(response.attempts.map((a) => [a.url, a.result])).toEqual([
      [`${node.url}/.well-known/dmf/node`, 'answered'],
      [`${node.url}/.well-known/dmf/services`, 'answered'],
      [`${node.url}/api/echo?q=sea`, 'answered'],
    ]);
    const call = node.server.requests.at(-1);
    expect(call?.headers['user-agent']).toBe('dmf-client/0.1.0');
    expect(call?.headers['cookie']).toBeUndefined();
  });

  it('sends a body as JSON unless told otherwise, and returns 4xx answers as they are', async () => {
    const node = await startNode();
    node.api('/api/refuse', answer(422, { type: 'about:blank', detail: 'title: too long' }, { 'content-type': 'application/problem+json' }));
    const dmf = client();
    const posted = await dmf.call({ node: node.url }, { method: 'POST', path: '/echo', body: '{"a":1}', headers: { 'x-dmf-test': 'yes' } });
    expect(json(posted.body)).toEqual({ method: 'POST', path: '/api/echo', body: '{"a":1}' });
    const seen = node.server.requests.at(-1);
    expect(seen?.headers['content-type']).toBe('application/json');
    expect(seen?.headers['x-dmf-test']).toBe('yes');

    const refused = await dmf.call({ node: node.url }, { method: 'POST', path: '/refuse', body: '{}' });
    expect(refused.status).toBe(422);
    expect(refused.headers['content-type']).toBe('application/problem+json');
    expect(refused.attempts.at(-1)?.result).toBe('answered');
  });

  it('moves on from an entrypoint that is down to the next one', async () => {
    const node = await startNode();
    const down = await deadUrl(bench.tls);
    node.serveServices([node.serviceManifest({ entrypoints: [`${down}/api`, `${node.url}/api`] })]);
    const response = await client().call({ node: node.url, serviceType: 'federation' }, { method: 'GET', path: '/echo' });
    expect(response.status).toBe(200);
    expect(response.url).toBe(`${node.url}/api/echo`);
    const tried = response.attempts.slice(2);
    expect(tried).toHaveLength(2);
    expect(tried[0]).toMatchObject({ url: `${down}/api/echo`, result: 'unreachable' });
    expect(tried[0]?.detail).toContain('ECONNREFUSED');
    expect(tried[1]).toMatchObject({ url: `${node.url}/api/echo`, result: 'answered', status: 200 });
  });

  it('moves on from a 5xx and a timeout, and then tries the node mirrors', async () => {
    const node = await startNode();
    const failing = await server();
    failing.route('/api/echo', answer(503, { detail: 'overloaded' }));
    const silent = await server();
    silent.route('/api/echo', () => {}); // never answers
    const mirror = await server();
    mirror.route('/echo', echo);
    node.serveNode(node.nodeManifest({ mirrors: [mirror.url] }));
    node.serveServices([node.serviceManifest({ entrypoints: [`${failing.url}/api`, `${silent.url}/api`] })]);
    const response = await client({ timeoutMs: 500 }).call({ node: node.url, serviceType: 'federation' }, { method: 'GET', path: '/echo' });
    expect(response.url).toBe(`${mirror.url}/echo`);
    expect(response.attempts.slice(2).map((a) => [a.result, a.status, a.detail])).toEqual([
      ['unreachable', 503, 'answered 503'],
      ['unreachable', undefined, 'no complete answer within 500 ms'],
      ['answered', 200, 'answered 200'],
    ]);
  });

  it('refuses an entrypoint on an address outside the policy and uses the next', async () => {
    const node = await startNode();
    const other = await server('127.0.0.2');
    other.route('/api/echo', echo);
    node.serveServices([node.serviceManifest({ entrypoints: [`${other.url}/api`, `${node.url}/api`] })]);
    const response = await client({ allow: ['127.0.0.1/32'] }).call({ node: node.url }, { method: 'GET', path: '/echo' });
    expect(response.url).toBe(`${node.url}/api/echo`);
    expect(response.attempts[2]).toMatchObject({ url: `${other.url}/api/echo`, result: 'address.refused' });
    expect(other.connections()).toBe(0);

    // Allowed, the same entrypoint is the one that answers.
    const allowed = await client({ allow: ['127.0.0.0/8'] }).call({ node: node.url }, { method: 'GET', path: '/echo' });
    expect(allowed.url).toBe(`${other.url}/api/echo`);
  });

  it('refuses an entrypoint redirect to a disallowed address', async () => {
    const node = await startNode();
    const other = await server('127.0.0.2');
    other.route('/api/echo', echo);
    node.api('/api/echo', redirect(`${other.url}/api/echo`, 307));
    const error = await refusal(client({ allow: ['127.0.0.1/32'] }).call({ node: node.url }, { method: 'GET', path: '/echo' }));
    expect(error.code).toBe('address.refused');
    expect(error.attempts.at(-1)?.detail).toContain(`${other.url}/api/echo`);
    expect(other.connections()).toBe(0);
  });

  it('throws unreachable, listing every attempt, when nothing answers', async () => {
    const node = await startNode();
    const [a, b, mirror] = [await deadUrl(bench.tls), await deadUrl(bench.tls), await deadUrl(bench.tls)];
    node.serveNode(node.nodeManifest({ mirrors: [mirror] }));
    node.serveServices([node.serviceManifest({ entrypoints: [`${a}/api`, `${b}/api`] })]);
    const error = await refusal(client().call({ node: node.url, serviceType: 'federation' }, { method: 'GET', path: '/echo' }));
    expect(error.code).toBe('unreachable');
    expect(error.message).toMatch(new RegExp(`^unreachable: ${node.url}: no URL of service type federation answered \\(5 requests; last: `));
    expect(error.attempts.map((attempt) => [attempt.url, attempt.result])).toEqual([
      [`${node.url}/.well-known/dmf/node`, 'answered'],
      [`${node.url}/.well-known/dmf/services`, 'answered'],
      [`${a}/api/echo`, 'unreachable'],
      [`${b}/api/echo`, 'unreachable'],
      [`${mirror}/echo`, 'unreachable'],
    ]);
  });

  it('refuses to call a node whose chain does not verify, before touching its service', async () => {
    const node = await startNode();
    node.serveServices([node.serviceManifest({ schemaSha256: '00'.repeat(32) })]);
    const error = await refusal(client({ checkSchemas: true }).call({ node: node.url }, { method: 'GET', path: '/echo' }));
    expect(error.code).toBe('schema.mismatch');
    expect(node.server.requests.map((r) => r.path)).not.toContain('/api/echo');
    // The per-call switch overrides the client's.
    const unchecked = await client({ checkSchemas: true }).call({ node: node.url }, { method: 'GET', path: '/echo', checkSchemas: false });
    expect(unchecked.status).toBe(200);
  });

  it('says service.not_offered when the node has no service of the type', async () => {
    const node = await startNode();
    const error = await refusal(client().call({ node: node.url, serviceType: 'metadata_index' }, { method: 'GET', path: '/echo' }));
    expect(error.code).toBe('service.not_offered');
    expect(error.reason).toContain('offers: federation');
  });

  it('goes through a list of nodes until one verifies and answers', async () => {
    const expired = await startNode();
    expired.serveNode(expired.nodeManifest({ issuedAt: new Date(Date.now() - 3 * 86_400_000), expiresAt: new Date(Date.now() - 1000) }));
    const good = await startNode();
    const response = await client().call({ serviceType: 'federation', nodes: [expired.url, good.url] }, { method: 'GET', path: '/echo' });
    expect(response.node.manifest.node_id).toBe(good.key.did);
    expect(response.attempts[0]).toMatchObject({ url: `${expired.url}/.well-known/dmf/node`, result: 'manifest.expired' });

    // All failing the same way: that failure's code; in different ways: unreachable.
    const sameWay = await refusal(client().call({ serviceType: 'federation', nodes: [expired.url, expired.url] }, { method: 'GET', path: '/echo' }));
    expect(sameWay.code).toBe('manifest.expired');
    expect(sameWay.attempts).toHaveLength(2);
    const down = await deadUrl(bench.tls);
    const mixed = await refusal(client().call({ serviceType: 'federation', nodes: [expired.url, down] }, { method: 'GET', path: '/echo' }));
    expect(mixed.code).toBe('unreachable');
    expect(mixed.attempts.map((a) => a.result)).toEqual(['manifest.expired', 'unreachable']);
  });

  it('refuses a bad request before any network traffic', async () => {
    const node = await startNode();
    const dmf = client();
    const cases: [Parameters<DmfClient['call']>[1], RegExp][] = [
      [{ method: 'GET', path: '/echo', headers: { Cookie: 'id=1' } }, /^request\.invalid: headers\.cookie: may not be set/],
      [{ method: 'GET', path: '//evil.example/x' }, /^request\.invalid: path: /],
      [{ method: 'CONNECT', path: '/echo' }, /^request\.invalid: method: /],
      [{ method: 'GET', path: '/echo', body: 'x' }, /^request\.invalid: body: /],
    ];
    for (const [request, message] of cases) {
      const error = await refusal(dmf.call({ node: node.url }, request));
      expect(error.code).toBe('request.invalid');
      expect(error.message).toMatch(message);
    }
    expect((await refusal(dmf.call({ serviceType: 'federation', nodes: [] }, { method: 'GET', path: '/echo' }))).code).toBe('request.invalid');
    expect(node.server.connections()).toBe(0);
  });

  it('refuses an oversize service answer', async () => {
    const node = await startNode();
    node.api('/api/big', answer(200, 'z'.repeat(5000)));
    const error = await refusal(client({ maxResponseBytes: 4096 }).call({ node: node.url }, { method: 'GET', path: '/big' }));
    expect(error.code).toBe('response.too_large');
    expect(error.attempts.at(-1)).toMatchObject({ url: `${node.url}/api/big`, result: 'response.too_large' });
  });

  it('refuses use after close, and close twice is fine', async () => {
    const node = await startNode();
    const dmf = createClient({ allow: ['127.0.0.1/32'], ca: bench.tls.ca });
    await dmf.fetchVerifiedNode(node.url);
    await dmf.close();
    await dmf.close();
    expect((await refusal(dmf.call({ node: node.url }, { method: 'GET', path: '/echo' }))).code).toBe('client.closed');
  });
});
