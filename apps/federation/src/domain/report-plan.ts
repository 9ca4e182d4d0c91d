/**
 * Which `node_report` records this node owes (spec 9.1, 9.3): a node it sees churning
 * manifests, equivocating, or serving documents that fail integrity checks. Pure: from
 * the registry and this node's probe views to a list of reports to file. Each
 * (subject, reason) is reported once; a report already on the log is not repeated.
 *
 * Unavailability is not reported automatically: a node that was down for a window
 * would be delisted for good by two such reports, and a report has no expiry.
 */
import type { ReportReason } from '@dmf/protocol';
import { carriedProblems, type ProbeView, type Registry } from './registry.ts';
import type { RegistryPolicy } from './records.ts';

export interface PlannedReport {
  subject: string;
  reason: ReportReason;
  /** Record ids, 1 to 64. */
  evidence: string[];
  /** One line for the log. */
  why: string;
}

const MAX_EVIDENCE = 64;

/**
 * Probe findings that prove the node served a bad document. Others are not its fault,
 * or not provably: unavailability, a 4xx at a well-known path, and above all an address
 * this node's own policy refused (nothing was even fetched).
 */
const SERVED_INVALID = new Set([
  'manifest.invalid',
  'manifest.expired',
  'manifest.rollback',
  'manifest.equivocation',
  'manifest.foreign',
  'service.wrong_signer',
  'service.foreign_node',
  'schema.mismatch',
]);

export interface PlannedGovernanceReport {
  subject: string;
  /** The subject's operator when its manifest names one. */
  subjectOperator: string | undefined;
  grounds: 'delisted' | 'equivocation';
  evidence: string[];
}

/**
 * Governance reports this node owes (spec 9.3 "reported to DAO for permanent removal"):
 * one per node it sees delisted (evidence: the reports that delisted it) or
 * equivocating (evidence: the two documents), unless it filed one about that node.
 */
export function plannedGovernanceReports(registry: Registry, self: string): PlannedGovernanceReport[] {
  const planned: PlannedGovernanceReport[] = [];
  for (const view of registry.nodes.values()) {
    if (view.nodeId === self || view.governance.some((g) => g.reporter === self)) continue;
    const subjectOperator = view.operator !== view.nodeId ? view.operator : undefined;
    const equivocation = view.history.findings.filter((f) => f.code === 'equivocation').flatMap((f) => f.records);
    if (view.state === 'delisted') {
      const evidence = view.reporters.filter((r) => r.counted).map((r) => r.record);
      planned.push({ subject: view.nodeId, subjectOperator, grounds: 'delisted', evidence: [...new Set(evidence)].slice(0, MAX_EVIDENCE) });
    } else if (equivocation.length > 0) {
      planned.push({ subject: view.nodeId, subjectOperator, grounds: 'equivocation', evidence: [...new Set(equivocation)].slice(0, MAX_EVIDENCE) });
    }
  }
  return planned.filter((p) => p.evidence.length > 0);
}

export function plannedReports(registry: Registry, self: string, policy: RegistryPolicy, probes: ReadonlyMap<string, ProbeView>): PlannedReport[] {
  const churnLimit = policy.churnLimit;
  const planned: PlannedReport[] = [];
  for (const view of registry.nodes.values()) {
    if (view.nodeId === self) continue;
    const filed = new Set(view.reporters.filter((r) => r.reporter === self).map((r) => r.reason));
    const add = (reason: ReportReason, evidence: string[], why: string) => {
      const unique = [...new Set(evidence)].slice(0, MAX_EVIDENCE);
      if (!filed.has(reason) && unique.length > 0 && !planned.some((p) => p.subject === view.nodeId && p.reason === reason)) {
        planned.push({ subject: view.nodeId, reason, evidence: unique, why });
      }
    };
    if (view.churn.count > churnLimit) add('manifest_churn', view.churn.records, `${view.churn.count} manifest versions within the churn window`);
    const equivocation = view.history.findings.filter((f) => f.code === 'equivocation' || f.code === 'service_equivocation');
    if (equivocation.length > 0) add('invalid_metadata', equivocation.flatMap((f) => f.records), 'signed two different documents with one seq');
    // Its ORIGIN carried many bad records (counted from the log; evidence: the node's manifest, naming it).
    if (view.history.current) {
      for (const problem of carriedProblems(view.carried, policy)) {
        const reason = problem.startsWith('bad_fingerprint') ? 'bad_fingerprint' : 'invalid_metadata';
        add(reason, [view.history.current.id], problem);
      }
    }
    const probe = probes.get(view.nodeId);
    const integrity = probe?.outcome === 'failed' ? probe.findings.filter((f) => SERVED_INVALID.has(f.code)) : [];
    if (integrity.length > 0 && view.history.current) {
      add('invalid_metadata', [view.history.current.id], `served documents that failed this node's checks: ${integrity.map((f) => f.code).join(', ')}`);
    }
  }
  return planned;
}
