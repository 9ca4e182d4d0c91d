import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { applyDefinitions } from '@dmf/bus';
import { definitionsFor, federatedStreamName, leafDeniedImports, originStreamName, originSubject, originSubjects } from '@dmf/streams';
import { startFederation, waitFor, type Federation } from '@dmf/testing';

// A record subject `dmf.origin.<op>.<kind>` is bound by op's ORIGIN stream, and subject
// interest crosses leaf connections: without protection, any server of the federation
// could publish `dmf.origin.victim.…` and have it stored in the victim's ORIGIN. Each
// operator's server therefore refuses its own record subjects from the hub
// (`deny_imports` on its leaf remote). Tested on nats-server 2.9.10.
describe('an operator refuses its own record subjects from the hub', () => {
  let open: Federation;
  let guarded: Federation;
  const connections: NatsConnection[] = [];

  beforeAll(async () => {
    [open, guarded] = await Promise.all([
      startFederation({ operators: ['victim', 'rogue'] }),
      startFederation({ operators: ['victim', 'rogue'], leafDenyImports: (op) => leafDeniedImports(op) }),
    ]);
    for (const federation of [open, guarded]) {
      const victim = await connect({ servers: federation.operators.victim!.url });
      connections.push(victim);
      await applyDefinitions(await jetstreamManager(victim), definitionsFor({ operator: 'victim', peers: [] }));
    }
  });
  afterAll(async () => {
    await Promise.all(connections.map((nc) => nc.close()));
    await Promise.all([open?.close(), guarded?.close()]);
  });

  /**
   * The rogue publishes `count` forgeries on the victim's subject at its own server,
   * then a marker the victim answers: the marker travels the same route after them, so
   * once it is answered every forgery that could arrive has arrived. The victim then
   * publishes one record; its sequence tells how many forgeries ORIGIN stored first.
   */
  async function forgeriesStored(federation: Federation, round: number): Promise<number> {
    const victim = await connect({ servers: federation.operators.victim!.url });
    const rogue = await connect({ servers: federation.operators.rogue!.url });
    connections.push(victim, rogue);
    const marker = `probe.marker.${round}`;
    victim.subscribe(marker, { callback: (_error, msg) => void msg.respond() });
    await victim.flush();
    // The marker's interest must have reached the rogue's server before it is used.
    await waitFor(() => rogue.request(marker, undefined, { timeout: 500 }).then(() => true), {
      timeoutMs: 10_000,
      description: 'a route from the rogue to the victim',
    });
    const js = jetstream(victim);
    const before = (await js.publish(originSubject('victim', 'content_manifest'), new TextEncoder().encode(`own ${round}a`))).seq;
    const subject = originSubject('victim', 'content_manifest');
    for (let i = 0; i < 20; i++) rogue.publish(subject, new TextEncoder().encode(`forged ${round}.${i}`));
    await rogue.request(marker, undefined, { timeout: 5_000 });
    const after = (await js.publish(subject, new TextEncoder().encode(`own ${round}b`))).seq;
    return after - before - 1;
  }

  it('without deny_imports, forgeries reach the victim’s ORIGIN (the hole this closes)', async () => {
    let round = 0;
    // Stream interest crosses the hub shortly after the stream is created: retry until it has.
    await waitFor(async () => (await forgeriesStored(open, round++)) === 20, { timeoutMs: 15_000, description: 'forgeries stored' });
  });

  it('with deny_imports, none does', async () => {
    // First prove that stream interest does cross this hub: a stream of the victim on a
    // subject it does not deny receives the rogue's publishes.
    const victim = await connect({ servers: guarded.operators.victim!.url });
    const rogue = await connect({ servers: guarded.operators.rogue!.url });
    connections.push(victim, rogue);
    const jsm = await jetstreamManager(victim);
    await jsm.streams.add({ name: 'PROBE', subjects: ['probe.stream.>'] });
    await waitFor(
      async () => {
        rogue.publish('probe.stream.x', new TextEncoder().encode('allowed'));
        await rogue.flush();
        return (await jsm.streams.info('PROBE')).state.messages > 0;
      },
      { timeoutMs: 15_000, description: "the rogue's publish in a victim stream" },
    );
    for (let round = 0; round < 3; round++) expect(await forgeriesStored(guarded, round)).toBe(0);
  });

  it("refuses peers the admin operations of its JetStream API, while they can still source its ORIGIN", async () => {
    const victim = await connect({ servers: guarded.operators.victim!.url });
    const rogue = await connect({ servers: guarded.operators.rogue!.url });
    connections.push(victim, rogue);
    // The rogue sources the victim's ORIGIN, as every peer does.
    const rogueJsm = await jetstreamManager(rogue);
    await applyDefinitions(rogueJsm, definitionsFor({ operator: 'rogue', peers: [{ operator: 'victim' }] }));
    const victimJsm = await jetstreamManager(victim);
    const origin = originStreamName('victim');
    const before = (await victimJsm.streams.info(origin)).state.messages;
    await jetstream(victim).publish(originSubject('victim', 'content_manifest'), new TextEncoder().encode('a record'));
    await waitFor(
      async () => (await rogueJsm.streams.info(federatedStreamName('rogue'))).state.messages >= before + 1,
      { timeoutMs: 15_000, description: "the victim's records in the rogue's FEDERATED" },
    );

    // Reading through the victim's domain works; changing anything does not.
    const remote = await jetstreamManager(rogue, { domain: 'victim', timeout: 1_000 });
    expect((await remote.streams.info(origin)).config.name).toBe(origin);
    const attempts: [string, () => Promise<unknown>][] = [
      ['delete a record', () => remote.streams.deleteMessage(origin, 1)],
      ['purge', () => remote.streams.purge(origin)],
      ['update', () => remote.streams.update(origin, { description: 'owned' })],
      ['create a stream', () => remote.streams.add({ name: 'ROGUE_X', subjects: ['rogue.x'] })],
      ['delete the stream', () => remote.streams.delete(origin)],
    ];
    for (const [what, attempt] of attempts) {
      await expect(attempt(), what).rejects.toThrow();
    }
    const after = await victimJsm.streams.info(origin);
    expect(after.state.messages).toBe(before + 1);
    expect(after.config.description ?? '').not.toBe('owned');
    await expect(victimJsm.streams.info('ROGUE_X')).rejects.toThrow(/not found/);
  });
});
