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
export { assignGroup, AssignmentError, sameAssignment } from './domain/assignment.ts';
export type { AssignRequest, GroupBody } from './domain/assignment.ts';
export { chunkStatus } from './domain/chunk-status.ts';
export type { ChunkStatus, ShardStanding } from './domain/chunk-status.ts';
export { DEFAULT_FAILURE_PRIOR, failureRatePerDay } from './domain/failure-rate.ts';
export { declaredCapacity, holderStatuses, placeableNodes, STORAGE_ROLE, storageCandidates, subnetOfUrl } from './domain/storage-nodes.ts';
export type { RegistryNodeLike, StorageCandidate } from './domain/storage-nodes.ts';
export { chunkState, isNewerReport, kOf } from './domain/storage-state.ts';
export { ChunkChecker, chunkKey, DEFAULT_CHECKER_POLICY } from './chunk-checker.ts';
export type { CheckerPolicy, CheckerStats } from './chunk-checker.ts';
export { IntakeError, StorageIntake } from './intake.ts';
export { RepairDeferred, RepairExecutor } from './repair-executor.ts';
export type { TaskSender } from './repair-executor.ts';
export { executeJobId, RepairQueue, repairQueueName } from './repair-queue.ts';
export type { RepairJob, RepairJobView, RepairOutcome } from './repair-queue.ts';
export { registerStorageRoutes, STORAGE_ROUTES } from './routes.ts';
export { StorageProjection, STORAGE_KINDS } from './storage-projection.ts';
export { DEFAULT_STORAGE_POLICY, startStorageRole } from './main.ts';
export type { StoragePolicy, StorageRole, StorageRoleOptions } from './main.ts';
