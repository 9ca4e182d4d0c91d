/**
 * Admission, quarantine and delisting (spec 4.2, 4.3, 9), decided by this node for
 * itself from the log. Pure: the same records, local view and policy give the same
 * registry, whatever order the records arrived in, so any node can recompute another's
 * decisions (and `dmf projections verify` can compare a rebuild with the live state).
 *
 * States, from the spec's path: pending (a valid manifest seen) → probing/probed (this
 * node's checks against its entrypoints, local) → attested (this node signed a
 * `node_attestation`) → admitted (admitted nodes of at least `attestersNeeded` different
 * operators attest it). Bootstrap peers and the node itself are admitted by
 * configuration. Quarantined (local: by hand, or a finding of spec 9.1) and delisted
 * (reports from admitted nodes of `reportersNeeded` different operators) take a node out.
 */
import { MAX_FUTURE_SKEW_MS, type NodeAttestation, type NodeReport } from '@dmf/protocol';
import { busiestWindow, nodeHistory, QUARANTINE_FINDINGS, type Finding, type NodeHistory, type NodeManifestRecord, type ServiceManifestRecord } from './node-history.ts';
import { DEFAULT_REGISTRY_POLICY, type CarriedSignals, type LocalView, type RegistryPolicy, type RegistryRecord } from './records.ts';

export type NodeState = 'pending' | 'probing' | 'probed' | 'refused' | 'attested' | 'admitted' | 'expired' | 'quarantined' | 'delisted';

/** This node's own probing of a node (prober.ts), which is local and not on the log. */
export interface ProbeView {
  outcome: 'probing' | 'passed' | 'failed';
  /** What failed, or what was observed. */
  findings: { code: string; detail: string }[];
}

export type AttestationRecord = Extract<RegistryRecord, { kind: 'node_attestation' }>;
export type ReportRecord = Extract<RegistryRecord, { kind: 'node_report' }>;
export type GovernanceRecord = Extract<RegistryRecord, { kind: 'governance_report' }>;

/** A governance report about a node (spec 9.3: for the DAO; it changes no state here). */
export interface GovernanceView {
  reporter: string;
  grounds: 'delisted' | 'equivocation';
  record: string;
}

/** One attester's newest attestation of a node, and whether it counts towards admission. */
export interface AttesterView {
  attester: string;
  /** The attester's operator (its manifest's `operator`, else its node id). */
  operator: string;
  record: string;
  /** The figures it reports (spec 9.2 reputation is computed from them). */
  integrity: boolean;
  uptimePpm: number;
  availabilityPpm: number;
  /** Made by an admitted node of another operator (its figures feed reputation even when low). */
  independent: boolean;
  counted: boolean;
  /** Why it does not count. */
  why?: string;
}

export interface ReporterView {
  reporter: string;
  operator: string;
  reason: NodeReport['reason'];
  record: string;
  counted: boolean;
  why?: string;
}

/** Where a node's records are: the ORIGIN stream its FEDERATED peers source. */
export interface NodeOrigin {
  /** Operator token of its ORIGIN stream (`ORIGIN_<token>`). */
  operator: string;
  /** Its JetStream domain. */
  domain: string;
}

export interface NodeView {
  nodeId: string;
  state: NodeState;
  /** Why it is in that state, one sentence each. */
  reasons: string[];
  /** Its operator: the manifest's `operator`, else its node id (attesters count by it). */
  operator: string;
  bootstrap: boolean;
  history: NodeHistory;
  attesters: AttesterView[];
  reporters: ReporterView[];
  governance: GovernanceView[];
  churn: { count: number; windowMs: number; records: string[] };
  /** From the current manifest's capabilities, when it names both. */
  origin: NodeOrigin | undefined;
  /** What its ORIGIN carried into this node's log, when known. */
  carried: CarriedSignals | undefined;
}

export interface Registry {
  nodes: Map<string, NodeView>;
  /** Admitted nodes, sorted. */
  admitted: string[];
}

/**
 * Capability member naming the operator token of a node's ORIGIN stream. PROTOCOL.md
 * requires `region` and `jetstream_domain`; this one is a DMF addition in the open
 * capabilities object (docs/decisions.md).
 */
