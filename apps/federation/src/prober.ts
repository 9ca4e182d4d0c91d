/**
 * This node's side of admission (spec 4.2, 4.3): it probes nodes that need its word
 * over HTTPS through the verifying client (@dmf/client: SSRF policy, chain
 * verification), over a window, and when a node passed it signs a `node_attestation`
 * and publishes it into this operator's ORIGIN stream. Admission itself is decided from
 * the log (domain/registry.ts), by every node for itself.
 *
 * Who is probed: nodes with a current manifest, not this node, not of this node's
 * operator (its word would not count), not quarantined, delisted or expired, all the
 * time; an attestation is signed when a window passes and ours is missing, stale or
 * about to expire. New nodes start a window at a bounded rate (spec 9.1: a sybil swarm
 * cannot flood the registry).
 */
import type { JetStreamClient } from '@nats-io/jetstream';
import type { Logger } from 'pino';
import { ClientError, type DmfClient } from '@dmf/client';
import { canonicalBytes, signRecord, type NodeAttestation, type SigningKey } from '@dmf/protocol';
import { publishRecord } from '@dmf/bus';
import { judgeWindow, openWindow, recordProbe, type ProbeResult, type ProbeWindow, type ProbeWindowPolicy } from './domain/probe-window.ts';
import { RateWindow } from './domain/rate-window.ts';
import type { NodeView, ProbeView } from './domain/registry.ts';
import type { RegistryProjection } from './registry-projection.ts';

export interface ProberPolicy extends ProbeWindowPolicy {
  /** Between two probes of one node. Default 60 s. */
  intervalMs: number;
  /** How long an attestation of ours is valid. Default 7 days. */
  attestationValidityMs: number;
  /** Re-probe and re-attest this long before our attestation expires. Default 1 day. */
  renewBeforeMs: number;
  /** A node that failed waits this long before a new window. Default: one window. */
  retryAfterFailureMs: number;
  /** Windows opened for nodes never probed before, per hour. Default 20. */
  newNodesPerHour: number;
  /** Nodes probed at once. Default 8. */
  concurrency: number;
}

export const DEFAULT_PROBER_POLICY: Readonly<ProberPolicy> = Object.freeze({
  intervalMs: 60_000,
  windowMs: 10 * 60_000,
  minProbes: 5,
  minUptimePpm: 900_000,
  minAvailabilityPpm: 900_000,
  attestationValidityMs: 7 * 86_400_000,
  renewBeforeMs: 86_400_000,
  retryAfterFailureMs: 10 * 60_000,
  newNodesPerHour: 20,
  concurrency: 8,
});

/**
 * Service types whose entrypoints serve the node's well-known documents and are probed,
 * in this order: a full node's federation service, or a storage agent's storage service.
 */
export const PROBED_SERVICE_TYPES: readonly string[] = ['federation', 'storage'];

/** Between two recomputations of the registry when nothing was probed. */
const IDLE_REFRESH_MS = 10_000;

/** Client error codes that mean the node did not answer (it may be back), not that it answered wrongly. */
const UNANSWERED = new Set(['unreachable']);

export interface ProberOptions {
  js: JetStreamClient;
  operator: string;
  /** This node's key: attestations are signed by it (`attester` = its node_id). */
  key: SigningKey;
  client: DmfClient;
  projection: RegistryProjection;
  policy?: Partial<ProberPolicy>;
  /** Whether this node already sources the subject's records (the attestation's `indexed`). */
  isIndexed?: (nodeId: string) => boolean;
  logger: Logger;
  clock?: () => Date;
}

interface Probing {
  window: ProbeWindow;
  lastProbeAt: number;
  failedAt?: number;
  findings?: { code: string; detail: string }[];
  /** Passed and attested; kept (as `probed`) until the registry reads our attestation back. */
  passedAt?: number;
}

export class Prober {
  readonly #o: ProberOptions;
  readonly #policy: ProberPolicy;
  readonly #probing = new Map<string, Probing>();
  readonly #newNodes: RateWindow;
  readonly #seen = new Set<string>();
  /** Our last attestation seq per subject, sent by this process. */
  readonly #sentSeq = new Map<string, number>();
  /** Since when each node has not answered (consecutive unanswered probes; absent: it answered last). */
  readonly #unansweredSince = new Map<string, number>();
  #timer: NodeJS.Timeout | undefined;
  #refreshedAt = 0;
  #running: Promise<void> | undefined;
  #closed = false;

  constructor(options: ProberOptions) {
    this.#o = options;
    this.#policy = { ...DEFAULT_PROBER_POLICY, ...options.policy };
    this.#newNodes = new RateWindow(this.#policy.newNodesPerHour, 3_600_000);
  }

