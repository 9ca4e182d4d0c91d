import { describe, expect, it } from 'vitest';
import { computeRegistry, type ProbeView } from '../src/domain/registry.ts';
import { DEFAULT_REGISTRY_POLICY, type CarriedSignals, type RegistryRecord } from '../src/domain/records.ts';
import { plannedGovernanceReports, plannedReports } from '../src/domain/report-plan.ts';
import { signRecord } from '@dmf/protocol';
import { at, attestation, DAY, nodeManifest, report, testNode } from './fixtures.ts';

const a = testNode('opa');
const c = testNode('opc');
const limit = DEFAULT_REGISTRY_POLICY.churnLimit;

function plan(records: RegistryRecord[], probes: Map<string, ProbeView> = new Map(), signals?: Map<string, CarriedSignals>) {
  const registry = computeRegistry(records, { self: a.id, bootstrap: [], quarantined: [], now: at(DAY), probes, signals });
  return plannedReports(registry, a.id, DEFAULT_REGISTRY_POLICY, probes);
}

describe('plannedReports', () => {
  it('reports manifest churn once, with the churning versions as evidence', () => {
    const churn = Array.from({ length: limit + 1 }, (_, i) => nodeManifest(c, { seq: i + 1, issuedAt: at(i * 1000) }));
    const [planned, ...rest] = plan([nodeManifest(a), ...churn]);
    expect(rest).toEqual([]);
    expect(planned).toMatchObject({ subject: c.id, reason: 'manifest_churn' });
    expect(planned?.evidence.sort()).toEqual(churn.map((m) => m.id).sort());
  });

  it('reports equivocation as invalid metadata citing both documents', () => {
    const one = nodeManifest(c, { seq: 1, region: 'eu-west' });
    const other = nodeManifest(c, { seq: 1, region: 'us-east' });
    expect(plan([nodeManifest(a), one, other])).toEqual([
      expect.objectContaining({ subject: c.id, reason: 'invalid_metadata', evidence: [one.id, other.id].sort() }),
    ]);
  });

  it('reports a node that failed integrity checks, not one that was only unavailable', () => {
    const mc = nodeManifest(c);
    const integrity = new Map<string, ProbeView>([[c.id, { outcome: 'failed', findings: [{ code: 'manifest.invalid', detail: 'altered' }] }]]);
    expect(plan([nodeManifest(a), mc], integrity)).toEqual([expect.objectContaining({ reason: 'invalid_metadata', evidence: [mc.id] })]);
    const down = new Map<string, ProbeView>([[c.id, { outcome: 'failed', findings: [{ code: 'uptime', detail: 'answered 1 of 5' }] }]]);
    expect(plan([nodeManifest(a), mc], down)).toEqual([]);
    // Refused by this node's own address policy: nothing was fetched, nothing to report.
    const refused = new Map<string, ProbeView>([[c.id, { outcome: 'failed', findings: [{ code: 'address.refused', detail: '10.0.0.1 is private' }] }]]);
    expect(plan([nodeManifest(a), mc], refused)).toEqual([]);
  });

  it('reports bad fingerprints its ORIGIN carried, past the limit and the share, naming the node by its manifest', () => {
    const mc = nodeManifest(c);
    const many = new Map([['opc', { records: 400, invalid: 0, badFingerprint: 30 }]]);
    expect(plan([nodeManifest(a), mc], new Map(), many)).toEqual([expect.objectContaining({ subject: c.id, reason: 'bad_fingerprint', evidence: [mc.id] })]);
    // 30 of 10,000 is a small share: an honest relay of creators' mistakes.
    expect(plan([nodeManifest(a), mc], new Map(), new Map([['opc', { records: 10_000, invalid: 0, badFingerprint: 30 }]]))).toEqual([]);
    const invalid = new Map([['opc', { records: 100, invalid: 40, badFingerprint: 0 }]]);
    expect(plan([nodeManifest(a), mc], new Map(), invalid)).toEqual([expect.objectContaining({ reason: 'invalid_metadata' })]);
  });

  it('does not report again what this node already reported, nor itself', () => {
    const churn = Array.from({ length: limit + 1 }, (_, i) => nodeManifest(c, { seq: i + 1, issuedAt: at(i * 1000) }));
    const filed = report(a, c, churn[0]!.id, { reason: 'manifest_churn' });
    expect(plan([nodeManifest(a), ...churn, filed])).toEqual([]);
    const selfChurn = Array.from({ length: limit + 1 }, (_, i) => nodeManifest(a, { seq: i + 1, issuedAt: at(i * 1000) }));
    expect(plan(selfChurn)).toEqual([]);
  });
});

describe('plannedGovernanceReports', () => {
  const b = testNode('opb');

  it('asks the DAO to remove a delisted node, citing the reports that delisted it, once', () => {
    const mc = nodeManifest(c);
    const reports = [report(a, c, mc.id), report(b, c, mc.id, { reason: 'manifest_churn' })];
    const records = [nodeManifest(a), nodeManifest(b), mc, attestation(a, c, mc), attestation(b, c, mc), ...reports];
    const registry = computeRegistry(records, { self: a.id, bootstrap: [b.id], quarantined: [], now: at(2 * DAY) });
    expect(registry.nodes.get(c.id)?.state).toBe('delisted');
    const [planned, ...rest] = plannedGovernanceReports(registry, a.id);
    expect(rest).toEqual([]);
    expect(planned).toMatchObject({ subject: c.id, grounds: 'delisted', subjectOperator: undefined });
    expect(planned?.evidence.sort()).toEqual(reports.map((r) => r.id).sort());

    const filed = signRecord({ kind: 'governance_report', reporter: a.id, subject: c.id, grounds: 'delisted', evidence: planned?.evidence, seq: 1, issued_at: at(2 * DAY).toISOString() }, a.key, { now: at(2 * DAY) });
    const again = computeRegistry([...records, filed as never], { self: a.id, bootstrap: [b.id], quarantined: [], now: at(2 * DAY) });
    expect(again.nodes.get(c.id)?.governance).toEqual([{ reporter: a.id, grounds: 'delisted', record: filed.id }]);
    expect(plannedGovernanceReports(again, a.id)).toEqual([]);
  });

  it('reports an equivocating node with both documents as evidence', () => {
    const one = nodeManifest(c, { seq: 1, region: 'eu-west' });
    const other = nodeManifest(c, { seq: 1, region: 'us-east' });
    const registry = computeRegistry([nodeManifest(a), one, other], { self: a.id, bootstrap: [], quarantined: [], now: at(DAY) });
    expect(plannedGovernanceReports(registry, a.id)).toEqual([{ subject: c.id, subjectOperator: undefined, grounds: 'equivocation', evidence: [one.id, other.id].sort() }]);
  });
});
