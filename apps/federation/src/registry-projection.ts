/**
 * The registry projection: reads the node, service, attestation and report records of
 * this operator's FEDERATED stream, verifies each one itself (records from peers never
 * passed our adapter), and keeps them in memory; the registry (domain/registry.ts) is
 * computed from them on demand.
 *
 * Why in memory and not in KV like the metadata projection: the registry is small
 * (a few records per node and week, against millions of content manifests), it depends
 * on the time (expiry) so it is recomputed anyway, and it is rebuilt from the log at
 * every start (docs/decisions.md). One ordered consumer reads the whole stream and skips
 * other kinds by subject: nats-server 2.9.10 refuses a consumer filter such as
 * `dmf.origin.*.node_manifest` on a stream whose only local source is filtered to
 * `dmf.origin.<own>.>` ("filter subject is not a valid subset").
 */
import type { JetStreamClient, JetStreamManager, JsMsg } from '@nats-io/jetstream';
import type { Logger } from 'pino';
import { checkFreshness, declaredSigner, ProtocolError, verifyBytes } from '@dmf/protocol';
import { checkEnvelope, checkVerifiedEnvelope, OrderedFeed, sourceOperatorOf, type RecordEnvelope } from '@dmf/bus';
import { federatedStreamName, parseRecordMsgId } from '@dmf/streams';
import { DEFAULT_REGISTRY_POLICY, REGISTRY_KINDS, type CarriedSignals, type RegistryPolicy, type RegistryRecord } from './domain/records.ts';
import { computeRegistry, type NodeState, type ProbeView, type Registry } from './domain/registry.ts';

export interface RegistryProjectionOptions {
  js: JetStreamClient;
  jsm: JetStreamManager;
  /** Operator token whose FEDERATED stream is read. */
  operator: string;
  /** This node's node_id. */
  self: string;
  /** Bootstrap peers' node ids (may grow while running: setBootstrap). */
  bootstrap?: readonly string[];
  /** Node ids this operator quarantines by hand. */
  quarantined?: readonly string[];
  policy?: Partial<RegistryPolicy>;
  /** This node's probing (prober.ts); default none. */
  probes?: () => ReadonlyMap<string, ProbeView>;
  /** What each ORIGIN carried (the metadata projection's counts); default none. */
  signals?: () => ReadonlyMap<string, CarriedSignals>;
  logger: Logger;
  /** For tests: the time the registry is judged at. */
  clock?: () => Date;
}

/** A change of a node's state, as this node saw it, with the reasons it had. */
export interface StateChange {
  at: string;
  from: NodeState | 'unknown';
  to: NodeState;
  reasons: string[];
}

export interface RegistryProjectionStats {
  records: number;
  duplicates: number;
  invalidByReason: Record<string, number>;
  invalidByOrigin: Record<string, number>;
}

/** Subjects of the registry's kinds: `dmf.origin.<op>.<kind>`. */
const REGISTRY_SUBJECT = new RegExp(`^dmf\\.origin\\.[^.]+\\.(?:${REGISTRY_KINDS.join('|')})$`);

/** Most state changes kept per node (the newest). */
const MAX_CHANGES = 50;

export class RegistryProjection {
  readonly #o: RegistryProjectionOptions;
  readonly #policy: RegistryPolicy;
  readonly #records = new Map<string, RegistryRecord>();
  #feed: OrderedFeed | undefined;
  #loop: Promise<void> | undefined;
  readonly #changes = new Map<string, StateChange[]>();
  readonly #listeners = new Set<(registry: Registry) => void>();
  readonly #stats: RegistryProjectionStats = { records: 0, duplicates: 0, invalidByReason: {}, invalidByOrigin: {} };
  #bootstrap: string[];
  #cached: { registry: Registry; at: number; version: number } | undefined;
  #version = 0;
  #closed = false;

  constructor(options: RegistryProjectionOptions) {
    this.#o = options;
    this.#policy = { ...DEFAULT_REGISTRY_POLICY, ...options.policy };
    this.#bootstrap = [...(options.bootstrap ?? [])];
  }

