/**
 * Issue 5 on real parts, about who signs: three nodes of one operator (their manifests
 * signed by one operator key) attesting a newcomer do not admit it, because attestations
 * count by distinct operators; and a node that rotates its service key keeps its
 * standing: peers take the new public_key, its services re-signed with it.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSigningKey, readKeyFile, signDocument, verifyDocument, writeKeyFile } from '@dmf/protocol';
import { makeTempDir, removeDir, startNatsServer, waitFor, type NatsServerHandle } from '@dmf/testing';
import { freePort } from '@dmf/servers';
import { runDmf } from '../apps/cli/test/run-dmf.ts';
import { httpsJson, makeTestCa, nodeView, startNode, type DmfNode, type TestCa } from './support/dmf-nodes.ts';

interface Detail {
  state: string;
  reasons: string[];
  operator: string;
  attesters: { attester: string; operator: string; counted: boolean }[];
  findings: { code: string }[];
  manifests: { seq: number; current: boolean }[];
  node_manifest: { public_key: string; seq: number } | null;
  service_manifests: Record<string, unknown>[];
}

describe('operators and keys', () => {
  let dir: string;
  let tls: TestCa;
  let hub: NatsServerHandle;
  const nodes: DmfNode[] = [];
  let operatorKeyFile: string;
  const operator = generateSigningKey();

  const detail = async (from: DmfNode, of: DmfNode) => JSON.parse((await httpsJson('GET', `${from.url}/nodes/${of.nodeId}`, tls.ca.cert)).body) as Detail;

  beforeAll(async () => {
    dir = await makeTempDir('federation-operators');
    tls = await makeTestCa(dir);
    hub = await startNatsServer({ name: 'hub', domain: 'hub', leafListen: true });
    operatorKeyFile = join(dir, 'operator.key');
    await writeKeyFile(operatorKeyFile, operator);
    // One operator runs three nodes (three tokens, one operator key); each bootstraps with the others.
    const ports = [await freePort(), await freePort(), await freePort()];
    const urls = ports.map((p) => `https://127.0.0.1:${p}`);
    nodes.push(
      ...(await Promise.all(
        ['o1', 'o2', 'o3'].map((name, i) =>
          startNode({ name, operator: `op${name}`, dir, tls, hub: hub.leafUrl as string, port: ports[i], bootstrap: urls.filter((_, j) => j !== i), extraArgs: ['--operator-key', operatorKeyFile] }),
        ),
      )),
    );
  }, 120_000);

  afterAll(async () => {
    await Promise.allSettled(nodes.map((n) => n.stop()));
    await hub?.close();
    if (dir) await removeDir(dir);
  });

  it('does not admit a newcomer attested only by three nodes of one operator', async () => {
    const [o1, o2, o3] = nodes as [DmfNode, DmfNode, DmfNode];
    expect((await detail(o1, o2)).operator).toBe(operator.did);
    const c = await startNode({ name: 'c', operator: 'opc', dir, tls, hub: hub.leafUrl as string, bootstrap: [o1.url, o2.url, o3.url] });
    nodes.push(c);
    await waitFor(async () => (await detail(o1, c)).attesters.filter((a) => a.counted).length === 3, { timeoutMs: 30_000, description: 'three attestations of C at o1' });
    const view = await detail(o1, c);
    expect(view.attesters.map((a) => a.operator)).toEqual([operator.did, operator.did, operator.did]);
    expect(view.state).toBe('attested');
    expect(view.reasons.join(' ')).toMatch(/admitted nodes of 2 different operators, has 1/);
    expect((await nodeView(o2, tls.ca.cert, c.nodeId))?.state).not.toBe('admitted');
  }, 90_000);

  it('keeps a node\'s standing across a service key rotation: new public_key, services re-signed', async () => {
    const o1 = nodes[0] as DmfNode;
    const c = nodes[3] as DmfNode;
    const before = await detail(o1, c);
    const oldKey = before.node_manifest?.public_key;
    await c.stop();
    const rotated = await runDmf(['rotate-service-key', '--data', c.dataDir, '--json']);
    expect(rotated.code).toBe(0);
    const newKey = (JSON.parse(rotated.stdout) as { did: string }).did;
    expect(newKey).not.toBe(oldKey);
    const restarted = await startNode({ name: 'c', operator: 'opc', dir, tls, hub: hub.leafUrl as string, port: c.port, bootstrap: [o1.url] });
    nodes[3] = restarted;
    await waitFor(async () => (await detail(o1, restarted)).node_manifest?.public_key === newKey, { timeoutMs: 30_000, description: 'o1 sees the new public_key' });
    const after = await detail(o1, restarted);
    expect(after.node_manifest?.seq).toBe((before.node_manifest?.seq ?? 0) + 1);
    // Its services, re-signed with the new key, are current; nothing signed before is refused.
    expect(after.service_manifests.length).toBeGreaterThan(0);
    for (const s of after.service_manifests) expect(verifyDocument(s, { nodePublicKey: () => newKey }).signer).toBe(newKey);
    expect(after.findings.map((f) => f.code)).not.toContain('service_wrong_signer');
    // The node serves the same.
    const served = JSON.parse((await httpsJson('GET', `${restarted.url}/.well-known/dmf/node`, tls.ca.cert)).body) as { public_key: string };
    expect(served.public_key).toBe(newKey);
    // A service manifest signed by the old key after the rotation is refused by peers.
    const nodeKey = await readKeyFile(join(restarted.dataDir, 'keys', 'node.key'));
    const { signature: _sig, issued_at: _iat, expires_at: _exp, ...service } = after.service_manifests[0] as Record<string, unknown>;
    // Before the rotation the node key signed the services (no service key yet).
    expect(nodeKey.did).toBe(oldKey);
    const stale = signDocument({ ...service, seq: (service.seq as number) + 1 }, nodeKey, { expiresInMs: 86_400_000, nodePublicKey: () => nodeKey.did });
    const posted = await httpsJson('POST', `${o1.url}/nodes`, tls.ca.cert, JSON.stringify({ node_manifest: after.node_manifest, service_manifests: [stale] }));
    expect(posted.status).toBe(422);
    expect(JSON.parse(posted.body)).toMatchObject({ type: 'https://dmf.cwe/problems/signature.wrong_signer', errors: [{ path: '$.service_manifests[0].signature' }] });
    // A running node refuses to rotate.
    const refused = await runDmf(['rotate-service-key', '--data', restarted.dataDir]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/stop it before rotating its service key/);
  }, 90_000);
});
