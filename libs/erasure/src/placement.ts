/**
 * Shard placement for the churn simulation, as pluggable functions: given a view of
 * the nodes and the nodes already holding shards of a chunk, choose nodes for new
 * shards. Functions must be deterministic given the PRNG, and return distinct nodes
 * that are up and not already holding a shard of the chunk (fewer than asked when
 * there are not enough).
 */
import type { Prng } from './prng.ts';

/** What a placement function may see of the simulated network. */
export interface PlacementView {
  /** Number of regions; regions are 0..regionCount − 1. */
  readonly regionCount: number;
  /** The nodes of `region` that have not departed (some may be down: check isUp). */
  regionNodes(region: number): readonly number[];
  /** Whether `node` is online now. */
  isUp(node: number): boolean;
  regionOf(node: number): number;
  subnetOf(node: number): number;
}

export interface PlacementRequest {
  /** How many new shards to place. */
  readonly count: number;
  /** Nodes holding the chunk's other shards, which stay; they count toward diversity and are never chosen. */
  readonly current: readonly number[];
  /** Nodes whose shards are being replaced; never chosen. Default none. */
  readonly avoid?: readonly number[];
}

/** Chooses nodes for `request.count` new shards. */
export type Placement = (view: PlacementView, request: PlacementRequest, rng: Prng) => number[];

/** Random draws per shard before falling back to a scan of every node. */
const TRIES = 64;

/** Uniform draws among nodes that have not departed, then a full scan from a random start. */
function pickNode(view: PlacementView, rng: Prng, ok: (node: number) => boolean): number | undefined {
  const sizes = Array.from({ length: view.regionCount }, (_, r) => view.regionNodes(r).length);
  const total = sizes.reduce((a, b) => a + b, 0);
  if (total === 0) return undefined;
  const at = (index: number): number => {
    let region = 0;
    while (index >= sizes[region]!) index -= sizes[region++]!;
    return view.regionNodes(region)[index]!;
  };
  for (let i = 0; i < TRIES; i += 1) {
    const node = at(rng.nextInt(total));
    if (ok(node)) return node;
  }
  const start = rng.nextInt(total);
  for (let i = 0; i < total; i += 1) {
    const node = at((start + i) % total);
    if (ok(node)) return node;
  }
  return undefined;
}

/**
 * Random placement with region diversity (the default): each new shard goes to a
 * node drawn uniformly among the up nodes, subject to at most ceil(n / regions)
 * shards of the chunk per region and one per subnet; when no node meets both, the
 * subnet rule is dropped, then the region cap. Drawing uniformly (rather than filling
 * the emptiest region first) keeps a region whose nodes are mostly down from
 * receiving every repair.
 */
export const regionDiversePlacement: Placement = (view, request, rng) => {
  const taken = new Set([...request.current, ...(request.avoid ?? [])]);
  const cap = Math.ceil((request.current.length + request.count) / Math.max(1, view.regionCount));
  const load = new Array<number>(view.regionCount).fill(0);
  const subnets = new Set<number>();
  for (const node of request.current) {
    load[view.regionOf(node)]! += 1;
    subnets.add(view.subnetOf(node));
  }
  const chosen: number[] = [];
  for (let i = 0; i < request.count; i += 1) {
    let pick: number | undefined;
    for (const level of [2, 1, 0]) {
      pick = pickNode(
        view,
        rng,
        (node) =>
          view.isUp(node) &&
          !taken.has(node) &&
          (level < 1 || load[view.regionOf(node)]! < cap) &&
          (level < 2 || !subnets.has(view.subnetOf(node))),
      );
      if (pick !== undefined) break;
    }
    if (pick === undefined) break;
    chosen.push(pick);
    taken.add(pick);
    subnets.add(view.subnetOf(pick));
    load[view.regionOf(pick)]! += 1;
  }
  return chosen;
};

/** Uniform placement: each new shard on a random up node, ignoring regions and subnets. */
export const randomPlacement: Placement = (view, request, rng) => {
  const taken = new Set([...request.current, ...(request.avoid ?? [])]);
  const chosen: number[] = [];
  for (let i = 0; i < request.count; i += 1) {
    const pick = pickNode(view, rng, (node) => view.isUp(node) && !taken.has(node));
    if (pick === undefined) break;
    chosen.push(pick);
    taken.add(pick);
  }
  return chosen;
};
