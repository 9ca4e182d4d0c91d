/**
 * Keeps the sources of `FEDERATED_<own>` equal to the configured peers plus the admitted,
 * non-quarantined nodes' ORIGIN streams (issue 5: a node admitted is sourced; one
 * quarantined or delisted is not). Applies through applyDefinitions, which reads the
 * stream back and fails loudly when the server did not take the change (nats-server
 * 2.9.10 may accept a field and ignore it).
 */
import type { JetStreamManager } from '@nats-io/jetstream';
import type { Logger } from 'pino';
import { applyDefinitions } from '@dmf/bus';
import { federatedStream, type StreamLimits } from '@dmf/streams';
import { describePeerChange, desiredPeers, type Peer } from './domain/peers.ts';
import { admittedOrigins, type Registry } from './domain/registry.ts';

export interface SourceReconcilerOptions {
  jsm: JetStreamManager;
  operator: string;
  domain: string;
  /** Peers from configuration (`--peer`), always sourced. */
  configured: readonly Peer[];
  limits?: Partial<StreamLimits>;
  logger: Logger;
}

export class SourceReconciler {
  readonly #o: SourceReconcilerOptions;
  readonly #configured: Peer[];
  #applied: Peer[] | undefined;
  #queue: Promise<void> = Promise.resolve();
  #wanted: Peer[] | undefined;

  constructor(options: SourceReconcilerOptions) {
    this.#o = options;
    this.#configured = [...options.configured];
  }


  /** The peers last applied (undefined before the first apply). */
  get peers(): readonly Peer[] | undefined {
    return this.#applied;
  }

  /** Brings the sources in line with `registry`; calls are serialised, and only the newest wish is applied. */
  reconcile(registry: Registry): Promise<void> {
    this.#wanted = desiredPeers(this.#configured, admittedOrigins(registry, this.#o.operator), this.#o.operator);
    this.#queue = this.#queue.then(() => this.#applyWanted());
    return this.#queue;
  }

  async #applyWanted(): Promise<void> {
    const wanted = this.#wanted;
    if (!wanted) return;
    const same = this.#applied && JSON.stringify(this.#applied) === JSON.stringify(wanted);
    if (same) return;
    try {
      const [report] = await applyDefinitions(this.#o.jsm, [federatedStream(this.#o.operator, wanted, { domain: this.#o.domain, limits: this.#o.limits })]);
      const change = describePeerChange(this.#applied ?? [], wanted);
      if (report?.action !== 'unchanged' || this.#applied === undefined) {
        this.#o.logger.info({ stream: report?.name, action: report?.action, added: change.added, removed: change.removed }, 'FEDERATED sources reconciled');
      }
      this.#applied = wanted;
    } catch (error) {
      // Left as it was; the next registry change (or the periodic refresh) tries again.
      this.#o.logger.error({ err: (error as Error).message }, 'FEDERATED sources could not be reconciled');
    }
  }
}