  /** Starts reading; resolves once every record stored at start has been read. */
  async start(): Promise<void> {
    const stream = federatedStreamName(this.#o.operator);
    const lastAtStart = (await this.#o.jsm.streams.info(stream)).state.last_seq;
    this.#feed = new OrderedFeed(this.#o.js, stream, 1, { high: 4096, low: 1024 });
    let resolveReplayed!: () => void;
    const replayed = new Promise<void>((resolve) => (resolveReplayed = resolve));
    this.#loop = this.#read(this.#feed, lastAtStart, resolveReplayed);
    await this.#feed.start();
    await replayed;
    this.#recordChanges();
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#feed?.close();
    await this.#loop?.catch(() => undefined);
  }

  /** The registry now (recomputed when records arrived, or at most once a second for expiry). */
  registry(): Registry {
    const now = (this.#o.clock ?? (() => new Date()))();
    const cached = this.#cached;
    if (cached && cached.version === this.#version && now.getTime() - cached.at < 1000) return cached.registry;
    const registry = computeRegistry(
      [...this.#records.values()],
      { self: this.#o.self, bootstrap: this.#bootstrap, quarantined: this.#o.quarantined ?? [], now, probes: this.#o.probes?.() ?? new Map(), signals: this.#o.signals?.() },
      this.#policy,
    );
    this.#cached = { registry, at: now.getTime(), version: this.#version };
    return registry;
  }

  /** State changes of a node since this process started (the first is its state at start). */
  changes(nodeId: string): StateChange[] {
    return this.#changes.get(nodeId) ?? [];
  }

  /** Calls `listener` with the new registry after records arrive (and on refresh()). */
  onChange(listener: (registry: Registry) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Recomputes now (probes changed, time passed) and tells the listeners if a state changed. */
  refresh(): void {
    this.#version++;
    this.#recordChanges();
  }

  setBootstrap(nodeIds: readonly string[]): void {
    this.#bootstrap = [...nodeIds];
    this.refresh();
  }

  /** Whether a record is held (the adapter answers a repeated post without publishing again). */
  has(recordId: string): boolean {
    return this.#records.has(recordId);
  }

  /**
   * The highest `seq` among held records that match, disputed ones included (0: none).
   * A signer numbering its next version from it never reuses a seq, even when its last
   * version was not read back yet or two of its versions collided.
   */
  highestSeq(match: (record: RegistryRecord) => boolean): number {
    let highest = 0;
    for (const record of this.#records.values()) if (match(record) && record.document.seq > highest) highest = record.document.seq;
    return highest;
  }

  /** What each ORIGIN carried, as given (for reputation). */
  carried(): ReadonlyMap<string, CarriedSignals> {
    return this.#o.signals?.() ?? new Map();
  }

  /** Who controls `nodeId`'s manifests (domain/node-history.ts), when known. */
  controllerOf(nodeId: string): string | undefined {
    return this.registry().nodes.get(nodeId)?.history.controller;
  }

  /** Whether any manifest of `nodeId` is held. */
  knowsNode(nodeId: string): boolean {
    return (this.registry().nodes.get(nodeId)?.history.manifests.length ?? 0) > 0;
  }

  /** The held record, e.g. to serve a node's signed manifests. */
  record(recordId: string): RegistryRecord | undefined {
    return this.#records.get(recordId);
  }

  stats(): RegistryProjectionStats {
    return structuredClone(this.#stats);
  }

  async #read(feed: OrderedFeed, lastAtStart: number, replayed: () => void): Promise<void> {
    let caughtUp = lastAtStart === 0;
    if (caughtUp) replayed();
    while (!this.#closed) {
      await feed.wait();
      if (feed.ended) {
        if (feed.error && !this.#closed) this.#o.logger.error({ err: feed.error.message }, 'registry feed ended');
        replayed();
        return;
      }
      let added = false;
      for (const m of feed.take(1024)) {
        // Most records are other kinds (content manifests): skipped by subject, unparsed.
        if (REGISTRY_SUBJECT.test(m.subject)) added = this.#apply(m) || added;
        if (!caughtUp && m.seq >= lastAtStart) {
          caughtUp = true;
          replayed();
        }
      }
      if (added) {
        this.#version++;
        if (caughtUp) this.#recordChanges();
      }
    }
  }

  /** Checks and keeps one record; true when it is new. */
  #apply(m: JsMsg): boolean {
    const msgId = m.headers?.get('Nats-Msg-Id');
    const parsedId = msgId ? parseRecordMsgId(msgId) : undefined;
    const envelope: RecordEnvelope = { subject: m.subject, sourceOperator: sourceOperatorOf(m), recordId: parsedId?.id, msgIdOperator: parsedId?.operator };
    const checked = checkEnvelope(envelope);
    if (!checked.ok) return this.#invalid(checked.origin, checked.reason);
    try {
      // Time is judged by the registry (expiry changes what is current, not what is
      // valid), and a service manifest's key by its history: here only that the
      // signature is good for the `kid` it names.
      const kid = checked.kind === 'service_manifest' ? declaredSigner(m.data) : undefined;
      const verified = verifyBytes(m.data, { freshness: false, nodePublicKey: () => kid, reportCanonical: true });
      // The lifetime rules (expires_at after issued_at, at most 30 days later) hold for a
      // record whenever it is read: judged as of its own issued_at, which leaves expiry
      // and skew to the registry, where time decides what is current.
      const issued = (verified.document as { issued_at: string }).issued_at;
      checkFreshness(verified.document as { issued_at: string; expires_at?: string }, new Date(Date.parse(issued)));
      const mismatch = checkVerifiedEnvelope(envelope, checked.origin, checked.kind, verified);
      if (mismatch) return this.#invalid(checked.origin, mismatch);
      // Records travel in their canonical form (JCS), as every publisher of ours writes
      // them: the same record in other bytes (members reordered, strings re-escaped) is
      // a replay by someone who re-encoded it, refused rather than silently accepted.
      if (verified.canonical === false) return this.#invalid(checked.origin, 'not_canonical');
      if (!(REGISTRY_KINDS as readonly string[]).includes(verified.kind)) return this.#invalid(checked.origin, 'kind_mismatch');
      if (this.#records.has(verified.id)) {
        this.#stats.duplicates++;
        return false;
      }
      this.#records.set(verified.id, verified as RegistryRecord);
      this.#stats.records++;
      return true;
    } catch (error) {
      if (error instanceof ProtocolError) return this.#invalid(checked.origin, error.code);
      // Never stop reading for one record: count it, say so, go on.
      this.#o.logger.error({ err: (error as Error).message, seq: m.seq }, 'registry record could not be checked');
      return this.#invalid(checked.origin, 'error');
    }
  }

  #invalid(origin: string, reason: string): false {
    this.#stats.invalidByReason[reason] = (this.#stats.invalidByReason[reason] ?? 0) + 1;
    this.#stats.invalidByOrigin[origin] = (this.#stats.invalidByOrigin[origin] ?? 0) + 1;
    return false;
  }

  #recordChanges(): void {
    const registry = this.registry();
    const at = new Date().toISOString();
    let changed = false;
    for (const view of registry.nodes.values()) {
      const list = this.#changes.get(view.nodeId) ?? [];
      const last = list.at(-1);
      if (last && last.to === view.state) continue;
      list.push({ at, from: last?.to ?? 'unknown', to: view.state, reasons: view.reasons });
      if (list.length > MAX_CHANGES) list.splice(0, list.length - MAX_CHANGES);
      this.#changes.set(view.nodeId, list);
      changed = true;
      this.#o.logger.info({ node: view.nodeId, from: last?.to ?? 'unknown', to: view.state, reasons: view.reasons }, 'node state changed');
    }
    if (changed || this.#listeners.size > 0) for (const listener of this.#listeners) listener(registry);
  }
}
