import { describe, expect, it } from 'vitest';
import { generateSigningKey } from '@dmf/protocol';
import { admittedOrigins, computeRegistry, type Registry } from '../src/domain/registry.ts';
import { reputationOf } from '../src/domain/reputation.ts';
import { DEFAULT_REGISTRY_POLICY, type RegistryRecord } from '../src/domain/records.ts';
import { at, attestation, DAY, nodeManifest, report, serviceManifest, testNode, type TestNode } from './fixtures.ts';

const NOW = at(2 * DAY);

/** A (this node) and B (its bootstrap peer), each its own operator, plus newcomer C. */
function federation() {
  const a = testNode('opa');
  const b = testNode('opb');
  const c = testNode('opc');
  const manifests = { a: nodeManifest(a), b: nodeManifest(b), c: nodeManifest(c) };
  return { a, b, c, manifests };
}

function registryAs(self: TestNode, records: RegistryRecord[], o: { bootstrap?: TestNode[]; quarantined?: TestNode[]; now?: Date } = {}): Registry {
  return computeRegistry(records, {
    self: self.id,
    bootstrap: (o.bootstrap ?? []).map((n) => n.id),
    quarantined: (o.quarantined ?? []).map((n) => n.id),
    now: o.now ?? NOW,
  });
}

function stateOf(registry: Registry, node: TestNode) {
  return registry.nodes.get(node.id)?.state;
}

