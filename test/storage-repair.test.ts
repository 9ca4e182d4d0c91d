/**
 * Issue 6 end to end, on real parts: a coordinating node (`dmf up`: nats-server,
 * redis-server, HTTPS) and six storage agents (`dmf storage agent`, each on its own
 * 127.0.N.1 in one of three regions). The agents announce themselves, are probed and
 * admitted; a file is stored with `dmf storage put` (encoded, assigned, uploaded); two
 * holders are killed; the chunk is seen degraded once they are out, the repair queued
 * and executed, and the chunk healthy again on new holders; with the other two original
 * holders killed as well, `dmf storage get` rebuilds the file from the rebuilt shards,
 * byte for byte.
 */
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalBytes, cidOfBytes, generateSigningKey, readKeyFile, signRecord, type SigningKey } from '@dmf/protocol';
import { encodeChunk, rsScheme } from '@dmf/erasure';
import { makeTempDir, removeDir, waitFor } from '@dmf/testing';
import { runDmf } from '../apps/cli/test/run-dmf.ts';
import { httpsJson, makeTestCa, startNode, type DmfNode, type TestCa } from './support/dmf-nodes.ts';
import { startAgent, type RunningAgent } from './support/storage-agents.ts';

interface StatusAnswer {
  status: { group: string; seq: number; condition: string; shards: { shard: number; node: string; standing: string }[] };
  repairs: {
    task: string;
    group: string;
    coordinator: string;
    rebuild: { shard: number; node: string }[];
    job: { state: string; outcome?: { outcome: string; group?: string; task?: string; adopted?: string } } | null;
  }[];
}

/** Seconds a holder may be unreachable before its shards are rebuilt elsewhere (short, for the test). */
const DOWN_TO_OUT_S = 3;
const COORDINATOR_ENV = {
  // One operator here: its own attestation admits an agent (spec 4.2 asks two operators; DMF_ATTESTERS_NEEDED says how many).
  DMF_ATTESTERS_NEEDED: '1',
  DMF_STORAGE_DOWN_TO_OUT: String(DOWN_TO_OUT_S),
  DMF_STORAGE_CHECK_INTERVAL: '1',
};

