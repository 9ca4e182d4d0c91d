/**
 * The storage nodes a coordinator may place shards on, and how each holder stands, from
 * the federation registry (spec 4, 9) and the log. Pure.
 *
 * - A storage node is an admitted node whose current manifest lists the `storage` role
 *   and declares `capabilities.storage.capacity_bytes`, with a current service manifest
 *   of type `storage` (where its shards are read and written).
 * - Free capacity is the declared capacity less the shard bytes the log's current
 *   erasure groups assign to it (computed, so every coordinator reading the same log
 *   agrees; an agent's own claim of free space is not needed).
 * - Uptime is the median of what its counted attesters measured (spec 9.2 figures).
 * - Its subnet is the network of its storage entrypoint: IPv4 /24 or IPv6 /48 for an
 *   address, else the host name (a name hides the network; one operator's names on one
 *   network then count as several, which docs/storage.md notes).
 * - A holder is down while this node's prober has had no answer from it; nodes that are
 *   not admitted storage nodes (quarantined, delisted, expired, unknown) are absent, and
 *   their shards count as out at once.
 */
import { subnetBucket } from '@dmf/http';
import type { HolderStatus } from './chunk-health.ts';
import type { StorageNode } from './placement.ts';

/** The role a node manifest lists, and the service type whose entrypoints take shards. */
export const STORAGE_ROLE = 'storage';

/** What the registry says of a node, as far as storage needs it. */
export interface RegistryNodeLike {
  nodeId: string;
  state: string;
  /** Its current node manifest's members, when it has one. */
  manifest: { services: readonly string[]; capabilities: Readonly<Record<string, unknown>> } | undefined;
  /** Its current service manifests. */
  services: readonly { type: string; entrypoints: readonly string[] }[];
  /** Uptime (ppm) each counted attester measured. */
  uptimePpm: readonly number[];
}

export interface StorageCandidate {
  node: StorageNode;
  /** Declared capacity in bytes. */
  capacityBytes: number;
  /** Base URL of its storage service (the first entrypoint). */
  url: string;
  status: HolderStatus;
}

/** Declared capacity, or undefined when the manifest declares none (or nonsense). */
export function declaredCapacity(capabilities: Readonly<Record<string, unknown>>): number | undefined {
  const storage = capabilities[STORAGE_ROLE];
  if (typeof storage !== 'object' || storage === null) return undefined;
  const bytes = (storage as Record<string, unknown>)['capacity_bytes'];
  return typeof bytes === 'number' && Number.isSafeInteger(bytes) && bytes >= 0 ? bytes : undefined;
}

/** The network group of a URL's host (see the top of this file). */
export function subnetOfUrl(url: string): string {
  let host: string;
  try {
    host = new URL(url).hostname.replace(/^\[|\]$/g, '');
  } catch {
    return `url:${url}`;
  }
  try {
    return subnetBucket(host);
  } catch {
    return `host:${host.toLowerCase()}`;
  }
}

function median(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? (sorted[mid] as number) : Math.floor(((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2);
}

/**
 * Every admitted storage node, with free bytes (`usedBytes`: what current groups assign
 * to it) and its status (`unreachableSince`: the prober's nodes without an answer).
 * Sorted by node id.
 */
export function storageCandidates(
  nodes: Iterable<RegistryNodeLike>,
  usedBytes: ReadonlyMap<string, number>,
  unreachableSince: ReadonlyMap<string, number>,
): StorageCandidate[] {
  const out: StorageCandidate[] = [];
  for (const view of nodes) {
    if (view.state !== 'admitted' || !view.manifest?.services.includes(STORAGE_ROLE)) continue;
    const capacityBytes = declaredCapacity(view.manifest.capabilities);
    const url = view.services.find((s) => s.type === STORAGE_ROLE)?.entrypoints[0];
    if (capacityBytes === undefined || url === undefined) continue;
    const region = view.manifest.capabilities['region'];
    const subnet = subnetOfUrl(url);
    const downSince = unreachableSince.get(view.nodeId);
    out.push({
      node: {
        nodeId: view.nodeId,
        region: typeof region === 'string' ? region : 'unknown',
        subnet,
        freeBytes: Math.max(0, capacityBytes - (usedBytes.get(view.nodeId) ?? 0)),
        // A node admitted without attestations (a bootstrap peer) is taken at its word.
        uptimePpm: median(view.uptimePpm) ?? 1_000_000,
      },
      capacityBytes,
      url: url.replace(/\/+$/, ''),
      status: { subnet, region: typeof region === 'string' ? region : 'unknown', ...(downSince === undefined ? {} : { downSince }) },
    });
  }
  return out.sort((a, b) => (a.node.nodeId < b.node.nodeId ? -1 : a.node.nodeId > b.node.nodeId ? 1 : 0));
}

/** The holder statuses chunk health judges by. */
export function holderStatuses(candidates: readonly StorageCandidate[]): Map<string, HolderStatus> {
  return new Map(candidates.map((c) => [c.node.nodeId, c.status]));
}

/**
 * The most shards of a group of `n` one region should hold: ⌈n / R⌉ over the R regions
 * the storage nodes are in (undefined when none is known: no cap).
 */
export function regionCapFor(n: number, holders: ReadonlyMap<string, HolderStatus>): number | undefined {
  const regions = new Set([...holders.values()].map((h) => h.region).filter((r): r is string => r !== undefined));
  return regions.size === 0 ? undefined : Math.ceil(n / regions.size);
}

/** The nodes placement may choose now: not down. */
export function placeableNodes(candidates: readonly StorageCandidate[]): StorageNode[] {
  return candidates.filter((c) => c.status.downSince === undefined).map((c) => c.node);
}
