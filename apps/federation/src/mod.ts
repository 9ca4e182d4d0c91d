/**
 * @dmf/federation: the federation node (spec 4, 5.1, 9): node and service manifests in
 * the log, admission decided by every node from the log, sourcing of admitted peers,
 * probing and attestations, quarantine, delisting and reputation.
 */
export { startFederationRole } from './main.ts';
export type { FederationRole, FederationRoleOptions } from './main.ts';
export { computeRegistry, admittedOrigins, ORIGIN_CAPABILITY } from './domain/registry.ts';
export type { NodeOrigin, NodeState, NodeView, ProbeView, Registry, AttesterView, ReporterView } from './domain/registry.ts';
export { DEFAULT_REGISTRY_POLICY, REGISTRY_KINDS } from './domain/records.ts';
export type { LocalView, RegistryPolicy, RegistryRecord } from './domain/records.ts';
export { reputationOf } from './domain/reputation.ts';
export type { Reputation } from './domain/reputation.ts';
export { RegistryProjection } from './registry-projection.ts';
export type { StateChange } from './registry-projection.ts';
export { SourceReconciler } from './source-reconciler.ts';
export { Announcer, AnnounceError, DEFAULT_ANNOUNCE_LIMITS } from './announce.ts';
export type { AnnounceAnswer, AnnounceLimits } from './announce.ts';
export { Prober, DEFAULT_PROBER_POLICY } from './prober.ts';
export type { ProberPolicy } from './prober.ts';
export { Bootstrapper } from './bootstrap.ts';
export { registerFederationRoutes, FEDERATION_ROUTES, announceProblem } from './routes.ts';
