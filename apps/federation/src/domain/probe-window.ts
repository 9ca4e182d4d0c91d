/**
 * One node's probing by this node over a window (spec 4.2 "passing integrity checks"
 * and "minimal uptime and availability checks"). Pure bookkeeping: the prober does the
 * requests and feeds the results in.
 *
 * - uptime: the share of probes the node answered at all;
 * - availability: the share whose whole chain (node manifest, service manifests,
 *   OpenAPI digests) verified and matched the log;
 * - integrity: no probe found a forged, altered, expired or rolled-back document. One
 *   such finding fails the window at once: a node that serves a bad document is not
 *   unlucky, it is wrong.
 */
export type ProbeResult =
  | { kind: 'verified' }
  /** Did not answer (network, timeout, 5xx). */
  | { kind: 'unanswered'; detail: string }
  /** Answered with something that fails an integrity check. */
  | { kind: 'integrity'; code: string; detail: string };

export interface ProbeWindowPolicy {
  windowMs: number;
  minProbes: number;
  minUptimePpm: number;
  minAvailabilityPpm: number;
}

export interface ProbeWindow {
  subjectManifest: string;
  startedAt: number;
  probes: number;
  answered: number;
  verified: number;
  findings: { code: string; detail: string }[];
}

export type WindowVerdict =
  | { outcome: 'probing' }
  | { outcome: 'failed'; findings: { code: string; detail: string }[] }
  | { outcome: 'passed'; uptimePpm: number; availabilityPpm: number; probes: number; from: number; until: number };

export function openWindow(subjectManifest: string, now: number): ProbeWindow {
  return { subjectManifest, startedAt: now, probes: 0, answered: 0, verified: 0, findings: [] };
}

export function recordProbe(window: ProbeWindow, result: ProbeResult): ProbeWindow {
  const next = { ...window, probes: window.probes + 1, findings: [...window.findings] };
  if (result.kind !== 'unanswered') next.answered++;
  if (result.kind === 'verified') next.verified++;
  if (result.kind === 'integrity') next.findings.push({ code: result.code, detail: result.detail });
  return next;
}

const ppm = (part: number, whole: number) => (whole === 0 ? 0 : Math.floor((part * 1_000_000) / whole));

export function judgeWindow(window: ProbeWindow, policy: ProbeWindowPolicy, now: number): WindowVerdict {
  if (window.findings.length > 0) return { outcome: 'failed', findings: window.findings };
  if (now - window.startedAt < policy.windowMs || window.probes < policy.minProbes) return { outcome: 'probing' };
  const uptimePpm = ppm(window.answered, window.probes);
  const availabilityPpm = ppm(window.verified, window.probes);
  const findings: { code: string; detail: string }[] = [];
  if (uptimePpm < policy.minUptimePpm) findings.push({ code: 'uptime', detail: `answered ${window.answered} of ${window.probes} probes (${uptimePpm} ppm; at least ${policy.minUptimePpm} needed)` });
  if (availabilityPpm < policy.minAvailabilityPpm) {
    findings.push({ code: 'availability', detail: `${window.verified} of ${window.probes} probes verified (${availabilityPpm} ppm; at least ${policy.minAvailabilityPpm} needed)` });
  }
  if (findings.length > 0) return { outcome: 'failed', findings };
  return { outcome: 'passed', uptimePpm, availabilityPpm, probes: window.probes, from: window.startedAt, until: now };
}
