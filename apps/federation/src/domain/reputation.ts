/**
 * Operator reputation (spec 9.2) from what the log holds about an operator's nodes:
 * uptime and error rate from other operators' attestations, metadata correctness from
 * the records its ORIGIN carried. Integer parts per million, floor division, so every
 * node computes the same numbers. Never from user behaviour, and nothing here gates
 * client access (spec 9.2 MUST NOTs): the registry uses reputation for display only.
 */
import type { NodeView } from './registry.ts';

export interface Reputation {
  operator: string;
  nodes: number;
  /** Attestations behind the figures (admitted attesters of other operators, newest each). */
  observations: number;
  /** Mean reported uptime; null without observations. */
  uptimePpm: number | null;
  /** 1,000,000 − mean reported availability; null without observations. */
  errorPpm: number | null;
  /** Share of carried records that passed verification; null when nothing was carried. */
  correctnessPpm: number | null;
}

/** Records an ORIGIN carried into this node's FEDERATED stream, and how many failed checks or were refused for their fingerprint. */
export interface Carriage {
  records: number;
  invalid: number;
  badFingerprint?: number;
}

const mean = (values: readonly number[]) => (values.length === 0 ? null : Math.floor(values.reduce((a, b) => a + b, 0) / values.length));

export function reputationOf(views: Iterable<NodeView>, carried: ReadonlyMap<string, Carriage> = new Map()): Map<string, Reputation> {
  const byOperator = new Map<string, NodeView[]>();
  for (const v of views) {
    const nodes = byOperator.get(v.operator);
    if (nodes) nodes.push(v);
    else byOperator.set(v.operator, [v]);
  }
  const result = new Map<string, Reputation>();
  for (const [operator, nodes] of [...byOperator].sort(([a], [b]) => (a < b ? -1 : 1))) {
    // An attestation counts for reputation when an admitted node of another operator made
    // it, whatever its figures (low figures are exactly what reputation should show).
    const observed = nodes.flatMap((n) => n.attesters.filter((a) => a.independent));
    const tokens = new Set(nodes.flatMap((n) => (n.origin ? [n.origin.operator] : [])));
    let records = 0;
    let invalid = 0;
    for (const t of tokens) {
      records += carried.get(t)?.records ?? 0;
      invalid += (carried.get(t)?.invalid ?? 0) + (carried.get(t)?.badFingerprint ?? 0);
    }
    const availability = mean(observed.map((a) => a.availabilityPpm));
    result.set(operator, {
      operator,
      nodes: nodes.length,
      observations: observed.length,
      uptimePpm: mean(observed.map((a) => a.uptimePpm)),
      errorPpm: availability === null ? null : 1_000_000 - availability,
      correctnessPpm: records === 0 ? null : Math.floor(((records - invalid) * 1_000_000) / records),
    });
  }
  return result;
}
