/**
 * @dmf/storage-coordinator: storage coordination (spec 3.2, 5.3.2, 7): placement of
 * erasure groups, chunk health, repair.
 */
export { DEFAULT_PLACEMENT_POLICY, nodeWeight, placeShards, PlacementError, rendezvousScore, rendezvousUniform } from './domain/placement.ts';
export type { PlacementPolicy, PlacementRequest, StorageNode } from './domain/placement.ts';
export { chunkHealth, DEFAULT_HEALTH_POLICY, defaultRepairThreshold, expectedDaysToLoss } from './domain/chunk-health.ts';
export type { ChunkCondition, ChunkHealth, GroupLayout, HealthPolicy, HolderStatus, ReportedShard } from './domain/chunk-health.ts';
export { DEFAULT_TIER_SCHEMES, modelScheme, overhead, schemeFor, schemeProblem, shardCount, shardsNeeded } from './domain/tier-scheme.ts';
export type { Scheme } from './domain/tier-scheme.ts';
export { LOWEST_PRIORITY, REPAIR_RETRY, RepairTrafficCap, repairJobId, repairPriority } from './domain/repair-queue.ts';
export { repairTaskFor, RepairTaskError } from './domain/repair-task.ts';
export type { RepairInput, RepairTaskBody } from './domain/repair-task.ts';
export { currentGroups, storageState } from './domain/storage-state.ts';
export type { ChunkState, GroupRecord, ReportRecord } from './domain/storage-state.ts';
