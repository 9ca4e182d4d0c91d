/**
 * @dmf/storage-coordinator: storage coordination (spec 3.2, 5.3.2, 7): placement of
 * erasure groups, chunk health, repair.
 */
export { DEFAULT_PLACEMENT_POLICY, nodeWeight, placeShards, PlacementError, rendezvousScore, rendezvousUniform } from './domain/placement.ts';
export type { PlacementPolicy, PlacementRequest, StorageNode } from './domain/placement.ts';
