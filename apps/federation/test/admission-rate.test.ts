/**
 * Spec 9.1: admission is rate-limited, so a sybil swarm cannot flood the registry. Pure
 * bookkeeping first, then a real `dmf up` node told to let 2 new nodes in per hour.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueServerCertificate } from '@dmf/http';
import { generateSigningKey, signDocument } from '@dmf/protocol';
import { makeTempDir, removeDir, waitFor } from '@dmf/testing';
import { RateWindow } from '../src/domain/rate-window.ts';
import { httpsJson, makeTestCa, startNode, type DmfNode, type TestCa } from '../../../test/support/dmf-nodes.ts';
import { announcement, RogueNode } from './rogue-node.ts';

describe('RateWindow', () => {
  it('lets `limit` hits through per window, then says how long to wait', () => {
    const window = new RateWindow(2, 60_000);
    expect(window.retryAfterSeconds('a', 0)).toBe(0);
    window.hit('a', 0);
    window.hit('a', 10_000);
    expect(window.retryAfterSeconds('a', 20_000)).toBe(40);
    expect(window.retryAfterSeconds('b', 20_000)).toBe(0);
    // The first hit leaves the window at 60 s.
    expect(window.retryAfterSeconds('a', 60_000)).toBe(0);
  });

  it('refuses a limit or window that makes no sense', () => {
    expect(() => new RateWindow(-1, 1000)).toThrow(/limit/);
    expect(() => new RateWindow(1, 0)).toThrow(/windowMs/);
  });
});

describe('a node letting 2 new nodes in per hour', () => {
  let dir: string;
  let tls: TestCa;
  let node: DmfNode;
  const rogues: RogueNode[] = [];

  beforeAll(async () => {
    dir = await makeTempDir('admission-rate');
    tls = await makeTestCa(dir);
    node = await startNode({ name: 'a', operator: 'opa', dir: join(dir), tls, env: { DMF_NEW_NODES_PER_HOUR: '2' }, probeInterval: 60, probeWindow: 60 });
  }, 60_000);

  afterAll(async () => {
    await node?.stop();
    await Promise.all(rogues.map((r) => r.close()));
    if (dir) await removeDir(dir);
  });

  it('refuses the third new node with 429 and Retry-After, and still takes a known one again', async () => {
    const pki = { ca: tls.ca.cert, server: await issueServerCertificate(tls.ca, { hosts: ['127.0.0.1'] }) };
    const post = async (rogue: RogueNode, seq = 1) => httpsJson('POST', `${node.url}/nodes`, tls.ca.cert, announcement(rogue.nodeManifest({ seq }), [rogue.serviceManifest()]));
    for (const token of ['sybil1', 'sybil2', 'sybil3']) rogues.push(await RogueNode.start(pki, token));
    const [first, second, third] = rogues as [RogueNode, RogueNode, RogueNode];
    expect((await post(first)).status).toBe(202);
    expect((await post(second)).status).toBe(202);
    const refused = await post(third);
    expect(refused.status).toBe(429);
    expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(JSON.parse(refused.body)).toMatchObject({ type: 'https://dmf.cwe/problems/announce.rate', detail: '$.node_manifest.node_id: too many new nodes were announced here in the last hour' });
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(3000);
    // Nothing of the third was stored; a known node's new version is not a new node.
    expect((await httpsJson('GET', `${node.url}/nodes/${third.did}`, tls.ca.cert)).status).toBe(404);
    expect((await post(first, 2)).status).toBe(202);
  }, 60_000);

  it('refuses a manifest for a known node signed by someone else (409), so nobody can claim it or use up its announcements', async () => {
    const [first] = rogues as [RogueNode];
    await waitFor(async () => (await httpsJson('GET', `${node.url}/nodes/${first.did}`, tls.ca.cert)).status === 200, { timeoutMs: 10_000, description: 'the first rogue known' });
    const thief = generateSigningKey();
    const { signature: _s, ...unsigned } = first.nodeManifest({ seq: 7 });
    const signedClaim = signDocument({ ...unsigned, operator: thief.did }, thief);
    const answer = await httpsJson('POST', `${node.url}/nodes`, tls.ca.cert, announcement(signedClaim, [first.serviceManifest()]));
    expect(answer.status).toBe(409);
    expect(JSON.parse(answer.body)).toMatchObject({
      type: 'https://dmf.cwe/problems/announce.foreign_signer',
      detail: `$.node_manifest.signature: signed by ${thief.did}, but ${first.did} is controlled by ${first.did}`,
    });
  }, 30_000);
});