describe('storage coordination with six real storage agents', () => {
  let dir: string;
  let tls: TestCa;
  let coordinator: DmfNode;
  const agents: RunningAgent[] = [];

  const get = async <T>(path: string): Promise<{ status: number; body: T }> => {
    const answer = await httpsJson('GET', `${coordinator.url}${path}`, tls.ca.cert);
    return { status: answer.status, body: JSON.parse(answer.body) as T };
  };
  const clientFlags = () => ['--coordinator', coordinator.url, '--ca', tls.caFile, '--allow-address', '127.0.0.0/8'];
  const post = async (path: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> => {
    const answer = await httpsJson('POST', `${coordinator.url}${path}`, tls.ca.cert, typeof body === 'string' ? body : JSON.stringify(body));
    return { status: answer.status, body: JSON.parse(answer.body) as Record<string, unknown> };
  };
  const signed = (document: Record<string, unknown>, key: SigningKey, now?: Date) => new TextDecoder().decode(canonicalBytes(signRecord(document, key, now ? { now } : {}).document));
  const agentKey = (agent: RunningAgent) => readKeyFile(join(agent.dataDir, 'keys', 'node.key'));
  /** A chunk, its RS(2,2) shards and their CIDs. */
  const makeChunk = (size: number) => {
    const bytes = randomBytes(size);
    const shards = encodeChunk(rsScheme(2, 2), bytes);
    return { bytes, cid: cidOfBytes(bytes), shards, shardCids: shards.map((x) => cidOfBytes(x)) };
  };
  /** Restarts the coordinator on its port and data folder with other settings. */
  const restartCoordinator = async (env: Record<string, string>) => {
    await coordinator.stop();
    coordinator = await startNode({ name: 'coordinator', operator: 'opa', dir, tls, port: coordinator.port, env: { ...COORDINATOR_ENV, ...env } });
    await waitFor(async () => (await get<{ nodes: unknown[] }>('/storage_nodes')).body.nodes.length === agents.filter((a) => a.alive()).length, { timeoutMs: 30_000, description: 'storage nodes known again' });
  };

  beforeAll(async () => {
    dir = await makeTempDir('storage-repair');
    tls = await makeTestCa(dir);
    coordinator = await startNode({
      name: 'coordinator',
      operator: 'opa',
      dir,
      tls,
      env: COORDINATOR_ENV,
    });
    const regions = ['eu-west', 'eu-west', 'us-east', 'us-east', 'ap-south', 'ap-south'];
    agents.push(
      ...(await Promise.all(regions.map((region, i) => startAgent({ name: `agent${i}`, net: 10 + i, region, dir, tls, coordinators: [coordinator.url] })))),
    );
    // Announced, probed over a window, attested, admitted: all six are placement candidates.
    await waitFor(async () => (await get<{ nodes: unknown[] }>('/storage_nodes')).body.nodes.length === 6, { timeoutMs: 60_000, description: 'six storage nodes admitted' });
  }, 180_000);

  afterAll(async () => {
    await Promise.all(agents.map((a) => a.stop()));
    await coordinator?.stop();
    await removeDir(dir);
  }, 60_000);

  it('lists the admitted agents with region, capacity and standing', async () => {
    const { body } = await get<{ nodes: { node: string; region: string; capacity_bytes: number; free_bytes: number; standing: string }[] }>('/storage_nodes');
    expect(body.nodes.map((n) => n.node).sort()).toEqual(agents.map((a) => a.nodeId).sort());
    expect(new Set(body.nodes.map((n) => n.region))).toEqual(new Set(['eu-west', 'us-east', 'ap-south']));
    for (const n of body.nodes) expect(n).toMatchObject({ capacity_bytes: 2 ** 30, free_bytes: 2 ** 30, standing: 'up' });
  });

  it('refuses bad assignments naming the field, answers a repeated one the same, and a different one for the chunk with 409', async () => {
    const c = makeChunk(5000);
    const base = { chunk: c.cid, size: c.bytes.length, tier: 'warm', scheme: { type: 'rs', k: 2, m: 2 }, shards: c.shardCids };
    const cases: [unknown, number, string][] = [
      [{ ...base, shards: c.shardCids.slice(0, 3) }, 422, '$.shards'],
      [{ ...base, scheme: { type: 'replication', copies: 4 } }, 422, '$.shards[0]'],
      [{ ...base, scheme: { type: 'lrc', k: 3, l: 2, r: 1 } }, 422, '$.scheme'],
      [{ ...base, scheme: { type: 'rs', k: 5, m: 2 }, shards: [...c.shardCids, ...c.shardCids.slice(0, 3)] }, 503, '$.scheme'],
      [{ ...base, size: 0 }, 400, 'body.size'],
      [{ ...base, tier: 'lukewarm' }, 400, 'body.tier'],
      [{ ...base, shards: ['bafkrei-not-a-cid'] }, 400, 'body.shards'],
      [{ ...base, extra: 1 }, 400, 'body'],
    ];
    for (const [body, status, path] of cases) {
      const answer = await post('/assign_erasure_group', body);
      expect(answer.status, JSON.stringify(answer.body)).toBe(status);
      expect(answer.body['type']).toMatch(/^https:\/\//);
      expect(JSON.stringify(answer.body['errors'] ?? answer.body['detail'])).toContain(path);
    }
    expect((await get(`/chunk_status/${c.cid}`)).status).toBe(404);
    expect((await post('/assign_erasure_group', '{"chunk": ')).status).toBe(400);

    const first = await post('/assign_erasure_group', base);
    expect(first.status).toBe(201);
    const again = await post('/assign_erasure_group', base);
    expect(again.status).toBe(200);
    expect(again.body['group']).toBe(first.body['group']);
    const other = await post('/assign_erasure_group', { ...base, tier: 'hot' });
    expect(other.status).toBe(409);
    expect(other.body['detail']).toMatch(/^\$\.chunk: already assigned/);
    const group = await get<{ seq: number; holders: string[]; shards: string[] }>(`/erasure_group/${String(first.body['group'])}`);
    expect(group.body).toMatchObject({ seq: 1, shards: c.shardCids });
    expect((await get('/erasure_group/xyz')).status).toBe(400);
    expect((await get(`/erasure_group/${'0'.repeat(64)}`)).status).toBe(404);
    expect((await get('/chunk_status/not-a-cid')).status).toBe(400);
  });

  it('refuses shard reports and repair tasks that do not fit the log, naming the member', async () => {
    const c = makeChunk(4000);
    const assigned = await post('/assign_erasure_group', { chunk: c.cid, size: c.bytes.length, tier: 'warm', scheme: { type: 'rs', k: 2, m: 2 }, shards: c.shardCids });
    expect(assigned.status).toBe(201);
    const groupId = String(assigned.body['group']);
    const holders = (assigned.body['record'] as { holders: string[] }).holders;
    const holder = agents.find((a) => a.nodeId === holders[0]) as RunningAgent;
    const outsider = agents.find((a) => !holders.includes(a.nodeId)) as RunningAgent;
    const holderKey = await agentKey(holder);
    const stranger = generateSigningKey();
    const report = (key: SigningKey, over: Record<string, unknown> = {}) =>
      signed({ kind: 'shard_report', node: key.did, group: groupId, chunk: c.cid, shard: 0, cid: c.shardCids[0], state: 'stored', seq: Date.now(), ...over }, key);
    // Each holder says it stored its shard (the bytes are not needed for what is checked here): the chunk is healthy.
    for (const [shard, node] of holders.entries()) {
      const key = await agentKey(agents.find((a) => a.nodeId === node) as RunningAgent);
      const body = report(key, { shard, cid: c.shardCids[shard] });
      const answer = await post('/shard_report', body);
      expect(answer.status, JSON.stringify(answer.body)).toBe(202);
      // The same report again: the same answer, nothing new.
      expect(await post('/shard_report', body)).toEqual(answer);
    }
    await waitFor(async () => (await get<StatusAnswer>(`/chunk_status/${c.cid}`)).body.status?.condition === 'healthy', { timeoutMs: 10_000, description: 'chunk healthy' });
    const refusals: [string, number, string][] = [
      [report(stranger), 422, 'report.unknown_node'],
      [report(holderKey, { cid: c.shardCids[1] }), 422, 'report.cid_mismatch'],
      [report(holderKey, { group: '1'.repeat(64) }), 422, 'report.unknown_group'],
      [report(holderKey, { shard: 1, cid: c.shardCids[1] }), 422, 'report.not_holder'],
      [report(await agentKey(outsider), { node: outsider.nodeId }), 422, 'report.not_holder'],
      ['{"kind":"shard_report"', 400, 'json'],
    ];
    for (const [body, status, code] of refusals) {
      const answer = await post('/shard_report', body);
      expect(answer.status, JSON.stringify(answer.body)).toBe(status);
      expect(String(answer.body['type'])).toContain(code);
    }
    // A signed record of another kind.
    const wrongKind = await post('/shard_report', signed({ kind: 'repair_task', coordinator: stranger.did, group: groupId, chunk: c.cid, read: [{ shard: 0, node: holders[0] }], rebuild: [{ shard: 1, node: outsider.nodeId }], expires_at: new Date(Date.now() + 60_000).toISOString() }, stranger));
    expect(wrongKind.status).toBe(422);
    expect(String(wrongKind.body['type'])).toContain('intake.kind');

    const task = (key: SigningKey, over: Record<string, unknown> = {}, now?: Date) =>
      signed({ kind: 'repair_task', coordinator: key.did, group: groupId, chunk: c.cid, read: [{ shard: 0, node: holders[0] }, { shard: 1, node: holders[1] }], rebuild: [{ shard: 2, node: outsider.nodeId }], expires_at: new Date(Date.now() + 600_000).toISOString(), ...over }, key, now);
    const taskRefusals: [string, number, string][] = [
      [task(stranger), 422, 'repair.not_admitted'],
      // Every shard is live: nothing to rebuild.
      [task(holderKey), 422, 'repair.rebuild_live'],
      [task(holderKey, { group: '2'.repeat(64) }), 422, 'repair.unknown_group'],
      [task(holderKey, { read: [{ shard: 0, node: outsider.nodeId }] }), 422, 'repair.wrong_holder'],
      [task(holderKey, { expires_at: new Date(Date.now() - 1000).toISOString(), issued_at: new Date(Date.now() - 2000).toISOString() }, new Date(Date.now() - 1500)), 422, 'expired'],
    ];
    for (const [body, status, code] of taskRefusals) {
      const answer = await post('/repair_task', body);
      expect(answer.status, JSON.stringify(answer.body)).toBe(status);
      expect(String(answer.body['type'])).toContain(code);
    }
    // Nothing refused reached the log: the chunk is still one group, no repair.
    const status = await get<StatusAnswer>(`/chunk_status/${c.cid}`);
    expect(status.body.repairs).toEqual([]);
  });

  it('executes a repair task another admitted node posts (adopted and signed by the coordinator), once, and keeps its state across restarts', async () => {
    // Without chunk checks the coordinator plans no repair of its own: the posted task is the only one.
    await restartCoordinator({ DMF_STORAGE_CHECK_INTERVAL: '3600' });
    const c = makeChunk(6000);
    const file = join(dir, 'posted.bin');
    await writeFile(file, c.bytes);
    const put = await runDmf(['storage', 'put', file, '--scheme', 'rs:2:2', '--json', ...clientFlags()]);
    expect(put.code, put.stderr).toBe(0);
    const [{ group, holders }] = (JSON.parse(put.stdout) as { chunks: { group: string; holders: string[] }[] }).chunks as [{ group: string; holders: string[] }];
    // The holder of shard 3 says it lost it: the chunk is degraded (3 live, repair at 3 or fewer).
    const loser = agents.find((a) => a.nodeId === holders[3]) as RunningAgent;
    const loserKey = await agentKey(loser);
    expect((await post('/shard_report', signed({ kind: 'shard_report', node: loser.nodeId, group, chunk: c.cid, shard: 3, cid: c.shardCids[3], state: 'missing', seq: Date.now() + 60_000 }, loserKey))).status).toBe(202);
    const target = agents.find((a) => !holders.includes(a.nodeId)) as RunningAgent;
    const poster = await agentKey(agents.find((a) => a.nodeId === holders[0]) as RunningAgent);
    const task = signed({ kind: 'repair_task', coordinator: poster.did, group, chunk: c.cid, read: [{ shard: 0, node: holders[0] }, { shard: 1, node: holders[1] }], rebuild: [{ shard: 3, node: target.nodeId }], expires_at: new Date(Date.now() + 600_000).toISOString() }, poster);
    let accepted: { status: number; body: Record<string, unknown> } | undefined;
    // The missing report may take a moment to be read back into the projection.
    await waitFor(async () => (accepted = await post('/repair_task', task)).status !== 422 || !String(accepted.body['type']).includes('rebuild_live'), { timeoutMs: 10_000, description: 'task accepted' });
    expect(accepted?.status, JSON.stringify(accepted?.body)).toBe(202);
    const again = await post('/repair_task', task);
    expect(again).toEqual(accepted);
    type TaskAnswer = { record: { coordinator: string; rebuild: unknown }; job: { state: string; outcome?: { outcome: string; group?: string; task?: string; adopted?: string } } | null };
    let posted: TaskAnswer | undefined;
    await waitFor(async () => (posted = (await get<TaskAnswer>(`/repair_task/${String(accepted?.body['id'])}`)).body).job?.state === 'completed', { timeoutMs: 30_000, description: 'posted task executed' });
    const outcome = posted?.job?.outcome;
    expect(outcome).toMatchObject({ outcome: 'repaired', adopted: accepted?.body['id'] });
    // Adopted: the coordinator's own task with the same plan is what ran.
    const adopted = (await get<TaskAnswer>(`/repair_task/${String(outcome?.task)}`)).body;
    expect(adopted.record.coordinator).toBe(coordinator.nodeId);
    expect(adopted.record.rebuild).toEqual(posted?.record.rebuild);
    const next = await get<{ seq: number; holders: string[] }>(`/erasure_group/${String(outcome?.group)}`);
    expect(next.body.seq).toBe(2);
    expect(next.body.holders[3]).toBe(target.nodeId);

    // Restarted with checks again, the coordinator rebuilds its state from the log: the new group, healthy.
    await restartCoordinator({});
    await waitFor(async () => {
      const { body } = await get<StatusAnswer>(`/chunk_status/${c.cid}`);
      return body.status?.seq === 2 && body.status.condition === 'healthy';
    }, { timeoutMs: 30_000, description: 'state rebuilt after restart' });
    const after = (await get<StatusAnswer>(`/chunk_status/${c.cid}`)).body;
    expect(after.repairs.map((r) => r.task).sort()).toEqual([String(accepted?.body['id']), String(outcome?.task)].sort());
  }, 120_000);

  it("finds a shard rotten on an agent's disk by its self-audit, reports it corrupt, and rebuilds it", async () => {
    const c = makeChunk(7000);
    const file = join(dir, 'rotting.bin');
    await writeFile(file, c.bytes);
    const put = await runDmf(['storage', 'put', file, '--scheme', 'rs:2:2', '--json', ...clientFlags()]);
    expect(put.code, put.stderr).toBe(0);
    await waitFor(async () => (await get<StatusAnswer>(`/chunk_status/${c.cid}`)).body.status?.condition === 'healthy', { timeoutMs: 20_000, description: 'chunk healthy' });
    const { body } = await get<StatusAnswer>(`/chunk_status/${c.cid}`);
    const holder = agents.find((a) => a.nodeId === body.status.shards[0]?.node) as RunningAgent;
    // Bit rot: the bytes on disk change under the agent. Nobody reads them: its audit finds it.
    await writeFile(join(holder.dataDir, 'shards', c.shardCids[0] as string), Buffer.alloc(c.shards[0]?.length ?? 1, 0x55));
    let repaired: StatusAnswer | undefined;
    await waitFor(async () => {
      const { body: now } = await get<StatusAnswer>(`/chunk_status/${c.cid}`);
      if (now.status.seq > 1 && now.status.condition === 'healthy') repaired = now;
      return repaired !== undefined;
    }, { timeoutMs: 30_000, description: 'rotten shard rebuilt' });
    expect(holder.output()).toContain('audit: shard not as stored');
    expect(repaired?.repairs[0]?.rebuild.map((r) => r.shard)).toEqual([0]);
    const newHolder = agents.find((a) => a.nodeId === repaired?.status.shards[0]?.node) as RunningAgent;
    const rebuilt = await httpsJson('GET', `${newHolder.url}/shards/${c.shardCids[0]}`, tls.ca.cert);
    expect(rebuilt.status).toBe(200);

    // Rot found by a read instead: the agent refuses to serve it and reports it at once.
    const other = agents.find((a) => a.nodeId === repaired?.status.shards[1]?.node) as RunningAgent;
    await writeFile(join(other.dataDir, 'shards', c.shardCids[1] as string), Buffer.alloc(c.shards[1]?.length ?? 1, 0x66));
    const served = await httpsJson('GET', `${other.url}/shards/${c.shardCids[1]}`, tls.ca.cert);
    expect(served.status).toBe(404);
    expect(JSON.parse(served.body)).toMatchObject({ type: expect.stringContaining('shard.corrupt') });
    await waitFor(async () => (await get<StatusAnswer>(`/chunk_status/${c.cid}`)).body.status.seq > 2, { timeoutMs: 30_000, description: 'second rotten shard rebuilt' });
  }, 90_000);

  it('stores a file, repairs it after two holders are lost, and reads it back from the rebuilt shards', async () => {
    const original = randomBytes(300_000);
    const file = join(dir, 'original.bin');
    await writeFile(file, original);
    const put = await runDmf(['storage', 'put', file, '--scheme', 'rs:2:2', '--json', ...clientFlags()]);
    expect(put.stderr).toBe('');
    expect(put.code).toBe(0);
    const stored = JSON.parse(put.stdout) as { file_cid: string; chunks: { chunk: string; group: string; holders: string[] }[] };
    expect(stored.file_cid).toBe(cidOfBytes(original));
    expect(stored.chunks).toHaveLength(1);
    const [{ chunk, group, holders }] = stored.chunks as [{ chunk: string; group: string; holders: string[] }];
    // Four shards, four holders, two regions each at most (three regions, six nodes).
    expect(new Set(holders).size).toBe(4);

    // Every holder reports its shard: healthy.
    await waitFor(async () => (await get<StatusAnswer>(`/chunk_status/${chunk}`)).body.status?.condition === 'healthy', { timeoutMs: 20_000, description: 'chunk healthy' });
    const before = (await get<StatusAnswer>(`/chunk_status/${chunk}`)).body;
    expect(before.status).toMatchObject({ group, seq: 1 });
    expect(before.status.shards.map((s) => s.standing)).toEqual(['live', 'live', 'live', 'live']);

    // Two holders die.
    const killed = agents.filter((a) => holders.includes(a.nodeId)).slice(0, 2);
    await Promise.all(killed.map((a) => a.kill()));
    const killedIds = new Set(killed.map((a) => a.nodeId));

    // Watch: waiting (down, not out yet), then degraded, then repaired and healthy on a new group.
    const conditions: string[] = [];
    const standings = new Set<string>();
    let after: StatusAnswer | undefined;
    await waitFor(
      async () => {
        const { body } = await get<StatusAnswer>(`/chunk_status/${chunk}`);
        if (conditions.at(-1) !== body.status.condition) conditions.push(body.status.condition);
        for (const s of body.status.shards) if (killedIds.has(s.node)) standings.add(s.standing);
        if (body.status.condition === 'healthy' && body.status.seq > 1) after = body;
        return after !== undefined;
      },
      { timeoutMs: 60_000, intervalMs: 100, description: 'chunk repaired' },
    );
    const repaired = after as StatusAnswer;
    expect(conditions).toContain('degraded');
    // The down-to-out delay held off repair while the holders were only down.
    expect(standings).toContain('waiting');
    expect(repaired.status.seq).toBe(2);
    const newHolders = repaired.status.shards.map((s) => s.node);
    expect(newHolders.filter((n) => killedIds.has(n))).toEqual([]);
    expect(new Set(newHolders).size).toBe(4);
    // The repair task is in the log, and its job ran to completion.
    expect(repaired.repairs).toHaveLength(1);
    const [repair] = repaired.repairs as [StatusAnswer['repairs'][number]];
    expect(repair.group).toBe(group);
    expect(repair.rebuild.map((r) => r.node).every((n) => !holders.includes(n))).toBe(true);
    expect(repair.job).toMatchObject({ state: 'completed', outcome: { outcome: 'repaired', group: repaired.status.group } });

    // The other two original holders die too: only the rebuilt shards remain.
    await Promise.all(agents.filter((a) => holders.includes(a.nodeId) && !killedIds.has(a.nodeId)).map((a) => a.kill()));
    const out = join(dir, 'read-back.bin');
    const got = await runDmf(['storage', 'get', chunk, '--out', out, ...clientFlags()]);
    expect(got.stderr).toBe('');
    expect(got.code).toBe(0);
    expect(Buffer.compare(await readFile(out), original)).toBe(0);
  }, 180_000);
});