describe('admission', () => {
  it('takes a newcomer from pending through attested to admitted with attestations of two operators', () => {
    const { a, b, c, manifests } = federation();
    const base = [manifests.a, manifests.b, manifests.c];
    expect(stateOf(registryAs(a, base, { bootstrap: [b] }), c)).toBe('pending');
    expect(stateOf(registryAs(a, base, { bootstrap: [b] }), b)).toBe('admitted');

    const byA = attestation(a, c, manifests.c);
    const attested = registryAs(a, [...base, byA], { bootstrap: [b] });
    expect(stateOf(attested, c)).toBe('attested');
    expect(attested.nodes.get(c.id)?.reasons.join(' ')).toMatch(/has 1/);

    const byB = attestation(b, c, manifests.c);
    const admitted = registryAs(a, [...base, byA, byB], { bootstrap: [b] });
    expect(stateOf(admitted, c)).toBe('admitted');
    expect(admitted.admitted).toEqual([a.id, b.id, c.id].sort());
    expect(admitted.nodes.get(c.id)?.reasons[0]).toContain(b.id);
  });

  it('counts attesters by operator: three nodes of one operator do not admit a newcomer', () => {
    const operator = generateSigningKey();
    const a1 = testNode('opa', operator);
    const a2 = testNode('opa', operator);
    const a3 = testNode('opa', operator);
    const c = testNode('opc');
    const mc = nodeManifest(c);
    const records = [nodeManifest(a1), nodeManifest(a2), nodeManifest(a3), mc, attestation(a1, c, mc), attestation(a2, c, mc), attestation(a3, c, mc)];
    const registry = registryAs(a1, records, { bootstrap: [a2, a3] });
    expect(stateOf(registry, c)).toBe('attested');
    expect(registry.nodes.get(c.id)?.attesters.filter((x) => x.counted)).toHaveLength(3);
    expect(registry.nodes.get(c.id)?.reasons.join(' ')).toMatch(/2 different operators, has 1/);
    expect(registry.nodes.get(a2.id)?.operator).toBe(operator.did);
  });

  it('does not let a node attest itself', () => {
    const { a, b, c, manifests } = federation();
    // The wire format refuses it (a kind rule), and the registry does not count it either.
    expect(() => attestation(c, c, manifests.c)).toThrow(/attestation\.self/);
    const byA = attestation(a, c, manifests.c);
    const self = { ...byA, id: 'f'.repeat(64), signer: c.id, document: { ...byA.document, attester: c.id } };
    const records = [manifests.a, manifests.b, manifests.c, self, byA];
    const registry = registryAs(a, records, { bootstrap: [b] });
    expect(stateOf(registry, c)).toBe('attested');
    const own = registry.nodes.get(c.id)?.attesters.find((x) => x.attester === c.id);
    expect(own).toMatchObject({ counted: false, why: 'a node cannot attest itself' });
  });

  it('ignores attestations by nodes that are not admitted, then counts them once they are', () => {
    const { a, b, c, manifests } = federation();
    const d = testNode('opd');
    const md = nodeManifest(d);
    const dAttestsC = attestation(d, c, manifests.c);
    const aAttestsC = attestation(a, c, manifests.c);
    const records = [manifests.a, manifests.b, manifests.c, md, dAttestsC, aAttestsC];
    expect(stateOf(registryAs(a, records, { bootstrap: [b] }), c)).toBe('attested');
    // D gets admitted (by A and B); now its attestation of C counts: a chain of admission.
    const chain = [...records, attestation(a, d, md), attestation(b, d, md)];
    const registry = registryAs(a, chain, { bootstrap: [b] });
    expect(stateOf(registry, d)).toBe('admitted');
    expect(stateOf(registry, c)).toBe('admitted');
  });

  it('does not count attestations that expired, failed integrity or report low uptime', () => {
    const { a, b, c, manifests } = federation();
    const base = [manifests.a, manifests.b, manifests.c, attestation(a, c, manifests.c)];
    const expired = registryAs(a, [...base, attestation(b, c, manifests.c, { validForMs: DAY / 2 })], { bootstrap: [b] });
    expect(expired.nodes.get(c.id)?.attesters.find((x) => x.attester === b.id)?.why).toMatch(/^expired at/);
    const failed = registryAs(a, [...base, attestation(b, c, manifests.c, { integrity: false })], { bootstrap: [b] });
    expect(failed.nodes.get(c.id)?.attesters.find((x) => x.attester === b.id)?.why).toBe('reports failed integrity checks');
    const low = registryAs(a, [...base, attestation(b, c, manifests.c, { uptimePpm: 500_000 })], { bootstrap: [b] });
    expect(stateOf(low, c)).toBe('attested');
  });

  it('uses the newest attestation of each attester', () => {
    const { a, b, c, manifests } = federation();
    const records = [manifests.a, manifests.b, manifests.c, attestation(a, c, manifests.c), attestation(b, c, manifests.c, { seq: 1 })];
    expect(stateOf(registryAs(a, records, { bootstrap: [b] }), c)).toBe('admitted');
    const withdrawn = [...records, attestation(b, c, manifests.c, { seq: 2, integrity: false, issuedAt: at(DAY + 60_000) })];
    expect(stateOf(registryAs(a, withdrawn, { bootstrap: [b] }), c)).toBe('attested');
  });

  it('does not admit a node whose current manifest expired, and says so', () => {
    const { a, b, c } = federation();
    const mc = nodeManifest(c, { validForMs: DAY });
    const records = [nodeManifest(a), nodeManifest(b), mc, attestation(a, c, mc), attestation(b, c, mc)];
    const registry = registryAs(a, records, { bootstrap: [b] });
    expect(stateOf(registry, c)).toBe('expired');
    expect(registry.nodes.get(c.id)?.reasons[0]).toMatch(/expired at .* it must republish/);
  });

  it('gives the same registry whatever order the records come in', () => {
    const { a, b, c, manifests } = federation();
    const d = testNode('opd');
    const md = nodeManifest(d);
    const records = [manifests.a, manifests.b, manifests.c, md, attestation(a, c, manifests.c), attestation(b, c, manifests.c), attestation(c, d, md), attestation(a, d, md), report(a, d, md.id)];
    const summary = (r: Registry) => JSON.stringify([...r.nodes.values()].map((v) => [v.nodeId, v.state, v.reasons, v.attesters, v.reporters]));
    const expected = summary(registryAs(a, records, { bootstrap: [b] }));
    for (let round = 0; round < 20; round++) {
      const shuffled = [...records].sort(() => Math.random() - 0.5);
      expect(summary(registryAs(a, shuffled, { bootstrap: [b] }))).toBe(expected);
    }
  });
});

