/**
 * Admission checks as a peer meets them (spec 4.2, 5.1, 5.2, 9.1): one real `dmf up`
 * node A, and "rogue" nodes, real HTTPS servers in this process with keys of their own,
 * that announce themselves to A with `POST /nodes` and then serve good or bad documents.
 * A's prober fetches and verifies each rogue's chain through the verifying client, and
 * `GET /nodes/<did>` must say what A concluded and why, naming the check that failed.
 *
 * A and the rogues share one per-file CA (A trusts it with --trust-ca and serves a
 * certificate from it), A may reach 127.0.0.0/8 only (--allow-address), and probes every
 * second over a two-second window, so a verdict takes a few seconds.
 *
 * Budget: A lets 20 new nodes per hour in (announcer) and opens 20 probe windows per
 * hour for new nodes (prober); this file announces 13 nodes to one A (the bus checks
 * publish straight into A's ORIGIN and announce nothing). More tests need another A or
 * those limits in mind.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager, type PubAck } from '@nats-io/jetstream';
import { canonicalBytes, generateSigningKey, recordId, signDocument, signRecord } from '@dmf/protocol';
import { freePort } from '@dmf/servers';
import { originStreamName, originSubject, originSubjects } from '@dmf/streams';
import { makeTempDir, removeDir, waitFor } from '@dmf/testing';
import { announcement, createTestPki, RogueNode, sha256Hex, type TestPki } from './rogue-node.ts';

const DMF_BIN = fileURLToPath(new URL('../../cli/bin/dmf.mjs', import.meta.url));
const OPERATOR = 'opa';
const PROBLEM_BASE = 'https://dmf.cwe/problems/';
/** States in which A's prober has made up its mind about a node. */
const SETTLED = new Set(['refused', 'attested', 'admitted', 'quarantined', 'expired', 'delisted']);

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: unknown;
}

interface NodeDetail {
  node_id: string;
  state: string;
  reasons: string[];
  attesters: { attester: string; counted: boolean; integrity: boolean; why?: string }[];
  reporters: { reporter: string; reason: string; record: string; counted: boolean; why?: string }[];
  governance: { reporter: string; grounds: string; record: string }[];
  findings: { code: string; detail: string; records: string[] }[];
  churn: { count: number; window_ms: number; records: string[] };
  manifests: { record_id: string; seq: number; current: boolean }[];
  node_manifest: Record<string, unknown> | null;
  service_manifests: Record<string, unknown>[];
}

/** A record as A's ORIGIN stream stores it. */
interface StoredRecord {
  seq: number;
  subject: string;
  msgId: string | undefined;
  document: Record<string, unknown>;
}

interface Problem {
  type: string;
  status: number;
  detail: string;
  errors?: { path: string; reason: string }[];
}

function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('DMF_')));
}

