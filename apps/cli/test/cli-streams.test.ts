import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNatsServer, type NatsServerHandle } from '@dmf/testing';
import { runDmf } from './run-dmf.ts';

let server: NatsServerHandle;
const env = () => Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('DMF_')));

beforeAll(async () => {
  server = await startNatsServer({ name: 'cli-streams', domain: 'opa' });
});
afterAll(async () => {
  await server.close();
});

describe('dmf streams apply', () => {
  it('creates everything once, then reports every item unchanged, and adds a peer source as an update', async () => {
    const first = await runDmf(['streams', 'apply', '--nats-url', server.url, '--operator', 'opa', '--json'], { env: env() });
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const created = JSON.parse(first.stdout) as { kind: string; name: string; action: string }[];
    expect(created.map((e) => e.action)).toEqual(created.map(() => 'created'));
    expect(created.map((e) => e.name)).toEqual(expect.arrayContaining(['ORIGIN_opa', 'FEDERATED_opa']));

    const second = await runDmf(['streams', 'apply', '--operator', 'opa'], { env: { ...env(), DMF_NATS_URL: server.url } });
    expect(second.code).toBe(0);
    const lines = second.stdout.trim().split('\n');
    expect(lines).toHaveLength(created.length);
    for (const line of lines) expect(line).toMatch(/^unchanged /);

    const withPeer = await runDmf(['streams', 'apply', '--nats-url', server.url, '--operator', 'opa', '--peer', 'opb', '--json'], { env: env() });
    const report = JSON.parse(withPeer.stdout) as { name: string; action: string }[];
    expect(report.filter((e) => e.action !== 'unchanged').map((e) => [e.name, e.action])).toEqual([['FEDERATED_opa', 'updated']]);
  });

  it('explains what is missing or wrong, with exit 2 for usage and 1 for an unreachable server', async () => {
    const noUrl = await runDmf(['streams', 'apply'], { env: env() });
    expect(noUrl.code).toBe(2);
    expect(noUrl.stderr).toMatch(/^dmf: no NATS server given: pass --nats-url or set DMF_NATS_URL/);

    const badPeer = await runDmf(['streams', 'apply', '--nats-url', server.url, '--peer', 'Not Valid'], { env: env() });
    expect(badPeer.code).toBe(2);
    expect(badPeer.stderr).toMatch(/^dmf: --peer: "Not Valid" is not an operator token/);

    const down = await runDmf(['streams', 'apply', '--nats-url', 'nats://127.0.0.1:1'], { env: env() });
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/^dmf: cannot connect to NATS at nats:\/\/127\.0\.0\.1:1: /);
    expect(down.stderr.trim().split('\n')).toHaveLength(1);
  });
});