export const ORIGIN_CAPABILITY = 'origin_operator';

function latestBy<T extends { id: string; document: { seq: number } }>(records: readonly T[], key: (r: T) => string): T[] {
  const groups = new Map<string, T[]>();
  for (const r of records) {
    const k = key(r);
    const group = groups.get(k);
    if (group) group.push(r);
    else groups.set(k, [r]);
  }
  const latest: T[] = [];
  for (const group of groups.values()) {
    const top = group.reduce((max, r) => Math.max(max, r.document.seq), 0);
    const ids = new Set(group.filter((r) => r.document.seq === top).map((r) => r.id));
    // Two different records at the newest seq: neither wins (equivocation by the signer).
    if (ids.size === 1) latest.push(group.find((r) => r.document.seq === top) as T);
  }
  return latest.sort((a, b) => (a.id < b.id ? -1 : 1));
}

function originOf(history: NodeHistory): NodeOrigin | undefined {
  const capabilities = history.current?.document.capabilities as Record<string, unknown> | undefined;
  const operator = capabilities?.[ORIGIN_CAPABILITY];
  const domain = capabilities?.['jetstream_domain'];
  return typeof operator === 'string' && typeof domain === 'string' ? { operator, domain } : undefined;
}

export function computeRegistry(records: readonly RegistryRecord[], local: LocalView & { probes?: ReadonlyMap<string, ProbeView> }, policy: RegistryPolicy = DEFAULT_REGISTRY_POLICY): Registry {
  const now = local.now.getTime();
  const horizon = now + MAX_FUTURE_SKEW_MS;
  const nodeManifests = new Map<string, NodeManifestRecord[]>();
  const serviceManifests = new Map<string, ServiceManifestRecord[]>();
  const attestations: AttestationRecord[] = [];
  const reports: ReportRecord[] = [];
  const governance: GovernanceRecord[] = [];
  const add = <T>(map: Map<string, T[]>, key: string, value: T) => {
    const list = map.get(key);
    if (list) list.push(value);
    else map.set(key, [value]);
  };
  for (const r of records) {
    if (r.kind === 'node_manifest') add(nodeManifests, r.document.node_id, r);
    else if (r.kind === 'service_manifest') add(serviceManifests, r.document.node_id, r);
    else if (r.kind === 'node_attestation') attestations.push(r);
    else if (r.kind === 'node_report') reports.push(r);
    else governance.push(r);
  }

  const ids = [...new Set([...nodeManifests.keys(), ...local.bootstrap, local.self])].sort();
  const histories = new Map<string, NodeHistory>();
  for (const id of ids) histories.set(id, nodeHistory(id, nodeManifests.get(id) ?? [], serviceManifests.get(id) ?? [], local.now));
  const operatorOf = (id: string): string => {
    const current = histories.get(id)?.current?.document;
    return current?.operator ?? id;
  };
  const manifestIds = (id: string) => new Set((histories.get(id)?.manifests ?? []).map((m) => m.id));

  const bootstrap = new Set(local.bootstrap);
  // Two admitted nodes claiming one ORIGIN token with different domains: source neither (below).
  const origins = new Map(ids.map((id) => [id, originOf(histories.get(id) as NodeHistory)]));
  const ownToken = origins.get(local.self)?.operator;
  const carriedBy = (id: string) => {
    const token = origins.get(id)?.operator;
    return token === undefined || token === ownToken ? undefined : local.signals?.get(token);
  };
  const churn = new Map(ids.map((id) => [id, busiestWindow(histories.get(id) as NodeHistory, policy.churnWindowMs)]));
  const blockedBy = new Map<string, string[]>();
  for (const id of ids) {
    if (id === local.self) continue; // a node does not quarantine itself in its own view
    const why: string[] = [];
    if (local.quarantined.includes(id)) why.push('quarantined by this operator');
    for (const f of (histories.get(id) as NodeHistory).findings) if (QUARANTINE_FINDINGS.has(f.code)) why.push(`${f.code}: ${f.detail}`);
    const c = churn.get(id) as { count: number };
    if (c.count > policy.churnLimit) why.push(`manifest_churn: ${c.count} manifest versions within ${policy.churnWindowMs / 60_000} minutes (limit ${policy.churnLimit})`);
    why.push(...carriedProblems(carriedBy(id), policy));
    if (why.length > 0) blockedBy.set(id, why);
  }

  const latestAttestations = latestBy(attestations, (a) => `${a.document.attester} ${a.document.subject}`).filter((a) => issuedAtOrBefore(a.document.issued_at, horizon));
  const latestGovernance = latestBy(governance, (g) => `${g.document.reporter} ${g.document.subject}`).filter((g) => issuedAtOrBefore(g.document.issued_at, horizon));
  const latestReports = latestBy(reports, (r) => `${r.document.reporter} ${r.document.subject} ${r.document.reason}`).filter((r) => issuedAtOrBefore(r.document.issued_at, horizon));

  /** Why the attester's word does not count at all (who it is, not what it says). */
  const attesterProblem = (a: NodeAttestation, admitted: ReadonlySet<string>): string | undefined => {
    if (a.attester === a.subject) return 'a node cannot attest itself';
    if (!admitted.has(a.attester)) return 'the attester is not admitted';
    if (operatorOf(a.attester) === operatorOf(a.subject)) return 'the attester has the same operator as the subject';
    return undefined;
  };
  const attestationProblem = (a: NodeAttestation, admitted: ReadonlySet<string>): string | undefined => {
    const who = attesterProblem(a, admitted);
    if (who) return who;
    if (Date.parse(a.expires_at) <= now) return `expired at ${a.expires_at}`;
    if (!a.integrity) return 'reports failed integrity checks';
    if (a.uptime_ppm < policy.minUptimePpm) return `uptime ${a.uptime_ppm} ppm is below ${policy.minUptimePpm}`;
    if (a.availability_ppm < policy.minAvailabilityPpm) return `availability ${a.availability_ppm} ppm is below ${policy.minAvailabilityPpm}`;
    if (!manifestIds(a.subject).has(a.subject_manifest)) return 'names a manifest that is not one of the subject\'s';
    return undefined;
  };
  const reportProblem = (r: NodeReport, admitted: ReadonlySet<string>): string | undefined => {
    if (r.reporter === r.subject) return 'a node cannot report itself';
    if (!admitted.has(r.reporter)) return 'the reporter is not admitted';
    if (operatorOf(r.reporter) === operatorOf(r.subject)) return 'the reporter has the same operator as the subject';
    return undefined;
  };
  const distinctOperators = (nodes: readonly string[]) => new Set(nodes.map(operatorOf)).size;

  // Admission is a fixed point (admitted nodes admit others); delisting removes nodes,
  // which may remove attesters, so both repeat until the delisted set stops growing.
  const delisted = new Set<string>();
  let admitted = new Set<string>();
  for (;;) {
    admitted = new Set([local.self, ...[...bootstrap].filter((id) => !blockedBy.has(id) && !delisted.has(id))]);
    let grew = true;
    while (grew) {
      grew = false;
      for (const id of ids) {
        const h = histories.get(id) as NodeHistory;
        if (admitted.has(id) || blockedBy.has(id) || delisted.has(id) || !h.current || h.expired) continue;
        const attesters = latestAttestations.filter((a) => a.document.subject === id && attestationProblem(a.document, admitted) === undefined).map((a) => a.document.attester);
        if (distinctOperators(attesters) >= policy.attestersNeeded) {
          admitted.add(id);
          grew = true;
        }
      }
    }
    let more = false;
    for (const id of ids) {
      if (id === local.self || delisted.has(id)) continue;
      const reporters = latestReports.filter((r) => r.document.subject === id && reportProblem(r.document, admitted) === undefined).map((r) => r.document.reporter);
      if (distinctOperators(reporters) >= policy.reportersNeeded) {
        delisted.add(id);
        more = true;
      }
    }
    if (!more) break;
  }

  const nodes = new Map<string, NodeView>();
  for (const id of ids) {
    const history = histories.get(id) as NodeHistory;
    const attesters: AttesterView[] = latestAttestations
      .filter((a) => a.document.subject === id)
      .map((a) => {
        const why = attestationProblem(a.document, admitted);
        return {
          attester: a.document.attester,
          operator: operatorOf(a.document.attester),
          record: a.id,
          integrity: a.document.integrity,
          uptimePpm: a.document.uptime_ppm,
          availabilityPpm: a.document.availability_ppm,
          independent: attesterProblem(a.document, admitted) === undefined,
          counted: why === undefined, ...(why ? { why } : {}) };
      });
    const reporters: ReporterView[] = latestReports
      .filter((r) => r.document.subject === id)
      .map((r) => {
        const why = reportProblem(r.document, admitted);
        return { reporter: r.document.reporter, operator: operatorOf(r.document.reporter), reason: r.document.reason, record: r.id, counted: why === undefined, ...(why ? { why } : {}) };
      });
    const { state, reasons } = stateOf(id, { history, attesters, reporters, admitted, delisted, blockedBy, bootstrap, local, policy });
    const c = churn.get(id) as { count: number; records: string[] };
    nodes.set(id, {
      nodeId: id,
      state,
      reasons,
      operator: operatorOf(id),
      bootstrap: bootstrap.has(id),
      history,
      attesters,
      reporters,
      governance: latestGovernance.filter((g) => g.document.subject === id).map((g) => ({ reporter: g.document.reporter, grounds: g.document.grounds, record: g.id })),
      churn: { count: c.count, windowMs: policy.churnWindowMs, records: c.records },
      origin: origins.get(id),
      carried: carriedBy(id),
    });
  }
  markOriginConflicts(nodes, admitted);
  return { nodes, admitted: [...admitted].filter((id) => nodes.get(id)?.state === 'admitted').sort() };
}

