/**
 * The SSRF guard and the fetch limits over real sockets: refused addresses never see a
 * connection, redirects are re-checked, names are checked on their DNS answers at
 * connect time, bodies are capped, exchanges time out, TLS is verified.
 */
import type { LookupAddress } from 'node:dns';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ClientError, createClient, type ClientOptions, type DmfClient, type ResolveAll } from '../src/mod.ts';
import { answer, createTestTls, redirect, refusal, useBench } from './support.ts';

const bench = useBench();
const { startNode, server, client } = bench;

/** A resolver that answers every name with one address (a DNS server the attacker runs). */
function resolveTo(address: string): ResolveAll {
  return (_hostname, _options, callback) => callback(null, [{ address, family: address.includes(':') ? 6 : 4 } satisfies LookupAddress]);
}

describe('address policy', () => {
  it('refuses a node on loopback by default, without connecting, and allows it with 127.0.0.1/32', async () => {
    const node = await startNode();
    const error = await refusal(client().fetchVerifiedNode(node.url));
    expect(error.code).toBe('address.refused');
    expect(error.reason).toContain('127.0.0.1 is loopback');
    expect(node.server.connections()).toBe(0);

    const verified = await client({ allow: ['127.0.0.1/32'] }).fetchVerifiedNode(node.url);
    expect(verified.manifest.node_id).toBe(node.key.did);
    expect(node.server.connections()).toBeGreaterThan(0);
  });

  it('refuses an IPv6 loopback node unless ::1 is allowed', async () => {
    const node = await startNode('::1');
    expect((await refusal(client({ allow: ['127.0.0.0/8'] }).fetchVerifiedNode(node.url))).code).toBe('address.refused');
    expect(node.server.connections()).toBe(0);
    expect((await client({ allow: ['::1/128'] }).fetchVerifiedNode(node.url)).manifest.node_id).toBe(node.key.did);
  });

  it('checks names on their DNS answer at connect time (localhost, a rebinding resolver)', async () => {
    const node = await startNode();
    const byName = `https://localhost:${node.server.port}`;
    const error = await refusal(client().fetchVerifiedNode(byName));
    expect(error.code).toBe('address.refused');
    expect(error.reason).toMatch(/localhost: resolves only to refused addresses: 127\.0\.0\.1 is loopback/);
    expect(node.server.connections()).toBe(0);

    // node.test passes the URL check (it is a name); its answer decides.
    const rebound = `https://node.test:${node.server.port}`;
    const refused = await refusal(client({ allow: ['127.0.0.2/32'], resolveAll: resolveTo('127.0.0.1') }).fetchVerifiedNode(rebound));
    expect(refused.code).toBe('address.refused');
    expect(node.server.connections()).toBe(0);
    const metadata = await refusal(client({ allow: ['169.254.0.0/16'], resolveAll: resolveTo('169.254.169.254') }).fetchVerifiedNode(rebound));
    expect(metadata.reason).toContain('169.254.169.254 is a cloud metadata address');

    const allowed = await client({ allow: ['127.0.0.1/32'], resolveAll: resolveTo('127.0.0.1') }).fetchVerifiedNode(rebound);
    expect(allowed.url).toBe(`${rebound}/`);
  });

  it('refuses a redirect from an allowed host to a disallowed address, IPv4 or IPv6', async () => {
    const node = await startNode();
    const elsewhere = await startNode('127.0.0.2');
    const v6 = await startNode('::1');
    node.server.route('/.well-known/dmf/node', redirect(`${elsewhere.url}/.well-known/dmf/node`));
    const error = await refusal(client({ allow: ['127.0.0.1/32'] }).fetchVerifiedNode(node.url));
    expect(error.code).toBe('address.refused');
    expect(error.reason).toContain('127.0.0.2 is loopback');
    expect(error.attempts).toEqual([expect.objectContaining({ url: `${node.url}/.well-known/dmf/node`, result: 'address.refused' })]);
    expect(elsewhere.server.connections()).toBe(0);

    node.server.route('/.well-known/dmf/node', redirect(`${v6.url}/.well-known/dmf/node`, 307));
    expect((await refusal(client({ allow: ['127.0.0.1/32'] }).fetchVerifiedNode(node.url))).code).toBe('address.refused');
    expect(v6.server.connections()).toBe(0);

    // The same redirects, allowed, are followed and the chain verifies there.
    node.server.route('/.well-known/dmf/node', redirect(`${elsewhere.url}/.well-known/dmf/node`));
    node.server.route('/.well-known/dmf/services', redirect(`${elsewhere.url}/.well-known/dmf/services`));
    const followed = await client({ allow: ['127.0.0.0/8'] }).fetchVerifiedNode(node.url);
    expect(followed.manifest.node_id).toBe(elsewhere.key.did);
    expect(elsewhere.server.connections()).toBeGreaterThan(0);
  });

  it('refuses redirects to http, and more than three redirects', async () => {
    const node = await startNode();
    node.server.route('/.well-known/dmf/node', redirect(`http://127.0.0.1:${node.server.port}/plain`));
    const http = await refusal(client({ allow: ['127.0.0.1/32'] }).fetchVerifiedNode(node.url));
    expect(http.code).toBe('url.invalid');
    expect(http.reason).toContain('must be https');

    node.server.route('/.well-known/dmf/node', redirect('/r1'));
    node.server.route('/r1', redirect('/r2'));
    node.server.route('/r2', redirect('/r3'));
    node.server.route('/r3', redirect('/r4'));
    node.server.route('/r4', answer(200, node.nodeManifest()));
    const loop = await refusal(client({ allow: ['127.0.0.1/32'] }).fetchVerifiedNode(node.url));
    expect(loop.code).toBe('redirect.refused');
    expect(loop.reason).toContain('more than 3 times');
    expect(node.server.requests.some((r) => r.path === '/r4')).toBe(false);

    node.server.route('/r1', redirect('/r4'));
    expect((await client({ allow: ['127.0.0.1/32'] }).fetchVerifiedNode(node.url)).manifest.node_id).toBe(node.key.did);
  });
});

