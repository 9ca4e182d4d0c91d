/**
 * `POST /nodes`: a node announces itself (spec 4.2 "publishing a signed manifest") by
 * posting its signed node manifest and service manifests. They are verified as a chain
 * (the services signed by the manifest's `public_key`, nothing expired), rate-limited,
 * and published into this operator's ORIGIN stream, from where every projection of
 * every peer that sources us sees them. Admission is then decided from the log.
 *
 * Idempotent (spec 5.2): records already held are not published again, and the same
 * post gets the same answer.
 */
import type { JetStreamClient } from '@nats-io/jetstream';
import { canonicalBytes, parseJson, ProtocolError, verifyDocument, type NodeManifest, type ServiceManifest } from '@dmf/protocol';
import { PublishError, publishRecord } from '@dmf/bus';
import { RateWindow } from './domain/rate-window.ts';
import { PROBED_SERVICE_TYPES } from './prober.ts';
import type { RegistryProjection } from './registry-projection.ts';

export interface AnnounceLimits {
  /** Node ids not seen before that may be announced here per hour. Default 20. */
  newNodesPerHour: number;
  /** Announcements that publish something, per node id and hour. Default 12. */
  postsPerNodePerHour: number;
}

export const DEFAULT_ANNOUNCE_LIMITS: Readonly<AnnounceLimits> = Object.freeze({ newNodesPerHour: 20, postsPerNodePerHour: 12 });

/** Largest announcement body: a manifest and up to 16 service manifests. */
export const MAX_ANNOUNCE_BYTES = 256 * 1024;
const MAX_SERVICES = 16;
const HOUR = 3_600_000;

export interface AnnounceAnswer {
  node_id: string;
  /** Record ids of the posted manifests, node manifest first. */
  records: string[];
  /** Where to follow the node's admission. */
  location: string;
}

/** A refusal that is not a protocol rule (shape, rate): code, path and reason, with a status. */
export class AnnounceError extends Error {
  constructor(
    readonly code: 'announce.shape' | 'announce.kind' | 'announce.no_federation_service' | 'announce.foreign_signer' | 'announce.rate' | 'bus.unavailable',
    readonly status: number,
    readonly path: string,
    readonly reason: string,
    readonly retryAfterSeconds?: number,
  ) {
    super(`${code}: ${path}: ${reason}`);
    this.name = 'AnnounceError';
  }
}

export interface AnnouncerOptions {
  js: JetStreamClient;
  operator: string;
  projection: Pick<RegistryProjection, 'has' | 'knowsNode' | 'controllerOf'>;
  limits?: Partial<AnnounceLimits>;
  clock?: () => Date;
}

/** A ProtocolError about a member of the announcement, its path rooted at that member. */
function within(prefix: string, error: unknown): unknown {
  if (!(error instanceof ProtocolError)) return error;
  const path = `${prefix}${(error.path ?? '$').slice(1)}`;
  return new ProtocolError(error.code, error.reason, { path, cause: error });
}

export class Announcer {
  readonly #o: AnnouncerOptions;
  readonly #newNodes: RateWindow;
  readonly #perNode: RateWindow;
  /** Node ids announced through this process within the hour, and when (a repeat is never a new node). */
  readonly #recent = new Map<string, number>();

  constructor(options: AnnouncerOptions) {
    this.#o = options;
    const limits = { ...DEFAULT_ANNOUNCE_LIMITS, ...options.limits };
    this.#newNodes = new RateWindow(limits.newNodesPerHour, HOUR);
    this.#perNode = new RateWindow(limits.postsPerNodePerHour, HOUR);
  }