/** Spec 9.1 signals from what a node's ORIGIN carried: many bad records, and a large share of all. */
export function carriedProblems(carried: CarriedSignals | undefined, policy: RegistryPolicy): string[] {
  if (!carried || carried.records === 0) return [];
  const share = (n: number) => Math.floor((n * 1_000_000) / carried.records);
  const problems: string[] = [];
  if (carried.badFingerprint > policy.badFingerprintLimit && share(carried.badFingerprint) > policy.maxBadSharePpm) {
    problems.push(`bad_fingerprint: ${carried.badFingerprint} of the ${carried.records} records its ORIGIN carried were refused for their fingerprint (limit ${policy.badFingerprintLimit} and ${policy.maxBadSharePpm} ppm)`);
  }
  if (carried.invalid > policy.invalidMetadataLimit && share(carried.invalid) > policy.maxBadSharePpm) {
    problems.push(`invalid_metadata: ${carried.invalid} of the ${carried.records} records its ORIGIN carried failed verification (limit ${policy.invalidMetadataLimit} and ${policy.maxBadSharePpm} ppm)`);
  }
  return problems;
}

function issuedAtOrBefore(issuedAt: string, at: number): boolean {
  return Date.parse(issuedAt) <= at;
}

interface StateInputs {
  history: NodeHistory;
  attesters: AttesterView[];
  reporters: ReporterView[];
  admitted: ReadonlySet<string>;
  delisted: ReadonlySet<string>;
  blockedBy: ReadonlyMap<string, string[]>;
  bootstrap: ReadonlySet<string>;
  local: LocalView & { probes?: ReadonlyMap<string, ProbeView> };
  policy: RegistryPolicy;
}