describe('fetch limits', () => {
  it('refuses a response larger than the cap, declared or streamed', async () => {
    const node = await startNode();
    const dmf = client({ allow: ['127.0.0.1/32'], maxResponseBytes: 4096 });
    await dmf.fetchVerifiedNode(node.url); // the real manifests fit

    node.server.route('/.well-known/dmf/node', answer(200, 'x'.repeat(10_000)));
    const declared = await refusal(dmf.fetchVerifiedNode(node.url));
    expect(declared.code).toBe('response.too_large');
    expect(declared.reason).toContain('declares 10000 bytes');

    node.server.route('/.well-known/dmf/node', (_q, response) => {
      response.writeHead(200, { 'content-type': 'application/json' }); // chunked: no content-length
      for (let i = 0; i < 10; i++) response.write('y'.repeat(1000));
      response.end();
    });
    const streamed = await refusal(dmf.fetchVerifiedNode(node.url));
    expect(streamed.code).toBe('response.too_large');
    expect(streamed.reason).toBe('response body exceeds 4096 bytes');
  });

  it('gives up on a server that does not finish within the timeout', async () => {
    const node = await startNode();
    node.server.route('/.well-known/dmf/node', (_q, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.write('{'); // and never more
    });
    const started = Date.now();
    const error = await refusal(client({ allow: ['127.0.0.1/32'], timeoutMs: 300 }).fetchVerifiedNode(node.url));
    expect(error.code).toBe('unreachable');
    expect(error.reason).toBe('no complete answer within 300 ms');
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('verifies the server certificate: a CA it was not given is not trusted', async () => {
    const node = await startNode();
    const other = await createTestTls();
    const error = await refusal(client({ allow: ['127.0.0.1/32'], ca: other.ca }).fetchVerifiedNode(node.url));
    expect(error.code).toBe('unreachable');
    expect(error.reason).toMatch(/certificate|signature/i);
    expect(node.server.requests).toHaveLength(0);
  });

  it('refuses an entrypoint URL that is not https before any request', async () => {
    const plain = await server();
    const error = await refusal(client({ allow: ['127.0.0.1/32'] }).fetchVerifiedNode(`http://127.0.0.1:${plain.port}`));
    expect(error.code).toBe('url.invalid');
    expect(plain.connections()).toBe(0);
  });
});
