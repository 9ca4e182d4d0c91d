import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { generateSigningKey, recordId } from '@dmf/protocol';
import { ClientError, createClient, type ClientOptions, type DmfClient } from '../src/mod.ts';
import { refusal, useBench } from './support.ts';

const bench = useBench({ allow: ['127.0.0.1/32'] });
const { startNode, client } = bench;

describe('fetchVerifiedNode', () => {
  it('verifies a valid chain and returns the manifests with their record ids', async () => {
    const node = await startNode();
    const manifest = node.nodeManifest({ seq: 3 });
    node.serveNode(manifest);
    const verified = await client().fetchVerifiedNode(`${node.url}/some/path`);
    expect(verified.manifest.node_id).toBe(node.key.did);
    expect(verified.recordId).toBe(recordId(manifest));
    expect(verified.signer).toBe(node.key.did);
    expect(verified.services.map((s) => s.manifest.service_id)).toEqual([node.serviceId]);
    // Well-known paths sit at the origin root, whatever path the node URL has.
    expect(node.server.requests.map((r) => r.path)).toEqual(['/.well-known/dmf/node', '/.well-known/dmf/services']);
  });

  it('sends a fixed user-agent and nothing that identifies the user', async () => {
    const node = await startNode();
    await client().fetchVerifiedNode(node.url);
    for (const request of node.server.requests) {
      expect(request.headers['user-agent']).toBe('dmf-client/0.1.0');
      expect(Object.keys(request.headers).sort()).toEqual(['accept', 'connection', 'host', 'user-agent']);
    }
  });

  it('refuses a node manifest with one altered byte', async () => {
    const node = await startNode();
    const bytes = Buffer.from(JSON.stringify(node.nodeManifest()));
    const at = bytes.indexOf('"eu-west"') + 1;
    bytes[at] = 'E'.charCodeAt(0); // eu-west -> Eu-west: still a valid region, no longer what was signed
    node.serveNode(bytes);
    const error = await refusal(client().fetchVerifiedNode(node.url));
    expect(error.code).toBe('manifest.invalid');
    expect(error.message).toContain(`${node.url}/.well-known/dmf/node $.signature`);
    expect(error.message).toContain('(signature.invalid)');
    expect(error.attempts).toEqual([
      expect.objectContaining({ url: `${node.url}/.well-known/dmf/node`, result: 'manifest.invalid', status: 200 }),
    ]);
  });

  it('refuses an expired node manifest', async () => {
    const node = await startNode();
    const issuedAt = new Date(Date.now() - 3 * 86_400_000);
    node.serveNode(node.nodeManifest({ issuedAt, expiresAt: new Date(Date.now() - 60_000) }));
    const error = await refusal(client().fetchVerifiedNode(node.url));
    expect(error.code).toBe('manifest.expired');
    expect(error.message).toContain('$.expires_at');
  });

  it('refuses an expired service manifest', async () => {
    const node = await startNode();
    const issuedAt = new Date(Date.now() - 3 * 86_400_000);
    node.serveServices([node.serviceManifest({ issuedAt, expiresAt: new Date(Date.now() - 60_000) })]);
    const error = await refusal(client().fetchVerifiedNode(node.url));
    expect(error.code).toBe('manifest.expired');
    expect(error.message).toContain('/.well-known/dmf/services $[0].expires_at');
  });

  it('judges freshness by the injected clock', async () => {
    const node = await startNode();
    const error = await refusal(client({ now: () => new Date(Date.now() + 2 * 86_400_000) }).fetchVerifiedNode(node.url));
    expect(error.code).toBe('manifest.expired');
  });

  it('refuses an older seq after a newer one (rollback)', async () => {
    const node = await startNode();
    const dmf = client();
    node.serveNode(node.nodeManifest({ seq: 2 }));
    expect((await dmf.fetchVerifiedNode(node.url)).manifest.seq).toBe(2);
    node.serveNode(node.nodeManifest({ seq: 1 }));
    const error = await refusal(dmf.fetchVerifiedNode(node.url));
    expect(error.code).toBe('manifest.rollback');
    expect(error.reason).toContain('seq 1 is lower than seq 2');
    expect(error.attempts.map((a) => a.result)).toEqual(['manifest.rollback']);
    // The newer one is still accepted, and so is a later one.
    node.serveNode(node.nodeManifest({ seq: 3 }));
    expect((await dmf.fetchVerifiedNode(node.url)).manifest.seq).toBe(3);
  });

  it('refuses a service manifest rollback', async () => {
    const node = await startNode();
    const dmf = client();
    node.serveServices([node.serviceManifest({ seq: 5 })]);
    await dmf.fetchVerifiedNode(node.url);
    node.serveServices([node.serviceManifest({ seq: 4 })]);
    const error = await refusal(dmf.fetchVerifiedNode(node.url));
    expect(error.code).toBe('manifest.rollback');
    expect(error.reason).toContain(`service ${node.serviceId}`);
  });

  it('refuses two different manifests with the same seq (equivocation), but not the same one twice', async () => {
    const node = await startNode();
    const dmf = client();
    const first = node.nodeManifest({ seq: 7, version: '1.0.0' });
    node.serveNode(first);
    await dmf.fetchVerifiedNode(node.url);
    await dmf.fetchVerifiedNode(node.url);
    const second = node.nodeManifest({ seq: 7, version: '1.0.1' });
    node.serveNode(second);
    const error = await refusal(dmf.fetchVerifiedNode(node.url));
    expect(error.code).toBe('manifest.equivocation');
    expect(error.reason).toContain(recordId(first));
    expect(error.reason).toContain(recordId(second));
  });

  it('shares the version memory it is given', async () => {
    const node = await startNode();
    const remembered = new Map<string, { seq: number; recordId: string }>();
    const knownVersions = { get: (key: string) => remembered.get(key), remember: (key: string, v: { seq: number; recordId: string }) => void remembered.set(key, v) };
    node.serveNode(node.nodeManifest({ seq: 9 }));
    await client({ knownVersions }).fetchVerifiedNode(node.url);
    expect([...remembered.values()].map((v) => v.seq).sort()).toEqual([1, 9]);
    node.serveNode(node.nodeManifest({ seq: 8 }));
    expect((await refusal(client({ knownVersions }).fetchVerifiedNode(node.url))).code).toBe('manifest.rollback');
  });

  it('does not let a stranger claiming the node_id poison the version memory', async () => {
    const node = await startNode();
    const dmf = client();
    const stranger = generateSigningKey();
    node.serveNode(node.nodeManifest({ seq: 1_000_000, operator: stranger }));
    expect((await dmf.fetchVerifiedNode(node.url)).signer).toBe(stranger.did);
    node.serveNode(node.nodeManifest({ seq: 1 }));
    const genuine = await dmf.fetchVerifiedNode(node.url);
    expect(genuine.signer).toBe(node.key.did);
    expect(genuine.manifest.seq).toBe(1);
  });

  it('refuses a service manifest signed by a key other than the node public_key', async () => {
    const node = await startNode();
    node.serveServices([node.serviceManifest({ key: generateSigningKey() })]);
    const error = await refusal(client().fetchVerifiedNode(node.url));
    expect(error.code).toBe('service.wrong_signer');
    expect(error.message).toContain('$[0].signature');
    expect(error.reason).toContain(node.key.did);
  });

  it('refuses a service manifest about another node', async () => {
    const node = await startNode();
    const other = generateSigningKey();
    node.serveServices([node.serviceManifest(), node.serviceManifest({ nodeId: other.did, key: other, serviceId: crypto.randomUUID() })]);
    const error = await refusal(client().fetchVerifiedNode(node.url));
    expect(error.code).toBe('service.foreign_node');
    expect(error.message).toContain('$[1].node_id');
  });

  it('refuses a services document that is not an array of manifests', async () => {
    const node = await startNode();
    node.serveServices(Buffer.from(JSON.stringify(node.serviceManifest())));
    expect((await refusal(client().fetchVerifiedNode(node.url))).code).toBe('manifest.invalid');
    node.serveServices(Buffer.from('[{"kind":"service_manifest","kind":"x"}]'));
    const duplicate = await refusal(client().fetchVerifiedNode(node.url));
    expect(duplicate.code).toBe('manifest.invalid');
    expect(duplicate.reason).toContain('json.duplicate_key');
  });

  it('refuses a node that does not serve its manifest', async () => {
    const node = await startNode();
    node.server.route('/.well-known/dmf/node', (_q, response) => void response.writeHead(404).end());
    const error = await refusal(client().fetchVerifiedNode(node.url));
    expect(error.code).toBe('manifest.unavailable');
    expect(error.attempts[0]).toMatchObject({ result: 'manifest.unavailable', status: 404 });
  });

  it('checks the pinned OpenAPI document when asked, and refuses one that hashes differently', async () => {
    const node = await startNode();
    const verified = await client({ checkSchemas: true }).fetchVerifiedNode(node.url);
    expect(verified.services).toHaveLength(1);
    expect(node.server.requests.map((r) => r.path)).toContain('/openapi.json');

    node.serveServices([node.serviceManifest({ seq: 2, schemaSha256: 'ab'.repeat(32) })]);
    const error = await refusal(client().fetchVerifiedNode(node.url, { checkSchemas: true }));
    expect(error.code).toBe('schema.mismatch');
    expect(error.message).toContain(`${node.url}/openapi.json`);
    expect(error.reason).toContain('ab'.repeat(32));
    // Without the check the same chain verifies.
    expect((await client().fetchVerifiedNode(node.url)).services[0]?.manifest.seq).toBe(2);
  });

  it('refuses a quarantined node, asking the hook with its node_id', async () => {
    const node = await startNode();
    const asked: string[] = [];
    const error = await refusal(
      client({ isQuarantined: async (nodeId) => (asked.push(nodeId), nodeId === node.key.did) }).fetchVerifiedNode(node.url),
    );
    expect(error.code).toBe('node.quarantined');
    expect(asked).toEqual([node.key.did]);
    expect(error.attempts.map((a) => [a.url, a.result])).toEqual([[`${node.url}/.well-known/dmf/node`, 'node.quarantined']]);
    // Quarantine is decided before the services are fetched.
    expect(node.server.requests.map((r) => r.path)).toEqual(['/.well-known/dmf/node']);
  });
});