describe('manifest history', () => {
  it('keeps two different manifests with one seq as evidence, makes neither current, and quarantines the node', () => {
    const { a, b, c, manifests } = federation();
    const one = nodeManifest(c, { seq: 2, region: 'eu-west', issuedAt: at(1000) });
    const other = nodeManifest(c, { seq: 2, region: 'us-east', issuedAt: at(1000) });
    const registry = registryAs(a, [manifests.a, manifests.b, manifests.c, one, other, attestation(a, c, manifests.c), attestation(b, c, manifests.c)], { bootstrap: [b] });
    const view = registry.nodes.get(c.id);
    expect(view?.state).toBe('quarantined');
    expect(view?.history.current).toBeUndefined();
    const finding = view?.history.findings.find((f) => f.code === 'equivocation');
    expect(finding?.records.sort()).toEqual([one.id, other.id].sort());
    expect(view?.reasons.join(' ')).toMatch(/equivocation/);
  });

  it('ignores a manifest for a node id signed by someone other than its controller', () => {
    const { a, b, c, manifests } = federation();
    const thief = generateSigningKey();
    const hijack = nodeManifest(c, { seq: 9, signer: thief, operatorDid: thief.did, issuedAt: at(1000) });
    const registry = registryAs(a, [manifests.a, manifests.b, manifests.c, hijack], { bootstrap: [b] });
    const view = registry.nodes.get(c.id);
    expect(view?.history.current?.id).toBe(manifests.c.id);
    expect(view?.history.findings.find((f) => f.code === 'foreign_signer')?.records).toEqual([hijack.id]);
  });

  it('after a key rotation refuses service manifests signed by the old key, and keeps those signed before it', () => {
    const { a, c } = federation();
    const newKey = generateSigningKey();
    const before = serviceManifest(c, { seq: 1, issuedAt: at(1000) });
    const rotation = nodeManifest(c, { seq: 2, publicKey: newKey.did, issuedAt: at(DAY) });
    const registry1 = registryAs(a, [nodeManifest(a), nodeManifest(c), before, rotation]);
    const history1 = registry1.nodes.get(c.id)?.history;
    // Signed before the rotation: still a valid record (no finding), but not current: the
    // node serves what its current key signs.
    expect(history1?.serviceVersions.map((s) => s.id)).toEqual([before.id]);
    expect(history1?.findings).toEqual([]);
    expect(history1?.services).toEqual([]);

    const oldKeyAfter = serviceManifest(c, { seq: 2, issuedAt: at(DAY + 1000) });
    const registry2 = registryAs(a, [nodeManifest(a), nodeManifest(c), before, rotation, oldKeyAfter]);
    const history2 = registry2.nodes.get(c.id)?.history;
    expect(history2?.findings.find((f) => f.code === 'service_wrong_signer')?.records).toEqual([oldKeyAfter.id]);
    expect(history2?.services).toEqual([]);

    // The old key's holder backdates a higher version to before the rotation: valid as a
    // record of that time, never current.
    const backdated = serviceManifest(c, { seq: 5, issuedAt: at(DAY - 1000) });
    const newKeyAfter = serviceManifest(c, { seq: 2, issuedAt: at(DAY + 1000), signer: newKey });
    const registry3 = registryAs(a, [nodeManifest(a), nodeManifest(c), before, rotation, newKeyAfter, backdated]);
    expect(registry3.nodes.get(c.id)?.history.services).toEqual([]);
    const registry4 = registryAs(a, [nodeManifest(a), nodeManifest(c), before, rotation, newKeyAfter]);
    expect(registry4.nodes.get(c.id)?.history.services.map((s) => s.id)).toEqual([newKeyAfter.id]);
  });

  it('does not let a claim signed by someone else quarantine or displace a node that signs its own manifests', () => {
    const { a, b, c, manifests } = federation();
    const thief = generateSigningKey();
    const claim = nodeManifest(c, { seq: 1, signer: thief, operatorDid: thief.did });
    const records = [manifests.a, manifests.b, manifests.c, claim, attestation(a, c, manifests.c), attestation(b, c, manifests.c)];
    const registry = registryAs(a, records, { bootstrap: [b] });
    const view = registry.nodes.get(c.id);
    expect(view?.state).toBe('admitted');
    expect(view?.history.current?.id).toBe(manifests.c.id);
    expect(view?.history.findings.map((f) => f.code)).toEqual(['foreign_signer']);
  });

  it('leaves a node signed only by operators without a current manifest when two claim its first seq, without quarantining it', () => {
    const { a, b } = federation();
    const operator = generateSigningKey();
    const c = testNode('opc', operator);
    const genuine = nodeManifest(c);
    const thief = generateSigningKey();
    const claim = nodeManifest(c, { seq: 1, signer: thief, operatorDid: thief.did });
    const view = registryAs(a, [nodeManifest(a), nodeManifest(b), genuine, claim], { bootstrap: [b] }).nodes.get(c.id);
    expect(view?.state).toBe('pending');
    expect(view?.history.current).toBeUndefined();
    expect(view?.reasons.join(' ')).toMatch(/controller_conflict/);
  });

  it('quarantines a node for manifest churn', () => {
    const { a, b, c } = federation();
    const churn = Array.from({ length: DEFAULT_REGISTRY_POLICY.churnLimit + 1 }, (_, i) => nodeManifest(c, { seq: i + 1, issuedAt: at(i * 60_000) }));
    const registry = registryAs(a, [nodeManifest(a), nodeManifest(b), ...churn], { bootstrap: [b], now: at(DAY) });
    const view = registry.nodes.get(c.id);
    expect(view?.state).toBe('quarantined');
    expect(view?.churn.count).toBe(DEFAULT_REGISTRY_POLICY.churnLimit + 1);
    expect(view?.reasons.join(' ')).toMatch(/manifest_churn: 21 manifest versions within 60 minutes/);
    const calm = Array.from({ length: DEFAULT_REGISTRY_POLICY.churnLimit + 1 }, (_, i) => nodeManifest(c, { seq: i + 1, issuedAt: at(i * 3_600_000) }));
    expect(registryAs(a, [nodeManifest(a), nodeManifest(b), ...calm], { bootstrap: [b], now: at(DAY) }).nodes.get(c.id)?.state).toBe('pending');
  });

  it('quarantines a node whose ORIGIN carried many bad fingerprints, not one of its own operator\'s token', () => {
    const { a, b, c, manifests } = federation();
    const records = [manifests.a, manifests.b, manifests.c, attestation(a, c, manifests.c), attestation(b, c, manifests.c)];
    const local = { self: a.id, bootstrap: [b.id], quarantined: [], now: NOW };
    const bad = computeRegistry(records, { ...local, signals: new Map([['opc', { records: 100, invalid: 0, badFingerprint: 25 }]]) });
    expect(bad.nodes.get(c.id)?.state).toBe('quarantined');
    expect(bad.nodes.get(c.id)?.reasons[0]).toMatch(/^bad_fingerprint: 25 of the 100 records/);
    expect(bad.nodes.get(c.id)?.carried).toEqual({ records: 100, invalid: 0, badFingerprint: 25 });
    // The same counts under our own token are ours to fix, not a peer's fault.
    const own = computeRegistry(records, { ...local, signals: new Map([['opa', { records: 100, invalid: 0, badFingerprint: 25 }]]) });
    expect(own.nodes.get(c.id)?.state).toBe('admitted');
    expect(own.nodes.get(a.id)?.carried).toBeUndefined();
  });

  it('quarantines by hand only in this node\'s own view, never itself', () => {
    const { a, b, c, manifests } = federation();
    const records = [manifests.a, manifests.b, manifests.c, attestation(a, c, manifests.c), attestation(b, c, manifests.c)];
    expect(stateOf(registryAs(a, records, { bootstrap: [b], quarantined: [c] }), c)).toBe('quarantined');
    expect(stateOf(registryAs(a, records, { bootstrap: [b], quarantined: [a] }), a)).toBe('admitted');
  });
});

