/**
 * The pure part of storage coordination (no I/O, no queue): for storage agents and
 * tools that check assignments and plans without running a coordinator.
 */
export { DEFAULT_TIER_SCHEMES, modelScheme, schemeFor, schemeProblem, shardCount, shardsNeeded } from './tier-scheme.ts';
export type { Scheme } from './tier-scheme.ts';
export { placeShards, rendezvousScore } from './placement.ts';
export type { StorageNode } from './placement.ts';
export { chunkStatus } from './chunk-status.ts';
export type { ChunkStatus, ShardStanding } from './chunk-status.ts';
export { STORAGE_ROLE } from './storage-nodes.ts';
