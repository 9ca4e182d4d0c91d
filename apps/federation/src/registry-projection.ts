/**
 * The registry projection: reads the node, service, attestation and report records of
 * this operator's FEDERATED stream, verifies each one itself (records from peers never
 * passed our adapter), and keeps them in memory; the registry (domain/registry.ts) is
 * computed from them on demand.
 *
 * Why in memory and not in KV like the metadata projection: the registry is small
 * (a few records per node and week, against millions of content manifests), it depends
 * on the time (expiry) so it is recomputed anyway, and it is rebuilt from the log at
 * every start (docs/decisions.md). Read and checked by @dmf/bus FederatedReader.
 */
import type { JetStreamClient, JetStreamManager, JsMsg } from '@nats-io/jetstream';
import type { Logger } from 'pino';
import { declaredSigner } from '@dmf/protocol';
import { checkRecordMessage, FederatedReader } from '@dmf/bus';
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
  readonly #reader: FederatedReader;
  readonly #changes = new Map<string, StateChange[]>();
  readonly #listeners = new Set<(registry: Registry) => void>();
  readonly #stats: RegistryProjectionStats = { records: 0, duplicates: 0, invalidByReason: {}, invalidByOrigin: {} };
  #bootstrap: string[];
  #cached: { registry: Registry; at: number; version: number } | undefined;
  #version = 0;

  constructor(options: RegistryProjectionOptions) {
    this.#o = options;
    this.#policy = { ...DEFAULT_REGISTRY_POLICY, ...options.policy };
    this.#bootstrap = [...(options.bootstrap ?? [])];
    this.#reader = new FederatedReader({
      js: options.js,
      jsm: options.jsm,
      operator: options.operator,
      subjects: REGISTRY_SUBJECT,
      apply: (m) => this.#apply(m),
      afterBatch: (added, caughtUp) => {
        if (!added) return;
        this.#version++;
        if (caughtUp) this.#recordChanges();
      },
      name: 'registry',
      logger: options.logger,
    });
  }

  /** Starts reading; resolves once every record stored at start has been read. */
  async start(): Promise<void> {
    await this.#reader.start();
    this.#recordChanges();
  }

  async close(): Promise<void> {
    await this.#reader.close();
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

  /** Checks and keeps one record; true when it is new. */
  #apply(m: JsMsg): boolean {
    // Time is judged by the registry (expiry changes what is current, not what is
    // valid), and a service manifest's key by its history: here only that the
    // signature is good for the `kid` it names.
    const checked = checkRecordMessage(m, { kinds: REGISTRY_KINDS, nodePublicKey: (data) => (m.subject.endsWith('.service_manifest') ? declaredSigner(data) : undefined) });
    if (!checked.ok) {
      // Never stop reading for one record: count it, say so, go on.
      if (checked.reason.startsWith('error')) this.#o.logger.error({ err: checked.reason, seq: m.seq }, 'registry record could not be checked');
      return this.#invalid(checked.origin, checked.reason.startsWith('error') ? 'error' : checked.reason);
    }
    const verified = checked.record;
    if (this.#records.has(verified.id)) {
      this.#stats.duplicates++;
      return false;
    }
    this.#records.set(verified.id, verified as RegistryRecord);
    this.#stats.records++;
    return true;
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