describe('delisting', () => {
  function admittedC() {
    const { a, b, c, manifests } = federation();
    const d = testNode('opd');
    const md = nodeManifest(d);
    const records = [manifests.a, manifests.b, manifests.c, md, attestation(a, c, manifests.c), attestation(b, c, manifests.c), attestation(a, d, md), attestation(b, d, md)];
    return { a, b, c, d, manifests, records };
  }

  it('delists a node reported by admitted nodes of two operators, not one', () => {
    const { a, b, c, manifests, records } = admittedC();
    expect(stateOf(registryAs(a, [...records, report(a, c, manifests.c.id)], { bootstrap: [b] }), c)).toBe('admitted');
    const registry = registryAs(a, [...records, report(a, c, manifests.c.id), report(b, c, manifests.c.id, { reason: 'manifest_churn' })], { bootstrap: [b] });
    expect(stateOf(registry, c)).toBe('delisted');
    expect(registry.admitted).not.toContain(c.id);
    expect(registry.nodes.get(c.id)?.reasons[0]).toMatch(/2 operators/);
  });

  it('takes away the attestations of a delisted node', () => {
    const { a, b, c, d, manifests, records } = admittedC();
    const e = testNode('ope');
    const me = nodeManifest(e);
    const withE = [...records, me, attestation(c, e, me), attestation(a, e, me)];
    expect(stateOf(registryAs(a, withE, { bootstrap: [b] }), e)).toBe('admitted');
    const delisted = registryAs(a, [...withE, report(a, c, manifests.c.id), report(d, c, manifests.c.id)], { bootstrap: [b] });
    expect(stateOf(delisted, c)).toBe('delisted');
    expect(stateOf(delisted, e)).toBe('attested');
  });

  it('ignores reports by the subject\'s own operator and by nodes not admitted', () => {
    const { a, b, c, manifests, records } = admittedC();
    const outsider = testNode('opx');
    expect(() => report(c, c, manifests.c.id)).toThrow(/report\.self/);
    const byA = report(a, c, manifests.c.id);
    const self = { ...byA, id: 'e'.repeat(64), signer: c.id, document: { ...byA.document, reporter: c.id } };
    const registry = registryAs(a, [...records, nodeManifest(outsider), byA, report(outsider, c, manifests.c.id), self], { bootstrap: [b] });
    expect(stateOf(registry, c)).toBe('admitted');
    const why = registry.nodes.get(c.id)?.reporters.filter((r) => !r.counted).map((r) => r.why).sort();
    expect(why).toEqual(['a node cannot report itself', 'the reporter is not admitted']);
  });
});