/** An attester, with its operator when that is not the node itself. */
function attesterName(a: { attester: string; operator: string }): string {
  return a.operator === a.attester ? a.attester : `${a.attester} (operator ${a.operator})`;
}

function list(items: readonly string[]): string {
  return items.join(', ');
}

function stateOf(id: string, s: StateInputs): { state: NodeState; reasons: string[] } {
  const counted = s.attesters.filter((a) => a.counted);
  const countedReports = s.reporters.filter((r) => r.counted);
  if (s.delisted.has(id)) {
    return { state: 'delisted', reasons: [`reported by admitted nodes of ${new Set(countedReports.map((r) => r.operator)).size} operators: ${list(countedReports.map((r) => `${r.reporter} (${r.reason})`))}`] };
  }
  const blocked = s.blockedBy.get(id);
  if (blocked) return { state: 'quarantined', reasons: blocked };
  if (id === s.local.self) return { state: 'admitted', reasons: ['this node'] };
  if (s.bootstrap.has(id) && s.admitted.has(id)) return { state: 'admitted', reasons: ['a bootstrap peer in this node\'s configuration'] };
  if (!s.history.current) {
    const why = s.history.findings.map((f) => `${f.code}: ${f.detail}`);
    return { state: 'pending', reasons: why.length > 0 ? why : ['no valid node manifest seen yet'] };
  }
  if (s.history.expired) return { state: 'expired', reasons: [`its current manifest expired at ${s.history.current.document.expires_at}; it must republish`] };
  const probe = s.local.probes?.get(id);
  // Admitted by others' word; this node's own failing checks are shown, not hidden.
  const ownChecks = probe?.outcome === 'failed' ? probe.findings.map((f) => `this node's checks failed: ${f.code}: ${f.detail}`) : [];
  if (s.admitted.has(id)) {
    return { state: 'admitted', reasons: [`attested by admitted nodes of ${new Set(counted.map((a) => a.operator)).size} different operators: ${list(counted.map(attesterName))}`, ...ownChecks] };
  }
  const own = s.attesters.find((a) => a.attester === s.local.self);
  const need = `needs attestations from admitted nodes of ${s.policy.attestersNeeded} different operators, has ${new Set(counted.map((a) => a.operator)).size}`;
  if (own && own.counted) return { state: 'attested', reasons: [`attested by this node; ${need}`, ...ownChecks] };
  if (probe?.outcome === 'failed') return { state: 'refused', reasons: probe.findings.map((f) => `${f.code}: ${f.detail}`) };
  if (probe?.outcome === 'passed') return { state: 'probed', reasons: [`passed this node's checks; attestation pending; ${need}`] };
  if (probe?.outcome === 'probing') return { state: 'probing', reasons: [`being checked by this node; ${need}`] };
  const notCounted = s.attesters.filter((a) => !a.counted).map((a) => `${a.attester}: ${a.why}`);
  return { state: 'pending', reasons: [`valid manifest seen; ${need}`, ...notCounted] };
}

