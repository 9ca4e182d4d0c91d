/**
 * Issue 5 on real parts: a hub and three operators, each a `dmf up` process with its own
 * nats-server (a leaf of the hub, its own JetStream domain) and redis-server, talking
 * HTTPS with certificates of one test CA. A and B bootstrap each other; C joins through
 * them: announced, probed, attested by A and B, admitted, and only then sourced.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { cidOfBytes } from '@dmf/metadata';
import { canonicalBytes, generateSigningKey, readKeyFile, signDocument, signRecord, type SigningKey } from '@dmf/protocol';
import { publishRecord } from '@dmf/bus';
import { jetstream } from '@nats-io/jetstream';
import { join } from 'node:path';
import { federatedStreamName } from '@dmf/streams';
import { makeTempDir, removeDir, startNatsServer, waitFor, waitForLeaves, type NatsServerHandle } from '@dmf/testing';
import { freePort } from '@dmf/servers';
import { httpsJson, makeTestCa, nodeView, startNode, type DmfNode, type TestCa } from './support/dmf-nodes.ts';

function contentManifest(creator: SigningKey, title: string): Record<string, unknown> {
  const content = Buffer.from(`${title}: ${randomUUID()}`);
  return signDocument(
    {
      kind: 'content_manifest',
      manifest_id: randomUUID(),
      creator: creator.did,
      title,
      tags: ['federation'],
      category: 'test',
      chunks: [cidOfBytes(content)],
      size: content.length,
      fingerprint: cidOfBytes(content),
      version: '1.0.0',
    },
    creator,
  );
}

describe('three operators federate through a hub', () => {
  let dir: string;
  let tls: TestCa;
  let hub: NatsServerHandle;
  let a: DmfNode;
  let b: DmfNode;
  let c: DmfNode | undefined;
  const nodes: DmfNode[] = [];
  const connections: NatsConnection[] = [];

  const ca = () => tls.ca.cert;
  const stateAt = async (from: DmfNode, node: DmfNode) => (await nodeView(from, ca(), node.nodeId))?.state;
  const manifestStatus = async (at: DmfNode, id: string) => (await httpsJson('GET', `${at.url}/manifest/${id}`, ca())).status;

  beforeAll(async () => {
    dir = await makeTempDir('federation-admission');
    tls = await makeTestCa(dir);
    hub = await startNatsServer({ name: 'hub', domain: 'hub', leafListen: true });
    const [portA, portB] = [await freePort(), await freePort()];
    // A and B are each other's bootstrap peers: the federation's start.
    [a, b] = await Promise.all([
      startNode({ name: 'a', operator: 'opa', dir, tls, hub: hub.leafUrl as string, port: portA, bootstrap: [`https://127.0.0.1:${portB}`] }),
      startNode({ name: 'b', operator: 'opb', dir, tls, hub: hub.leafUrl as string, port: portB, bootstrap: [`https://127.0.0.1:${portA}`] }),
    ]);
    await waitForLeaves(hub, 2);
    await waitFor(async () => (await stateAt(a, b)) === 'admitted' && (await stateAt(b, a)) === 'admitted', { timeoutMs: 20_000, description: 'A and B admit each other' });
  }, 90_000);

  afterAll(async () => {
    await Promise.all(connections.map((nc) => nc.close()));
    await Promise.allSettled([a?.stop(), b?.stop(), c?.stop(), ...nodes.map((n) => n.stop())]);
    await hub?.close();
    if (dir) await removeDir(dir);
  });

  it('admits C after A and B probed and attested it; its records reach A and B only then', async () => {
    c = await startNode({ name: 'c', operator: 'opc', dir, tls, hub: hub.leafUrl as string, bootstrap: [a.url, b.url], probeWindow: 3 });
    const creator = generateSigningKey();
    const early = contentManifest(creator, 'published at C before its admission');
    const posted = await httpsJson('POST', `${c.url}/publish_manifest`, ca(), JSON.stringify(early));
    expect(posted.status).toBe(201);
    const earlyId = (JSON.parse(posted.body) as { manifest_id: string }).manifest_id;

    // Not at A while C is not admitted there: each round reads A's answer first, then C's
    // state at A, so a 404 followed by "not admitted" was seen before admission.
    const node = c;
    let observed = 0;
    for (;;) {
      const status = await manifestStatus(a, earlyId);
      if ((await stateAt(a, node)) === 'admitted') break;
      expect(status).toBe(404);
      observed++;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(observed).toBeGreaterThanOrEqual(3);
    const changesAtA = JSON.parse((await httpsJson('GET', `${a.url}/nodes/${c.nodeId}`, ca())).body).changes as { to: string }[];
    expect(changesAtA.map((x) => x.to).slice(0, 2)).toEqual(['pending', 'probing']);

    await waitFor(async () => (await stateAt(a, node)) === 'admitted' && (await stateAt(b, node)) === 'admitted', { timeoutMs: 30_000, description: 'C admitted at A and B' });
    const view = await nodeView(a, ca(), c.nodeId);
    expect(view?.attesters.filter((x) => x.counted).map((x) => x.attester).sort()).toEqual([a.nodeId, b.nodeId].sort());
    expect(view?.reasons[0]).toMatch(/attested by admitted nodes of 2 different operators/);
    const changes = JSON.parse((await httpsJson('GET', `${a.url}/nodes/${c.nodeId}`, ca())).body).changes as { from: string; to: string }[];
    expect(changes.map((x) => x.to)).toContain('admitted');
    expect(changes[0]?.from).toBe('unknown');

    // Admitted: A and B source C's ORIGIN, and C's earlier record arrives.
    await waitFor(async () => (await manifestStatus(a, earlyId)) === 200 && (await manifestStatus(b, earlyId)) === 200, { timeoutMs: 20_000, description: "C's record at A and B" });
    for (const at of [a, b]) {
      const nc = await connect({ servers: at.nats });
      connections.push(nc);
      const info = await (await jetstreamManager(nc)).streams.info(federatedStreamName(at === a ? 'opa' : 'opb'));
      expect(info.config.sources?.map((s) => s.name)).toContain('ORIGIN_opc');
    }
    // C sources its bootstrap peers from the start.
    const ncC = await connect({ servers: c.nats });
    connections.push(ncC);
    const infoC = await (await jetstreamManager(ncC)).streams.info(federatedStreamName('opc'));
    expect(infoC.config.sources?.map((s) => s.name).sort()).toEqual(['ORIGIN_opa', 'ORIGIN_opb', 'ORIGIN_opc']);
  }, 90_000);

  it('keeps every record of A, once, at B and C after the hub was down while A published', async () => {
    if (!c) throw new Error('needs C from the previous test');
    const creator = generateSigningKey();
    const before = contentManifest(creator, 'before the outage');
    expect((await httpsJson('POST', `${a.url}/publish_manifest`, ca(), JSON.stringify(before))).status).toBe(201);
    await hub.kill();
    const during = Array.from({ length: 5 }, (_, i) => contentManifest(creator, `during the outage ${i}`));
    for (const m of during) expect((await httpsJson('POST', `${a.url}/publish_manifest`, ca(), JSON.stringify(m))).status).toBe(201);
    // While the hub is down nothing of it reaches B (watched for two seconds: a negative
    // can only be observed for a while).
    const watchUntil = Date.now() + 2000;
    while (Date.now() < watchUntil) {
      for (const m of during) expect(await manifestStatus(b, m.manifest_id as string)).toBe(404);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    await hub.start();
    const ids = [before, ...during].map((m) => m.manifest_id as string);
    const node = c;
    for (const at of [b, node]) {
      await waitFor(async () => {
        const page = JSON.parse((await httpsJson('GET', `${at.url}/creator/${creator.did}?limit=100`, ca())).body) as { items: { manifest_id: string }[] };
        return page.items.length === ids.length;
      }, { timeoutMs: 45_000, description: `all of A's records at ${at.name}` });
      const page = JSON.parse((await httpsJson('GET', `${at.url}/creator/${creator.did}?limit=100`, ca())).body) as { items: { manifest_id: string }[] };
      // Every record, none twice.
      expect(page.items.map((i) => i.manifest_id).sort()).toEqual([...ids].sort());
    }
  }, 120_000);

  it('quarantines a node whose ORIGIN carries many bad fingerprints, and its peers\' reports delist it', async () => {
    const d = await startNode({ name: 'd', operator: 'opd', dir, tls, hub: hub.leafUrl as string, bootstrap: [a.url, b.url] });
    nodes.push(d);
    await waitFor(async () => (await stateAt(a, d)) === 'admitted' && (await stateAt(b, d)) === 'admitted', { timeoutMs: 30_000, description: 'D admitted' });
    // D's operator lets 30 manifests whose fingerprint does not describe their chunks into its log
    // (its own adapter would refuse them: published straight into its ORIGIN).
    const nc = await connect({ servers: d.nats });
    connections.push(nc);
    const js = jetstream(nc);
    const creator = generateSigningKey();
    for (let i = 0; i < 30; i++) {
      const { signature: _signature, ...unsigned } = contentManifest(creator, `bad fingerprint ${i}`);
      const record = signRecord({ ...unsigned, fingerprint: cidOfBytes(Buffer.from(`something else ${i}`)) }, creator);
      await publishRecord(js, { operator: 'opd', kind: record.kind, id: record.id, bytes: canonicalBytes(record.document) });
    }
    await waitFor(async () => (await stateAt(a, d)) === 'delisted' && (await stateAt(b, d)) === 'delisted', { timeoutMs: 30_000, description: 'D delisted at A and B' });
    const view = JSON.parse((await httpsJson('GET', `${a.url}/nodes/${d.nodeId}`, ca())).body) as {
      carried: { records: number; bad_fingerprint: number } | null;
      reporters: { reporter: string; reason: string; counted: boolean }[];
      changes: { to: string; reasons: string[] }[];
    };
    expect(view.carried?.bad_fingerprint).toBe(30);
    // A and B report it (C, admitted too and sourcing D, may as well).
    expect(view.reporters.filter((r) => r.counted && r.reason === 'bad_fingerprint').map((r) => r.reporter)).toEqual(expect.arrayContaining([a.nodeId, b.nodeId]));
    expect(view.changes.find((x) => x.to === 'quarantined')?.reasons.join(' ')).toMatch(/^bad_fingerprint: 30 of the \d+ records/);
  }, 90_000);

  it('quarantines C for a churn flood, and A\'s and B\'s reports delist it everywhere', async () => {
    if (!c) throw new Error('needs C from the first test');
    // C (its operator, with its own key) floods its log with new versions of its manifest.
    const key = await readKeyFile(join(c.dataDir, 'keys', 'node.key'));
    const nc = await connect({ servers: c.nats });
    connections.push(nc);
    const js = jetstream(nc);
    const current = JSON.parse((await httpsJson('GET', `${c.url}/.well-known/dmf/node`, ca())).body) as Record<string, unknown>;
    const { signature: _s, issued_at: _i, expires_at: _e, seq, ...body } = current;
    for (let i = 1; i <= 21; i++) {
      const record = signRecord({ ...body, seq: (seq as number) + i, capabilities: { ...(body.capabilities as object), churn: i } }, key, { expiresInMs: 86_400_000 });
      await publishRecord(js, { operator: 'opc', kind: record.kind, id: record.id, bytes: canonicalBytes(record.document) });
    }
    const node = c;
    await waitFor(async () => (await stateAt(a, node)) === 'delisted' && (await stateAt(b, node)) === 'delisted', { timeoutMs: 30_000, description: 'C delisted at A and B' });
    const view = JSON.parse((await httpsJson('GET', `${a.url}/nodes/${c.nodeId}`, ca())).body) as {
      reporters: { reporter: string; reason: string; counted: boolean }[];
      changes: { to: string; reasons: string[] }[];
      churn: { count: number };
    };
    expect(view.churn.count).toBeGreaterThan(20);
    expect(view.reporters.filter((r) => r.counted && r.reason === 'manifest_churn').map((r) => r.reporter)).toEqual(expect.arrayContaining([a.nodeId, b.nodeId]));
    expect(view.changes.map((x) => x.to)).toContain('delisted');
    expect((view.changes as { to: string; reasons?: string[] }[]).find((x) => x.to === 'quarantined')?.reasons?.join(' ')).toMatch(/manifest_churn: 2\d manifest versions/);
    // And each asks the DAO to remove it for good.
    await waitFor(async () => {
      const detail = JSON.parse((await httpsJson('GET', `${b.url}/nodes/${node.nodeId}`, ca())).body) as { governance: { reporter: string; grounds: string }[] };
      return detail.governance.filter((g) => g.grounds === 'delisted').length >= 2;
    }, { timeoutMs: 15_000, description: 'governance reports by A and B' });
    // No longer sourced.
    await waitFor(async () => {
      const ncA = await connect({ servers: a.nats });
      try {
        const info = await (await jetstreamManager(ncA)).streams.info(federatedStreamName('opa'));
        return !(info.config.sources ?? []).some((x) => x.name === 'ORIGIN_opc');
      } finally {
        await ncA.close();
      }
    }, { timeoutMs: 15_000, description: "A stops sourcing C's ORIGIN" });
  }, 90_000);
});