describe('origins and reputation', () => {
  it('sources every admitted operator once, not its own, and neither side of a conflicting claim', () => {
    const { a, b, c, manifests } = federation();
    const records = [manifests.a, manifests.b, manifests.c, attestation(a, c, manifests.c), attestation(b, c, manifests.c)];
    expect(admittedOrigins(registryAs(a, records, { bootstrap: [b] }), 'opa')).toEqual([
      { operator: 'opb', domain: 'opb' },
      { operator: 'opc', domain: 'opc' },
    ]);
    // Same token, same domain: not a conflict (two nodes of one operator share an ORIGIN).
    const b2 = testNode('opb');
    const mb2 = nodeManifest(b2);
    const shared = registryAs(a, [...records, mb2, attestation(a, b2, mb2), attestation(c, b2, mb2)], { bootstrap: [b] });
    expect(stateOf(shared, b2)).toBe('admitted');
    expect(admittedOrigins(shared, 'opa').map((o) => o.operator)).toEqual(['opb', 'opc']);
    // D claims ORIGIN_opb in another domain and gets admitted: opb is sourced from neither.
    const d = testNode('opb');
    const md = nodeManifest(d, { domain: 'elsewhere' });
    const conflicting = registryAs(a, [...records, md, attestation(a, d, md), attestation(c, d, md)], { bootstrap: [b] });
    expect(stateOf(conflicting, d)).toBe('admitted');
    expect(admittedOrigins(conflicting, 'opa')).toEqual([{ operator: 'opc', domain: 'opc' }]);
    expect(conflicting.nodes.get(b.id)?.history.findings.map((f) => f.code)).toContain('origin_conflict');
  });

  it('computes reputation from independent attestations and carried records', () => {
    const { a, b, c, manifests } = federation();
    const records = [manifests.a, manifests.b, manifests.c, attestation(a, c, manifests.c, { uptimePpm: 950_000 }), attestation(b, c, manifests.c, { uptimePpm: 990_000 })];
    const registry = registryAs(a, records, { bootstrap: [b] });
    const reputation = reputationOf(registry.nodes.values(), new Map([['opc', { records: 1000, invalid: 3 }]]));
    expect(reputation.get(c.id)).toEqual({ operator: c.id, nodes: 1, observations: 2, uptimePpm: 970_000, errorPpm: 0, correctnessPpm: 997_000 });
    expect(reputation.get(b.id)).toMatchObject({ observations: 0, uptimePpm: null, correctnessPpm: null });
  });
});
