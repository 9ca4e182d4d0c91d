/**
 * @dmf/storage-agent: the reference storage node (spec 7): holds shards by CID, serves
 * them over HTTPS, audits itself, reports, and executes repair tasks.
 */
export { startStorageAgent } from './main.ts';
export type { StorageAgent, StorageAgentOptions } from './main.ts';
export { AgentState, shardKey } from './agent-state.ts';
export type { HeldShard } from './agent-state.ts';
export { Auditor } from './auditor.ts';
export type { AuditPass } from './auditor.ts';
export { COORDINATOR_SERVICE, CoordinatorError, CoordinatorLink } from './coordinator-link.ts';
export { AgentRepair, MAX_TASK_BYTES, RepairRefused } from './repair.ts';
export type { RepairAnswer } from './repair.ts';
export { Reporter } from './reporter.ts';
export { AGENT_ROUTES, registerAgentRoutes } from './routes.ts';
export { ShardStore, ShardStoreError } from './shard-store.ts';
export type { ShardRead } from './shard-store.ts';
