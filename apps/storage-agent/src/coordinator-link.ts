/**
 * The agent's side of its coordinators (the nodes configured with `--coordinator`):
 * every call goes through the verifying client (@dmf/client: TLS, the node's signed
 * chain, the SSRF policy). An agent trusts the erasure groups and repair tasks its
 * coordinators sign, and nothing else; it announces itself to them, reports its shards
 * to all of them, and asks them where other storage nodes are.
 */
import type { Logger } from 'pino';
import type { DmfClient } from '@dmf/client';
import { verifyDocument, type ErasureGroup } from '@dmf/protocol';

/** The service type of a storage coordinator (its service manifest's `type`). */
export const COORDINATOR_SERVICE = 'storage_coord';

export class CoordinatorError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CoordinatorError';
  }
}

export interface CoordinatorLinkOptions {
  client: DmfClient;
  /** The coordinators' base URLs. */
  urls: readonly string[];
  logger: Logger;
}

interface Coordinator {
  url: string;
  nodeId: string;
}

export class CoordinatorLink {
  readonly #o: CoordinatorLinkOptions;
  readonly #known = new Map<string, Coordinator>();

  constructor(options: CoordinatorLinkOptions) {
    this.#o = options;
  }

  /** Learns the node ids of the coordinators that answer (verified chains); returns how many. */
  async discover(): Promise<number> {
    for (const url of this.#o.urls) {
      if ([...this.#known.values()].some((c) => c.url === url)) continue;
      try {
        const node = await this.#o.client.fetchVerifiedNode(url);
        this.#known.set(node.manifest.node_id, { url, nodeId: node.manifest.node_id });
      } catch (error) {
        this.#o.logger.warn({ url, err: (error as Error).message }, 'coordinator not reached');
      }
    }
    return this.#known.size;
  }

  /** Whether `did` is one of this agent's coordinators. */
  trusts(did: string): boolean {
    return this.#known.has(did);
  }

  ids(): string[] {
    return [...this.#known.keys()];
  }

  /** Posts the agent's manifests to every coordinator (`POST /nodes`); resolves with those that took them. */
  async announce(body: string): Promise<number> {
    let accepted = 0;
    await Promise.all(
      this.#o.urls.map(async (url) => {
        try {
          const answer = await this.#o.client.call({ node: url, serviceType: 'federation' }, { method: 'POST', path: '/nodes', body });
          if (answer.status === 202) accepted++;
          else this.#o.logger.warn({ url, status: answer.status, body: Buffer.from(answer.body).toString('utf8').slice(0, 300) }, 'announcement refused');
        } catch (error) {
          this.#o.logger.warn({ url, err: (error as Error).message }, 'announcement not delivered');
        }
      }),
    );
    return accepted;
  }

  /** The erasure group `id`, from the coordinator that signed it, verified. */
  async group(id: string, coordinator: string): Promise<ErasureGroup> {
    const c = this.#known.get(coordinator);
    if (!c) throw new CoordinatorError(`${coordinator} is not a coordinator of this agent`);
    const answer = await this.#o.client.call({ node: c.url, serviceType: COORDINATOR_SERVICE }, { method: 'GET', path: `/erasure_group/${id}` });
    if (answer.status !== 200) throw new CoordinatorError(`GET /erasure_group/${id} at ${c.url}: ${answer.status}`);
    const document = JSON.parse(Buffer.from(answer.body).toString('utf8')) as ErasureGroup;
    const verified = verifyDocument(document);
    if (verified.kind !== 'erasure_group' || verified.id !== id) throw new CoordinatorError(`GET /erasure_group/${id} at ${c.url} answered another record (${verified.id})`);
    if (document.coordinator !== coordinator) throw new CoordinatorError(`erasure group ${id} is signed by ${document.coordinator}, not ${coordinator}`);
    return document;
  }

  /** The erasure group `id` from whichever coordinator has it, signed by one of them. */
  async findGroup(id: string): Promise<ErasureGroup> {
    const failures: string[] = [];
    for (const c of this.#known.values()) {
      try {
        const answer = await this.#o.client.call({ node: c.url, serviceType: COORDINATOR_SERVICE }, { method: 'GET', path: `/erasure_group/${id}` });
        if (answer.status !== 200) {
          failures.push(`${c.url}: ${answer.status}`);
          continue;
        }
        const document = JSON.parse(Buffer.from(answer.body).toString('utf8')) as ErasureGroup;
        const verified = verifyDocument(document);
        if (verified.kind === 'erasure_group' && verified.id === id && this.trusts(document.coordinator)) return document;
        failures.push(`${c.url}: answered a record this agent does not trust`);
      } catch (error) {
        failures.push(`${c.url}: ${(error as Error).message}`);
      }
    }
    throw new CoordinatorError(`erasure group ${id} not found at this node's coordinators (${failures.join('; ') || 'none reached'})`);
  }

  /** Where each storage node is (`GET /storage_nodes` at the coordinator). */
  async storageNodeUrls(coordinator: string): Promise<Map<string, string>> {
    const c = this.#known.get(coordinator);
    if (!c) throw new CoordinatorError(`${coordinator} is not a coordinator of this agent`);
    const answer = await this.#o.client.call({ node: c.url, serviceType: COORDINATOR_SERVICE }, { method: 'GET', path: '/storage_nodes' });
    if (answer.status !== 200) throw new CoordinatorError(`GET /storage_nodes at ${c.url}: ${answer.status}`);
    const { nodes } = JSON.parse(Buffer.from(answer.body).toString('utf8')) as { nodes: { node: string; url: string }[] };
    return new Map(nodes.map((n) => [n.node, n.url]));
  }

  /** Posts a signed shard report to every known coordinator; true when all took it. */
  async report(body: string): Promise<boolean> {
    if (this.#known.size === 0) return false;
    const results = await Promise.all(
      [...this.#known.values()].map(async (c) => {
        try {
          const answer = await this.#o.client.call({ node: c.url, serviceType: COORDINATOR_SERVICE }, { method: 'POST', path: '/shard_report', body });
          if (answer.status === 202) return true;
          // Sent again later: a node not admitted yet, or a group not read back yet, changes.
          this.#o.logger.warn({ url: c.url, status: answer.status, body: Buffer.from(answer.body).toString('utf8').slice(0, 300) }, 'shard report refused');
          return false;
        } catch (error) {
          this.#o.logger.warn({ url: c.url, err: (error as Error).message }, 'shard report not delivered');
          return false;
        }
      }),
    );
    return results.every(Boolean);
  }
}