/** Nodes whose ORIGIN token another admitted node claims with a different domain: source neither. */
function markOriginConflicts(nodes: Map<string, NodeView>, admitted: ReadonlySet<string>): void {
  const claims = new Map<string, NodeView[]>();
  for (const view of nodes.values()) {
    if (!view.origin || !admitted.has(view.nodeId)) continue;
    claims.set(view.origin.operator, [...(claims.get(view.origin.operator) ?? []), view]);
  }
  for (const [token, views] of claims) {
    const domains = new Set(views.map((v) => v.origin?.domain));
    if (domains.size < 2) continue;
    const finding: Finding = {
      code: 'origin_conflict',
      detail: `ORIGIN_${token} is claimed with ${domains.size} different JetStream domains by ${list(views.map((v) => v.nodeId))}; none of them is sourced`,
      records: views.flatMap((v) => (v.history.current ? [v.history.current.id] : [])),
    };
    for (const v of views) {
      v.history.findings.push(finding);
      v.origin = undefined;
    }
  }
}

/**
 * The peers `FEDERATED_<own>` sources: the ORIGIN of every admitted node other than
 * this operator's own, once per token (several nodes of one operator share one ORIGIN).
 */
export function admittedOrigins(registry: Registry, ownToken: string): NodeOrigin[] {
  const peers = new Map<string, NodeOrigin>();
  for (const id of registry.admitted) {
    const origin = registry.nodes.get(id)?.origin;
    if (origin && origin.operator !== ownToken) peers.set(origin.operator, origin);
  }
  return [...peers.values()].sort((a, b) => (a.operator < b.operator ? -1 : 1));
}