describe('admission checks of a dmf up node against rogue nodes', () => {
  let dir = '';
  let pki: TestPki;
  let child: ChildProcess | undefined;
  let stdout = '';
  let stderr = '';
  let base = '';
  let self = '';
  let nc: NatsConnection | undefined;
  let jsm: JetStreamManager;
  let js: JetStreamClient;
  const rogues: RogueNode[] = [];

  function call(method: string, path: string, body?: string): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const req = request(
        `${base}${path}`,
        { method, ca: pki.ca, minVersion: 'TLSv1.3', agent: false, headers: body === undefined ? {} : { 'content-type': 'application/json' } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let json: unknown;
            try {
              json = JSON.parse(text);
            } catch {
              json = undefined;
            }
            resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
          });
        },
      );
      req.once('error', reject);
      req.end(body);
    });
  }

  const announce = (body: string) => call('POST', '/nodes', body);

  async function view(did: string): Promise<NodeDetail | undefined> {
    const answer = await call('GET', `/nodes/${did}`);
    if (answer.status === 404) return undefined;
    expect(answer.status).toBe(200);
    return answer.json as NodeDetail;
  }

  /** Waits until A has settled on a verdict about `did` (refused, attested, ...) and returns its view. */
  async function verdict(did: string, timeoutMs = 15_000): Promise<NodeDetail> {
    let last: NodeDetail | undefined;
    try {
      return await waitFor(
        async () => {
          last = await view(did);
          return last && SETTLED.has(last.state) ? last : undefined;
        },
        { timeoutMs, intervalMs: 100, description: `a verdict of A about ${did}` },
      );
    } catch (error) {
      const seen = last ? JSON.stringify({ state: last.state, reasons: last.reasons }) : 'unknown to A';
      throw new Error(`${(error as Error).message}; last seen: ${seen}; A's stderr: ${stderr.slice(-2000)}`, { cause: error });
    }
  }

  async function rogue(token: string, host?: string): Promise<RogueNode> {
    const node = await RogueNode.start(pki, token, host);
    rogues.push(node);
    return node;
  }

  /** Messages in A's ORIGIN stream per subject of the manifests kinds. */
  async function originCounts(): Promise<{ node: number; service: number }> {
    const info = await jsm.streams.info(originStreamName(OPERATOR), { subjects_filter: originSubjects(OPERATOR) });
    const subjects = info.state.subjects ?? {};
    return { node: subjects[originSubject(OPERATOR, 'node_manifest')] ?? 0, service: subjects[originSubject(OPERATOR, 'service_manifest')] ?? 0 };
  }

  /** Every record of `kind` in A's ORIGIN stream, in stream order. */
  async function originRecords(kind: string): Promise<StoredRecord[]> {
    const records: StoredRecord[] = [];
    const subject = originSubject(OPERATOR, kind);
    for (let seq = 1; ; ) {
      // STREAM.MSG.GET takes next_by_subj since nats-server 2.9; nats.js types it only for direct gets.
      const query = { seq, next_by_subj: subject };
      const m = await jsm.streams.getMessage(originStreamName(OPERATOR), query);
      if (!m) return records;
      expect(m.subject).toBe(subject);
      records.push({ seq: m.seq, subject: m.subject, msgId: m.header.get('Nats-Msg-Id') || undefined, document: m.json<Record<string, unknown>>() });
      seq = m.seq + 1;
    }
  }

  function expectProblem(answer: Answer, status: number, code: string, path: string): Problem {
    expect({ status: answer.status, type: String(answer.headers['content-type']).split(';')[0] }).toEqual({ status, type: 'application/problem+json' });
    const problem = answer.json as Problem;
    expect(problem).toMatchObject({ type: `${PROBLEM_BASE}${code}`, status });
    expect(problem.detail.startsWith(`${path}: `)).toBe(true);
    expect(problem.errors?.[0]?.path).toBe(path);
    return problem;
  }

  beforeAll(async () => {
    dir = await makeTempDir('admission-checks');
    pki = await createTestPki();
    const caFile = join(dir, 'ca.pem');
    await writeFile(caFile, pki.ca);
    await writeFile(join(dir, 'server.pem'), pki.server.cert);
    await writeFile(join(dir, 'server.key'), pki.server.key, { mode: 0o600 });
    const port = await freePort();
    const data = join(dir, 'node');
    child = spawn(
      process.execPath,
      [
        DMF_BIN, 'up', '--data', data, '--port', String(port), '--operator', OPERATOR,
        '--allow-address', '127.0.0.0/8', '--trust-ca', caFile,
        '--probe-interval', '1', '--probe-window', '2', '--snapshot-interval', '0', '--log-level', 'warn',
      ],
      { env: { ...cleanEnv(), DMF_TLS_CERT: join(dir, 'server.pem'), DMF_TLS_KEY: join(dir, 'server.key') }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child.stdout?.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
    await waitFor(() => child?.exitCode !== null || /^ready https:\/\/\S+$/m.test(stdout), { timeoutMs: 45_000, description: 'dmf up ready' });
    if (!/^ready https:\/\/\S+$/m.test(stdout)) throw new Error(`dmf up did not start (exit ${child.exitCode}): ${stderr}`);
    base = /^ready (https:\/\/\S+)$/m.exec(stdout)?.[1] as string;
    self = /, node (did:key:z\S+)$/m.exec(stdout)?.[1] as string;
    expect(self).toMatch(/^did:key:z6Mk/);
    const info = JSON.parse(await readFile(join(data, 'node.json'), 'utf8')) as { nats: string };
    nc = await connect({ servers: info.nats, name: 'admission-checks test' });
    jsm = await jetstreamManager(nc);
    js = jetstream(nc);
  }, 60_000);

  afterAll(async () => {
    await Promise.allSettled(rogues.map((r) => r.close()));
    await nc?.close();
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child?.once('exit', resolve));
      child.kill('SIGINT');
      const timer = setTimeout(() => child?.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(timer);
    }
    if (dir) await removeDir(dir);
  }, 40_000);

  it('attests a well-behaved node after its probe window (and only attests: admission needs two operators)', async () => {
    const node = await rogue('good');
    const manifest = node.nodeManifest();
    const service = node.serviceManifest();
    node.serve({ node: manifest, services: [service] });

    const answer = await announce(announcement(manifest, [service]));
    expect(answer.status).toBe(202);
    expect(answer.json).toEqual({ node_id: node.did, records: [recordId(manifest), recordId(service)], location: `/nodes/${node.did}` });
    expect(answer.headers['location']).toBe(`/nodes/${node.did}`);

    const seen = await verdict(node.did, 20_000);
    expect({ state: seen.state, reasons: seen.reasons }).toEqual({
      state: 'attested',
      reasons: ['attested by this node; needs attestations from admitted nodes of 2 different operators, has 1'],
    });
    expect(seen.attesters).toEqual([expect.objectContaining({ attester: self, counted: true, integrity: true })]);
    // The whole chain was fetched, OpenAPI document included.
    expect(node.requests).toEqual(expect.arrayContaining(['/.well-known/dmf/node', '/.well-known/dmf/services', '/openapi.json']));
  });

  it('refuses a node whose served manifest has one byte changed after signing (manifest.invalid, signature)', async () => {
    const node = await rogue('tampered');
    const manifest = node.nodeManifest({ region: 'eu-west-1' });
    const service = node.serviceManifest();
    const genuine = Buffer.from(JSON.stringify(manifest));
    const altered = Buffer.from(genuine.toString('utf8').replace('"eu-west-1"', '"eu-west-2"'));
    expect(altered.length).toBe(genuine.length);
    expect([...altered].filter((byte, i) => byte !== genuine[i])).toHaveLength(1);
    node.serve({ node: altered, services: [service] });

    expect((await announce(announcement(manifest, [service]))).status).toBe(202);
    const seen = await verdict(node.did);
    expect(seen.state).toBe('refused');
    expect(seen.reasons).toHaveLength(1);
    expect(seen.reasons[0]).toMatch(/^manifest\.invalid: https:\/\/127\.0\.0\.1:\d+\/\.well-known\/dmf\/node \$\.signature: .*\(signature\.invalid\)$/);
    expect(seen.attesters).toEqual([]);
  });

  it('refuses a node that serves an expired manifest while the log holds a valid one (manifest.expired)', async () => {
    const node = await rogue('stale');
    const manifest = node.nodeManifest();
    const service = node.serviceManifest();
    const hour = 3_600_000;
    const expired = node.nodeManifest({ issuedAt: new Date(Date.now() - 2 * hour), expiresAt: new Date(Date.now() - hour) });
    node.serve({ node: expired, services: [service] });

    expect((await announce(announcement(manifest, [service]))).status).toBe(202);
    const seen = await verdict(node.did);
    expect(seen.state).toBe('refused');
    expect(seen.reasons).toHaveLength(1);
    expect(seen.reasons[0]).toMatch(/^manifest\.expired: \S+\/\.well-known\/dmf\/node \$\.expires_at: expired .*\(expires_at\.expired\)$/);
    // What A holds is the valid manifest, not what the node served.
    expect(seen.manifests).toEqual([{ record_id: recordId(manifest), seq: 1, issued_at: manifest['issued_at'], current: true }]);
  });

  it('refuses a node that serves seq 1 after announcing seq 2 (manifest.rollback)', async () => {
    const node = await rogue('rollback');
    const issuedAt = new Date(Date.now() - 120_000);
    const first = node.nodeManifest({ seq: 1, issuedAt });
    const second = node.nodeManifest({ seq: 2, issuedAt: new Date(issuedAt.getTime() + 60_000) });
    const service = node.serviceManifest();
    node.serve({ node: first, services: [service] });

    expect((await announce(announcement(second, [service]))).status).toBe(202);
    const seen = await verdict(node.did);
    expect(seen.state).toBe('refused');
    expect(seen.reasons).toEqual([expect.stringMatching(/^manifest\.rollback: https:\/\/127\.0\.0\.1:\d+\/ serves seq 1, but seq 2 is in the log$/)]);
    expect(seen.manifests.map((m) => [m.seq, m.current])).toEqual([[2, true]]);
  });

  it('refuses a node that serves a service manifest signed by another key (service.wrong_signer)', async () => {
    const node = await rogue('forger');
    const manifest = node.nodeManifest();
    const service = node.serviceManifest();
    const forged = node.serviceManifest({ signer: generateSigningKey() });
    node.serve({ node: manifest, services: [forged] });

    expect((await announce(announcement(manifest, [service]))).status).toBe(202);
    const seen = await verdict(node.did);
    expect(seen.state).toBe('refused');
    expect(seen.reasons).toEqual([expect.stringMatching(/^service\.wrong_signer: \S+\/\.well-known\/dmf\/services \$\[0\]\.signature: .*\(signature\.wrong_signer\)$/)]);
  });

  it('refuses a node whose OpenAPI document does not match schema.sha256 (schema.mismatch)', async () => {
    const node = await rogue('schema');
    const manifest = node.nodeManifest();
    const service = node.serviceManifest();
    node.serve({ node: manifest, services: [service], openapi: Buffer.concat([node.openapi, Buffer.from('\n')]) });

    expect((await announce(announcement(manifest, [service]))).status).toBe(202);
    const seen = await verdict(node.did);
    expect(seen.state).toBe('refused');
    expect(seen.reasons).toEqual([expect.stringMatching(/^schema\.mismatch: \S+\/openapi\.json: SHA-256 of the \d+ bytes served is [0-9a-f]{64}, the service manifest pins [0-9a-f]{64}$/)]);
    expect(node.requests).toContain('/openapi.json');
  });

  it('refuses entrypoints at addresses it may not reach, without connecting (address.refused)', async () => {
    // A node on ::1, outside --allow-address 127.0.0.0/8, that serves a perfect chain:
    // the address is the only thing wrong with it, and its server counts connections.
    const loopback6 = await rogue('v6', '::1');
    const v6Manifest = loopback6.nodeManifest();
    const v6Service = loopback6.serviceManifest();
    loopback6.serve({ node: v6Manifest, services: [v6Service] });
    // Non-routable and cloud-metadata entrypoints: a connection attempt would hang until
    // the client's 5 s timeout and count as "unanswered", never as a refusal.
    const blackhole = await rogue('blackhole');
    const bhManifest = blackhole.nodeManifest();
    const bhService = blackhole.serviceManifest({ entrypoints: ['https://10.255.255.1:9/'], schemaUrl: 'https://10.255.255.1:9/openapi.json' });
    const metadata = await rogue('metadata');
    const mdManifest = metadata.nodeManifest();
    const mdService = metadata.serviceManifest({ entrypoints: ['https://169.254.169.254/'], schemaUrl: 'https://169.254.169.254/openapi.json' });

    const started = Date.now();
    for (const [m, s] of [[v6Manifest, v6Service], [bhManifest, bhService], [mdManifest, mdService]] as const) {
      expect((await announce(announcement(m, [s]))).status).toBe(202);
    }
    const [v6, bh, md] = await Promise.all([verdict(loopback6.did), verdict(blackhole.did), verdict(metadata.did)]);
    const elapsed = Date.now() - started;

    expect(v6?.state).toBe('refused');
    expect(v6?.reasons).toEqual([expect.stringMatching(/^address\.refused: https:\/\/\[::1\]:\d+\/: /)]);
    expect(bh?.state).toBe('refused');
    expect(bh?.reasons).toEqual([expect.stringMatching(/^address\.refused: https:\/\/10\.255\.255\.1:9\/: /)]);
    expect(md?.state).toBe('refused');
    expect(md?.reasons).toEqual([expect.stringMatching(/^address\.refused: https:\/\/169\.254\.169\.254\/: /)]);
    expect(loopback6.connections()).toBe(0);
    // Refused before any connection: no probe waited for a timeout.
    expect(elapsed).toBeLessThan(5_000);
  });

  it('answers bad announcements with a 4xx problem naming the field, and stores nothing', async () => {
    const node = await rogue('bad');
    const manifest = node.nodeManifest();
    const service = node.serviceManifest();
    const manifestText = JSON.stringify(manifest);
    const serviceText = JSON.stringify(service);
    const other = generateSigningKey();
    const report = signDocument(
      { kind: 'node_report', reporter: node.did, subject: other.did, reason: 'unavailable', evidence: ['a'.repeat(64)], seq: 1, issued_at: new Date(Date.now() - 60_000).toISOString() },
      node.key,
    );
    const hour = 3_600_000;
    const expired = node.nodeManifest({ issuedAt: new Date(Date.now() - 2 * hour), expiresAt: new Date(Date.now() - hour) });
    const before = await originCounts();

    const cases: { what: string; body: string; status: number; code: string; path: string }[] = [
      { what: 'not JSON', body: `{"node_manifest": ${manifestText}`, status: 400, code: 'json.syntax', path: '$' },
      {
        what: 'a duplicate member',
        body: `{"node_manifest":${manifestText},"node_manifest":${manifestText},"service_manifests":[${serviceText}]}`,
        status: 400,
        code: 'json.duplicate_key',
        path: '$.node_manifest',
      },
      { what: 'no node_manifest', body: `{"service_manifests":[${serviceText}]}`, status: 400, code: 'announce.shape', path: '$.node_manifest' },
      { what: 'a node_report as the node manifest', body: announcement(report, [service]), status: 400, code: 'announce.kind', path: '$.node_manifest.kind' },
      {
        what: 'a service manifest signed by another key than public_key',
        body: announcement(manifest, [node.serviceManifest({ signer: other })]),
        status: 422,
        code: 'signature.wrong_signer',
        path: '$.service_manifests[0].signature',
      },
      {
        what: 'no federation service',
        body: announcement(manifest, [node.serviceManifest({ type: 'metadata_index' })]),
        status: 422,
        code: 'announce.no_federation_service',
        path: '$.service_manifests',
      },
      { what: 'an expired node manifest', body: announcement(expired, [service]), status: 422, code: 'expires_at.expired', path: '$.node_manifest.expires_at' },
    ];
    for (const c of cases) {
      const answer = await announce(c.body);
      expect({ what: c.what, status: answer.status, type: (answer.json as Problem | undefined)?.type }).toEqual({ what: c.what, status: c.status, type: `${PROBLEM_BASE}${c.code}` });
      expectProblem(answer, c.status, c.code, c.path);
    }

    // Publishing happens before the answer, so nothing can still be on its way.
    expect(await originCounts()).toEqual(before);
    expect(await view(node.did)).toBeUndefined();
    expect(await view(other.did)).toBeUndefined();
    expect(node.connections()).toBe(0);
  });

  it('answers the same announcement twice with the same answer and stores it once (spec 5.2)', async () => {
    const node = await rogue('twice');
    const manifest = node.nodeManifest();
    const service = node.serviceManifest();
    node.serve({ node: manifest, services: [service] });
    const body = announcement(manifest, [service]);
    const before = await originCounts();

    // Back to back: the second may arrive before A has read the first back from its log.
    const first = await announce(body);
    const second = await announce(body);
    expect(first.status).toBe(202);
    expect({ status: second.status, text: second.text, location: second.headers['location'] }).toEqual({ status: first.status, text: first.text, location: first.headers['location'] });

    const held = await waitFor(async () => (await view(node.did)) ?? false, { timeoutMs: 10_000, description: 'A holds the announced node' });
    // Once held: answered from what A holds, even in other bytes (members reordered, spaces).
    const third = await announce(JSON.stringify({ service_manifests: [service], node_manifest: manifest }, null, 2));
    expect({ status: third.status, text: third.text }).toEqual({ status: first.status, text: first.text });

    expect(held.manifests).toEqual([{ record_id: recordId(manifest), seq: 1, issued_at: manifest['issued_at'], current: true }]);
    expect(held.service_manifests).toEqual([service]);
    const after = await originCounts();
    expect({ node: after.node - before.node, service: after.service - before.service }).toEqual({ node: 1, service: 1 });
  });

  it('rate-limits announcements that publish something to 12 per node and hour (429 with Retry-After)', async () => {
    const node = await rogue('busy');
    const service = node.serviceManifest();
    const issuedAt = Date.now() - 10 * 60_000;
    const manifests = Array.from({ length: 13 }, (_, i) => node.nodeManifest({ seq: i + 1, issuedAt: new Date(issuedAt + i * 1000) }));
    node.serve({ node: manifests[0] as Record<string, unknown>, services: [service] });
    const before = await originCounts();

    expect((await announce(announcement(manifests[0] as Record<string, unknown>, [service]))).status).toBe(202);
    // Known from here on: later posts are counted as this node's, not as new nodes.
    await waitFor(async () => (await view(node.did)) ?? false, { timeoutMs: 10_000, description: 'A holds seq 1' });
    for (const m of manifests.slice(1, 12)) {
      const answer = await announce(announcement(m, [service]));
      expect({ seq: m['seq'], status: answer.status }).toEqual({ seq: m['seq'], status: 202 });
    }

    const refused = await announce(announcement(manifests[12] as Record<string, unknown>, [service]));
    const problem = expectProblem(refused, 429, 'announce.rate', '$.node_manifest.node_id');
    expect(problem.detail).toBe('$.node_manifest.node_id: this node was announced too often in the last hour');
    const retryAfter = Number(refused.headers['retry-after']);
    expect(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 3600).toBe(true);

    // Seq 13 was not stored; the twelve were, once each.
    const after = await originCounts();
    expect({ node: after.node - before.node, service: after.service - before.service }).toEqual({ node: 12, service: 1 });
    const held = await waitFor(async () => {
      const v = await view(node.did);
      return v && v.manifests.length === 12 ? v : undefined;
    }, { timeoutMs: 10_000, description: 'A holds seq 1 to 12' });
    expect(held.manifests.find((m) => m.current)?.seq).toBe(12);

    // Repeating an announcement already held publishes nothing, so it is not limited.
    const again = await announce(announcement(manifests[11] as Record<string, unknown>, [service]));
    expect(again.status).toBe(202);
  });
  it('quarantines a node that announces two different manifests with one seq, keeps both, and reports it (equivocation)', async () => {
    const node = await rogue('equivocator');
    const issuedAt = new Date(Date.now() - 120_000);
    const first = node.nodeManifest({ seq: 1, issuedAt, region: 'eu-west' });
    const second = node.nodeManifest({ seq: 1, issuedAt: new Date(issuedAt.getTime() + 1000), region: 'us-east' });
    const service = node.serviceManifest();
    node.serve({ node: first, services: [service] });
    const both = [recordId(first), recordId(second)].sort();

    expect((await announce(announcement(first, [service]))).status).toBe(202);
    // A holds the first as current before the second arrives (as a peer would see it).
    await waitFor(async () => ((await view(node.did))?.node_manifest ? true : undefined), { timeoutMs: 10_000, description: 'A holds the first seq 1' });
    const answer = await announce(announcement(second, [service]));
    expect(answer.status).toBe(202);
    expect(answer.json).toEqual({ node_id: node.did, records: [recordId(second), recordId(service)], location: `/nodes/${node.did}` });

    // Quarantine follows from the log at once; the reports follow once A has filed them.
    const seen = await waitFor(
      async () => {
        const v = await view(node.did);
        const filed = v?.reporters.some((r) => r.reporter === self) && v.governance.some((g) => g.reporter === self);
        return v?.state === 'quarantined' && filed ? v : undefined;
      },
      { timeoutMs: 10_000, description: 'A quarantines the equivocating node and reports it' },
    );
    expect(seen.reasons).toEqual(expect.arrayContaining([expect.stringMatching(/^equivocation: 2 different manifests of \S+ carry seq 1; /)]));
    expect(seen.findings.filter((f) => f.code === 'equivocation')).toEqual([{ code: 'equivocation', detail: expect.any(String), records: both }]);
    // Neither is current; both are kept as evidence.
    expect(seen.node_manifest).toBeNull();
    expect([...seen.manifests].sort((a, b) => (a.record_id < b.record_id ? -1 : 1))).toEqual(
      [first, second]
        .map((m) => ({ record_id: recordId(m), seq: 1, issued_at: m['issued_at'], current: false }))
        .sort((a, b) => (a.record_id < b.record_id ? -1 : 1)),
    );

    // A's node report and governance report, as GET /nodes/<did> lists them...
    const ownReports = seen.reporters.filter((r) => r.reporter === self);
    expect(ownReports).toEqual([expect.objectContaining({ reporter: self, reason: 'invalid_metadata', counted: true })]);
    expect(seen.governance).toEqual([{ reporter: self, grounds: 'equivocation', record: expect.stringMatching(/^[0-9a-f]{64}$/) }]);
    const reportId = (ownReports[0] as { record: string }).record;
    const governanceId = (seen.governance[0] as { record: string }).record;

    // ...are records in A's ORIGIN stream, signed by A, citing exactly the two manifests.
    const reports = (await originRecords('node_report')).filter((r) => r.document['subject'] === node.did);
    expect(reports.map((r) => ({ id: recordId(r.document), msgId: r.msgId }))).toEqual([{ id: reportId, msgId: `${OPERATOR}.${reportId}` }]);
    expect(reports[0]?.document).toMatchObject({ kind: 'node_report', reporter: self, subject: node.did, reason: 'invalid_metadata', evidence: both, seq: 1 });
    const governance = (await originRecords('governance_report')).filter((r) => r.document['subject'] === node.did);
    expect(governance.map((r) => ({ id: recordId(r.document), msgId: r.msgId }))).toEqual([{ id: governanceId, msgId: `${OPERATOR}.${governanceId}` }]);
    expect(governance[0]?.document).toMatchObject({ kind: 'governance_report', reporter: self, subject: node.did, grounds: 'equivocation', evidence: both, seq: 1 });
    // The node names no operator, so the report names none either.
    expect(governance[0]?.document).not.toHaveProperty('subject_operator');
  });

  it('refuses records put on the bus as another kind, re-encoded, with a duplicate member or a wrong msg-id', async () => {
    // Reports about A itself by keys of the test's making: each case has a reporter of its
    // own, so that whether A kept it shows in A's `reporters` of itself. (One report for
    // all cases cannot work: its msg-id is `opa.<record id>` whatever its bytes, and
    // ORIGIN drops a repeated msg-id for two minutes, so later cases would never be stored.)
    const evidence = [sha256Hex(Buffer.from('evidence cited by the bus checks'))];
    const cases = ['kind', 'reordered', 'escaped', 'duplicate', 'msg_id', 'control'] as const;
    const keys = Object.fromEntries(cases.map((c) => [c, generateSigningKey()])) as Record<(typeof cases)[number], ReturnType<typeof generateSigningKey>>;
    const records = Object.fromEntries(
      cases.map((c) => [c, signRecord({ kind: 'node_report', reporter: keys[c].did, subject: self, reason: 'unavailable', evidence, seq: 1 }, keys[c])]),
    ) as Record<(typeof cases)[number], ReturnType<typeof signRecord>>;
    const canonical = (c: (typeof cases)[number]) => Buffer.from(canonicalBytes(records[c].document));
    const reason = '"reason":"unavailable"';

    const reordered = Buffer.from(JSON.stringify(Object.fromEntries(Object.entries(records.reordered.document).reverse())));
    const escaped = Buffer.from(canonical('escaped').toString('utf8').replace(reason, '"reason":"\\u0075navailable"'));
    const duplicated = Buffer.from(canonical('duplicate').toString('utf8').replace(reason, `${reason},${reason}`));
    // Other bytes, the same record: what a lax reader (JSON.parse, last member wins) would keep.
    for (const [c, bytes] of [['reordered', reordered], ['escaped', escaped], ['duplicate', duplicated]] as const) {
      expect(bytes.equals(canonical(c))).toBe(false);
      expect(Buffer.from(canonicalBytes(JSON.parse(bytes.toString('utf8')) as object)).equals(canonical(c))).toBe(true);
    }

    const publish = async (kind: string, bytes: Uint8Array, msgID: string): Promise<PubAck> => js.publish(originSubject(OPERATOR, kind), bytes, { msgID });
    const msgId = (c: (typeof cases)[number]) => `${OPERATOR}.${records[c].id}`;
    const acks = [
      // a) a node_report under the subject of node attestations
      await publish('node_attestation', canonical('kind'), msgId('kind')),
      // b) members reordered, c) a letter escaped, d) a member twice
      await publish('node_report', reordered, msgId('reordered')),
      await publish('node_report', escaped, msgId('escaped')),
      await publish('node_report', duplicated, msgId('duplicate')),
      // e) canonical bytes under the msg-id of another record
      await publish('node_report', canonical('msg_id'), `${OPERATOR}.${sha256Hex(Buffer.from('another record'))}`),
      // f) the control: canonical bytes, right subject, right msg-id
      await publish('node_report', canonical('control'), msgId('control')),
    ];
    // Each was stored in ORIGIN (none dropped as a duplicate), one after the other.
    expect(acks.map((a) => ({ stream: a.stream, duplicate: a.duplicate }))).toEqual(acks.map(() => ({ stream: originStreamName(OPERATOR), duplicate: false })));

    const seen = await waitFor(
      async () => {
        const v = await view(self);
        return v?.reporters.some((r) => r.reporter === keys.control.did) ? v : undefined;
      },
      { timeoutMs: 10_000, description: 'A holds the control report' },
    );
    expect(seen.reporters.filter((r) => r.reporter === keys.control.did)).toEqual([
      { reporter: keys.control.did, operator: keys.control.did, reason: 'unavailable', record: records.control.id, counted: false, why: 'the reporter is not admitted' },
    ]);
    // Records are applied in stream order: the ones before the control were read and refused.
    const refused = cases.filter((c) => c !== 'control');
    expect({
      reporters: refused.filter((c) => seen.reporters.some((r) => r.reporter === keys[c].did)),
      attesters: refused.filter((c) => seen.attesters.some((a) => a.attester === keys[c].did)),
    }).toEqual({ reporters: [], attesters: [] });
  });

  it('follows a key rotation: services signed by the new key count, older ones stay valid, the old key signs nothing new', async () => {
    const node = await rogue('rotator');
    const k2 = generateSigningKey();
    const t0 = Date.now() - 10 * 60_000;
    const at = (minutes: number) => new Date(t0 + minutes * 60_000);
    const m1 = node.nodeManifest({ seq: 1, issuedAt: at(0) });
    const s1 = node.serviceManifest({ seq: 1, issuedAt: at(1) });
    const m2 = node.nodeManifest({ seq: 2, issuedAt: at(2), publicKey: k2.did });
    const s2 = node.serviceManifest({ seq: 2, issuedAt: at(3), signer: k2 });
    const s3 = node.serviceManifest({ seq: 3, issuedAt: at(4) });
    expect({ m1: m1['public_key'], m2: m2['public_key'], service: [s1, s2, s3].map((s) => s['service_id']) }).toEqual({
      m1: node.did,
      m2: k2.did,
      service: [node.serviceId, node.serviceId, node.serviceId],
    });
    node.serve({ node: m1, services: [s1] });

    expect((await announce(announcement(m1, [s1]))).status).toBe(202);
    await waitFor(async () => ((await view(node.did))?.service_manifests[0]?.['seq'] === 1 ? true : undefined), { timeoutMs: 10_000, description: 'A holds service seq 1' });

    node.serve({ node: m2, services: [s2] });
    const rotated = await announce(announcement(m2, [s2]));
    expect(rotated.status).toBe(202);
    expect(rotated.json).toEqual({ node_id: node.did, records: [recordId(m2), recordId(s2)], location: `/nodes/${node.did}` });
    const seen = await waitFor(
      async () => {
        const v = await view(node.did);
        return v?.manifests.length === 2 && v.service_manifests[0]?.['seq'] === 2 ? v : undefined;
      },
      { timeoutMs: 10_000, description: 'A holds manifest seq 2 and service seq 2' },
    );
    expect(seen.manifests.map((m) => [m.seq, m.current])).toEqual([[1, false], [2, true]]);
    expect(seen.node_manifest).toEqual(m2);
    expect(seen.service_manifests).toEqual([s2]);
    // Service seq 1, signed by K1 before the rotation, is a valid version, not a wrong signer.
    expect(seen.findings).toEqual([]);
    expect([...seen.churn.records].sort()).toEqual([m1, s1, m2, s2].map((d) => recordId(d)).sort());

    // After the rotation K1 signs nothing: refused with the field named, and nothing stored.
    const before = await originCounts();
    const refused = await announce(announcement(m2, [s3]));
    expectProblem(refused, 422, 'signature.wrong_signer', '$.service_manifests[0].signature');
    expect(await originCounts()).toEqual(before);
    const after = await view(node.did);
    expect(after?.service_manifests).toEqual([s2]);
    expect(after?.churn.records).not.toContain(recordId(s3));
  });
});