  async announce(body: Uint8Array): Promise<AnnounceAnswer> {
    const now = (this.#o.clock ?? (() => new Date()))();
    const value = parseJson(body, { maxBytes: MAX_ANNOUNCE_BYTES });
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new AnnounceError('announce.shape', 400, '$', 'must be an object { "node_manifest": {...}, "service_manifests": [...] }');
    }
    const { node_manifest: nodeManifest, service_manifests: services, ...rest } = value as Record<string, unknown>;
    const extra = Object.keys(rest)[0];
    if (extra !== undefined) throw new AnnounceError('announce.shape', 400, `$.${extra}`, 'is not a member of an announcement');
    if (nodeManifest === undefined) throw new AnnounceError('announce.shape', 400, '$.node_manifest', 'is required');
    if (!Array.isArray(services)) throw new AnnounceError('announce.shape', 400, '$.service_manifests', 'must be an array of signed service manifests');
    if (services.length > MAX_SERVICES) throw new AnnounceError('announce.shape', 400, '$.service_manifests', `holds ${services.length} manifests; at most ${MAX_SERVICES}`);

    let manifest;
    try {
      manifest = verifyDocument(nodeManifest, { now });
    } catch (error) {
      throw within('$.node_manifest', error);
    }
    if (manifest.kind !== 'node_manifest') {
      throw new AnnounceError('announce.kind', 400, '$.node_manifest.kind', `is ${manifest.kind}, not node_manifest`);
    }
    const node = manifest.document as NodeManifest;
    const verifiedServices = services.map((s, i) => {
      try {
        const record = verifyDocument(s, { now, nodePublicKey: (id) => (id === node.node_id ? node.public_key : undefined) });
        if (record.kind !== 'service_manifest') throw new AnnounceError('announce.kind', 400, `$.service_manifests[${i}].kind`, `is ${record.kind}, not service_manifest`);
        return record;
      } catch (error) {
        throw within(`$.service_manifests[${i}]`, error);
      }
    });
    if (!verifiedServices.some((s) => PROBED_SERVICE_TYPES.includes((s.document as ServiceManifest).type))) {
      throw new AnnounceError('announce.no_federation_service', 422, '$.service_manifests', 'holds no service of type "federation" or "storage": their entrypoints are where this node is probed');
    }

    // A node that signs its own manifests (or whose operator did first) is the only one
    // that may announce new versions: a claim by anyone else is refused here (the
    // registry would ignore it), and cannot use up the node's announcements.
    const controller = this.#o.projection.controllerOf(node.node_id);
    if (controller !== undefined && manifest.signer !== controller) {
      throw new AnnounceError('announce.foreign_signer', 409, '$.node_manifest.signature', `signed by ${manifest.signer}, but ${node.node_id} is controlled by ${controller}`);
    }
    const records = [manifest, ...verifiedServices];
    const answer: AnnounceAnswer = { node_id: node.node_id, records: records.map((r) => r.id), location: `/nodes/${node.node_id}` };
    const fresh = records.filter((r) => !this.#o.projection.has(r.id));
    if (fresh.length === 0) return answer;

    const t = now.getTime();
    // Known: in the registry, or announced here within the hour (not read back yet).
    for (const [id, at] of this.#recent) if (t - at >= HOUR) this.#recent.delete(id);
    const known = this.#o.projection.knowsNode(node.node_id) || this.#recent.has(node.node_id);
    const wait = Math.max(known ? 0 : this.#newNodes.retryAfterSeconds('new', t), this.#perNode.retryAfterSeconds(node.node_id, t));
    if (wait > 0) {
      throw new AnnounceError('announce.rate', 429, '$.node_manifest.node_id', known ? 'this node was announced too often in the last hour' : 'too many new nodes were announced here in the last hour', wait);
    }
    if (!known) this.#newNodes.hit('new', t);
    this.#recent.set(node.node_id, t);
    this.#perNode.hit(node.node_id, t);
    try {
      for (const r of fresh) await publishRecord(this.#o.js, { operator: this.#o.operator, kind: r.kind, id: r.id, bytes: canonicalBytes(r.document) });
    } catch (error) {
      if (error instanceof PublishError) throw new AnnounceError('bus.unavailable', 503, '$', `not stored: ${error.message}`, 1);
      throw error;
    }
    return answer;
  }
}
