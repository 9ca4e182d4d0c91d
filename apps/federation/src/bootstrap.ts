/**
 * Joining through bootstrap peers (spec 4.2: "a configured set of bootstrap peers starts
 * the federation"). For each configured URL: fetch and verify the peer's chain through
 * the verifying client, trust it as admitted (configuration; its manifests go into our
 * log, so the registry knows where its records are and sources them, and stops when it
 * is quarantined or delisted like any node), and announce this node to it (`POST /nodes`) so that it and everyone sourcing it start
 * probing us. Peers that do not answer are tried again later; nothing blocks the start.
 */
import type { Logger } from 'pino';
import type { DmfClient } from '@dmf/client';
import { ORIGIN_CAPABILITY } from './domain/registry.ts';
import type { Peer } from './domain/peers.ts';

export interface BootstrapPeer {
  url: string;
  nodeId: string;
  origin: Peer | undefined;
  /** Its signed node manifest and service manifests, as verified. */
  documents: Record<string, unknown>[];
}

export interface BootstrapperOptions {
  client: DmfClient;
  urls: readonly string[];
  /** This node's current signed manifests, as announced. */
  announcement: () => { node_manifest: unknown; service_manifests: unknown[] };
  /** Called when the set of verified bootstrap peers grows. */
  onPeers: (peers: BootstrapPeer[]) => void | Promise<void>;
  /** Between attempts at peers that are not done yet. Default 10 s. */
  retryMs?: number;
  logger: Logger;
}

export class Bootstrapper {
  readonly #o: BootstrapperOptions;
  readonly #peers = new Map<string, BootstrapPeer>();
  readonly #announced = new Set<string>();
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #closed = false;

  constructor(options: BootstrapperOptions) {
    this.#o = options;
  }

  get peers(): BootstrapPeer[] {
    return [...this.#peers.values()];
  }

  /** Tries every peer once now, then keeps retrying those not done in the background. */
  async start(): Promise<void> {
    await this.attempt();
    this.#schedule();
  }

  /** Announce again to every peer (this node's manifests changed). */
  reannounce(): void {
    this.#announced.clear();
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    await this.#running;
  }

  #schedule(): void {
    if (this.#closed) return;
    this.#timer = setTimeout(() => {
      this.#running = this.attempt().finally(() => this.#schedule());
    }, this.#o.retryMs ?? 10_000);
    this.#timer.unref();
  }

  /** One attempt at every peer that is not verified or not announced to yet. */
  async attempt(): Promise<void> {
    let grew = false;
    for (const url of this.#o.urls) {
      if (this.#closed) return;
      try {
        if (!this.#peers.has(url)) {
          const node = await this.#o.client.fetchVerifiedNode(url);
          const capabilities = node.manifest.capabilities as Record<string, unknown>;
          const operator = capabilities[ORIGIN_CAPABILITY];
          const domain = capabilities['jetstream_domain'];
          const origin = typeof operator === 'string' && typeof domain === 'string' ? { operator, domain } : undefined;
          if (!origin) this.#o.logger.warn({ url, node: node.manifest.node_id }, 'bootstrap peer names no origin_operator and jetstream_domain: its records cannot be sourced');
          const documents = [node.manifest, ...node.services.map((s) => s.manifest)] as unknown as Record<string, unknown>[];
          this.#peers.set(url, { url, nodeId: node.manifest.node_id, origin, documents });
          grew = true;
          this.#o.logger.info({ url, node: node.manifest.node_id, origin }, 'bootstrap peer verified');
        }
        if (!this.#announced.has(url)) {
          const body = JSON.stringify(this.#o.announcement());
          const answer = await this.#o.client.call({ node: url, serviceType: 'federation' }, { method: 'POST', path: '/nodes', body });
          if (answer.status !== 202) {
            this.#o.logger.error({ url, status: answer.status, problem: Buffer.from(answer.body).toString('utf8').slice(0, 500) }, 'bootstrap peer refused our announcement');
            continue;
          }
          this.#announced.add(url);
          this.#o.logger.info({ url }, 'announced to bootstrap peer');
        }
      } catch (error) {
        // A ClientError's message starts with its code already.
        this.#o.logger.warn({ url, err: (error as Error).message }, 'bootstrap peer not reached; trying again later');
      }
    }
    if (grew) {
      try {
        await this.#o.onPeers(this.peers);
      } catch (error) {
        this.#o.logger.error({ err: (error as Error).message }, 'bootstrap peers could not be taken in; trying again later');
        this.#peers.clear();
      }
    }
  }
}
