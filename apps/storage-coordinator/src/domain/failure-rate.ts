/**
 * The node failure rate repair priority is computed with (chunk-health.ts
 * expectedDaysToLoss), as observed: holders that went out (down past the down-to-out
 * delay) over the node-days watched, smoothed with a prior so that a network that has
 * seen no failure yet, or very few node-days, is not taken to never fail. Pure.
 */

export interface FailureObservation {
  /** Holders that went out within the window. */
  outs: number;
  /** Storage nodes watched (now). */
  nodes: number;
  /** Days watched (the window, or since the coordinator started when shorter). */
  days: number;
}

export interface FailurePrior {
  /** Failures assumed before anything is observed... */
  failures: number;
  /** ...over this many node-days: 1 in 365 is a node failing about once a year. */
  nodeDays: number;
}

export const DEFAULT_FAILURE_PRIOR: Readonly<FailurePrior> = Object.freeze({ failures: 1, nodeDays: 365 });

/** Failures per node and day. */
export function failureRatePerDay(observed: FailureObservation, prior: FailurePrior = DEFAULT_FAILURE_PRIOR): number {
  const nodeDays = Math.max(0, observed.nodes) * Math.max(0, observed.days);
  return (Math.max(0, observed.outs) + prior.failures) / (nodeDays + prior.nodeDays);
}