  /** The registry's view of our probing (domain/registry.ts ProbeView). */
  views(): Map<string, ProbeView> {
    const views = new Map<string, ProbeView>();
    for (const [id, p] of this.#probing) {
      if (p.failedAt !== undefined) views.set(id, { outcome: 'failed', findings: p.findings ?? [] });
      else if (p.passedAt !== undefined) views.set(id, { outcome: 'passed', findings: [] });
      else views.set(id, { outcome: 'probing', findings: [] });
    }
    return views;
  }

  /**
   * Nodes that did not answer their latest probes, and since when (the first of those
   * probes). A node answering again leaves the map. Storage coordination counts a
   * holder down from this, and out after its down-to-out delay.
   */
  unreachable(): ReadonlyMap<string, number> {
    return new Map(this.#unansweredSince);
  }

  start(): void {
    const tick = () => {
      this.#timer = setTimeout(() => {
        this.#running = this.cycle()
          .catch((error: unknown) => this.#o.logger.error({ err: (error as Error).message }, 'probe cycle failed'))
          .finally(() => {
            if (!this.#closed) tick();
          });
      }, Math.min(this.#policy.intervalMs, 1000));
      this.#timer.unref();
    };
    tick();
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    await this.#running;
  }

  /** One pass: probe every node that is due, judge windows, publish attestations. */
  async cycle(): Promise<void> {
    const now = this.#now();
    const registry = this.#o.projection.registry();
    const self = registry.nodes.get(this.#o.key.did);
    // Every node whose word from us would count is probed all the time (an admitted node
    // that starts serving bad documents shows it); an attestation is signed only when
    // one of ours is missing, stale or about to expire.
    const due = [...registry.nodes.values()].filter((view) => this.#eligible(view, self?.operator));
    for (const id of this.#probing.keys()) if (!due.some((v) => v.nodeId === id)) this.#probing.delete(id);
    const queue = due.filter((view) => this.#dueNow(view, now));
    const probed = queue.length;
    const workers = Array.from({ length: Math.min(this.#policy.concurrency, queue.length) }, async () => {
      for (let view = queue.shift(); view; view = queue.shift()) await this.#probeOnce(view);
    });
    await Promise.all(workers);
    // The registry is recomputed (and its listeners told) when a probe changed our view,
    // and every few seconds otherwise, for what only time changes (expiry); not on
    // every idle tick.
    if (probed > 0 || now - this.#refreshedAt >= IDLE_REFRESH_MS) {
      this.#refreshedAt = now;
      this.#o.projection.refresh();
    }
  }

  #now(): number {
    return (this.#o.clock ?? (() => new Date()))().getTime();
  }

  #eligible(view: NodeView, ownOperator: string | undefined): boolean {
    if (view.nodeId === this.#o.key.did || view.operator === ownOperator) return false;
    return view.history.current !== undefined && !['quarantined', 'delisted', 'expired'].includes(view.state);
  }

  #needsAttestation(view: NodeView, now: number): boolean {
    if (!view.history.current) return false;
    const ours = view.attesters.find((a) => a.attester === this.#o.key.did);
    if (!ours) return true;
    const record = this.#o.projection.record(ours.record);
    const attestation = record?.document as NodeAttestation | undefined;
    if (!attestation || attestation.subject_manifest !== view.history.current.id) return !ours.counted || ours.why !== undefined;
    return Date.parse(attestation.expires_at) - now <= this.#policy.renewBeforeMs;
  }

  #dueNow(view: NodeView, now: number): boolean {
    const p = this.#probing.get(view.nodeId);
    if (!p) {
      if (!this.#seen.has(view.nodeId)) {
        if (this.#newNodes.retryAfterSeconds('new', now) > 0) return false;
        this.#newNodes.hit('new', now);
        this.#seen.add(view.nodeId);
      }
      this.#probing.set(view.nodeId, { window: openWindow((view.history.current as { id: string }).id, now), lastProbeAt: 0 });
      return true;
    }
    if (p.passedAt !== undefined) {
      // Our attestation is on its way to the log; a new window once it is there, or if it never arrives.
      if (now - p.passedAt < this.#policy.windowMs && this.#needsAttestation(view, now)) return false;
      this.#probing.set(view.nodeId, { window: openWindow((view.history.current as { id: string }).id, now), lastProbeAt: 0 });
      return true;
    }
    if (p.failedAt !== undefined) {
      if (now - p.failedAt < this.#policy.retryAfterFailureMs) return false;
      this.#probing.set(view.nodeId, { window: openWindow((view.history.current as { id: string }).id, now), lastProbeAt: 0 });
      return true;
    }
    return now - p.lastProbeAt >= this.#policy.intervalMs;
  }

  async #probeOnce(view: NodeView): Promise<void> {
    const p = this.#probing.get(view.nodeId);
    if (!p) return;
    const result = await this.#probe(view);
    const now = this.#now();
    if (result.kind === 'unanswered') {
      if (!this.#unansweredSince.has(view.nodeId)) this.#unansweredSince.set(view.nodeId, now);
    } else {
      this.#unansweredSince.delete(view.nodeId);
    }
    p.window = recordProbe(p.window, result);
    p.lastProbeAt = now;
    const verdict = judgeWindow(p.window, this.#policy, now);
    if (verdict.outcome === 'failed') {
      p.failedAt = now;
      p.findings = verdict.findings;
      this.#o.logger.warn({ node: view.nodeId, findings: verdict.findings }, 'node failed this node\'s checks');
    } else if (verdict.outcome === 'passed') {
      if (this.#needsAttestation(view, now)) {
        await this.#attest(view, verdict);
        p.passedAt = now;
      } else {
        // Our attestation stands: keep watching, in a new window.
        this.#probing.set(view.nodeId, { window: openWindow((view.history.current as { id: string }).id, now), lastProbeAt: now });
      }
    }
  }

  /** Fetches and verifies the node's chain at its federation entrypoints and compares it with the log. */
  async #probe(view: NodeView): Promise<ProbeResult> {
    const entrypoints = PROBED_SERVICE_TYPES.flatMap((type) => view.history.services.filter((s) => s.document.type === type).flatMap((s) => s.document.entrypoints));
    if (entrypoints.length === 0) {
      return { kind: 'integrity', code: 'service.not_offered', detail: `no current service manifest of type ${PROBED_SERVICE_TYPES.map((t) => `"${t}"`).join(' or ')} names an entrypoint to probe` };
    }
    let lastUnanswered = '';
    for (const url of entrypoints) {
      try {
        const served = await this.#o.client.fetchVerifiedNode(url, { checkSchemas: true });
        const current = view.history.current as { id: string; document: { seq: number } };
        if (served.manifest.node_id !== view.nodeId) {
          return { kind: 'integrity', code: 'manifest.foreign', detail: `${url} serves the manifest of ${served.manifest.node_id}, not of ${view.nodeId}` };
        }
        if (served.manifest.seq < current.document.seq) {
          return { kind: 'integrity', code: 'manifest.rollback', detail: `${url} serves seq ${served.manifest.seq}, but seq ${current.document.seq} is in the log` };
        }
        if (served.manifest.seq === current.document.seq && served.recordId !== current.id) {
          return { kind: 'integrity', code: 'manifest.equivocation', detail: `${url} serves seq ${served.manifest.seq} as record ${served.recordId}; the log holds ${current.id}` };
        }
        return { kind: 'verified' };
      } catch (error) {
        if (!(error instanceof ClientError)) return { kind: 'unanswered', detail: (error as Error).message };
        if (UNANSWERED.has(error.code)) {
          lastUnanswered = error.message;
          continue; // the next entrypoint may answer
        }
        // The code is the finding's own; the detail is what and why (as for the checks above).
        return { kind: 'integrity', code: error.code, detail: `${error.subject}: ${error.reason}` };
      }
    }
    return { kind: 'unanswered', detail: lastUnanswered };
  }

  async #attest(view: NodeView, verdict: Extract<ReturnType<typeof judgeWindow>, { outcome: 'passed' }>): Promise<void> {
    const now = new Date(this.#now());
    const self = this.#o.key.did;
    // Above every seq of ours about it in the log and every one sent since this process
    // started (the last may not be read back yet): a reused seq would void both versions.
    const logged = this.#o.projection.highestSeq((r) => r.kind === 'node_attestation' && r.document.attester === self && r.document.subject === view.nodeId);
    const seq = Math.max(logged, this.#sentSeq.get(view.nodeId) ?? 0) + 1;
    this.#sentSeq.set(view.nodeId, seq);
    const record = signRecord(
      {
        kind: 'node_attestation',
        attester: this.#o.key.did,
        subject: view.nodeId,
        subject_manifest: (view.history.current as { id: string }).id,
        integrity: true,
        indexed: this.#o.isIndexed?.(view.nodeId) ?? false,
        uptime_ppm: verdict.uptimePpm,
        availability_ppm: verdict.availabilityPpm,
        probes: verdict.probes,
        observed_from: new Date(verdict.from).toISOString(),
        observed_until: new Date(verdict.until).toISOString(),
        seq,
        issued_at: now.toISOString(),
        expires_at: new Date(now.getTime() + this.#policy.attestationValidityMs).toISOString(),
      },
      this.#o.key,
      { now },
    );
    await publishRecord(this.#o.js, { operator: this.#o.operator, kind: record.kind, id: record.id, bytes: canonicalBytes(record.document) });
    this.#o.logger.info({ node: view.nodeId, record: record.id, uptime_ppm: verdict.uptimePpm, availability_ppm: verdict.availabilityPpm }, 'node attested');
  }
}
