/**
 * The records the registry is computed from, and the registry's configuration. The
 * projector verifies each record (schema, signature by its `kid`, signer rule where it
 * does not depend on other records) before it gets here; the rules that depend on other
 * records (who controls a node id, which key signs its services, which attesters count)
 * are this folder's job.
 */
import type { GovernanceReport, NodeAttestation, NodeManifest, NodeReport, ServiceManifest } from '@dmf/protocol';

interface RecordOf<K extends string, D> {
  kind: K;
  /** Record id (PROTOCOL.md 2). */
  id: string;
  /** The `kid` its signature verified with. */
  signer: string;
  document: D;
}

export type RegistryRecord =
  | RecordOf<'node_manifest', NodeManifest>
  | RecordOf<'service_manifest', ServiceManifest>
  | RecordOf<'node_attestation', NodeAttestation>
  | RecordOf<'node_report', NodeReport>
  | RecordOf<'governance_report', GovernanceReport>;

export type RegistryKind = RegistryRecord['kind'];
export const REGISTRY_KINDS: readonly RegistryKind[] = ['node_manifest', 'service_manifest', 'node_attestation', 'node_report', 'governance_report'];

/** Thresholds of spec 9, in configuration so an operator can tune them (defaults below). */
export interface RegistryPolicy {
  /** Distinct operators of admitted nodes whose attestations admit a node (spec 4.2: 2). */
  attestersNeeded: number;
  /** Distinct operators of admitted nodes whose reports delist a node (issue 5: 2). */
  reportersNeeded: number;
  /** Manifest churn: more than this many node or service manifest versions of one node... */
  churnLimit: number;
  /** ...issued within this many milliseconds quarantines it. */
  churnWindowMs: number;
  /** Least uptime and availability (ppm) an attestation must report to count. */
  minUptimePpm: number;
  minAvailabilityPpm: number;
  /**
   * Bad fingerprint submissions (spec 9.1): more than this many refused fingerprints
   * carried by a node's ORIGIN... */
  badFingerprintLimit: number;
  /** ...or more than this many invalid records (invalid metadata served)... */
  invalidMetadataLimit: number;
  /** ...making up more than this share of what it carried (ppm) quarantines it. */
  maxBadSharePpm: number;
}

/** What a node's ORIGIN carried into our FEDERATED stream (counted by the metadata projection). */
export interface CarriedSignals {
  records: number;
  invalid: number;
  badFingerprint: number;
}

export const DEFAULT_REGISTRY_POLICY: Readonly<RegistryPolicy> = Object.freeze({
  attestersNeeded: 2,
  reportersNeeded: 2,
  // A node renews its manifests about weekly and changes them on a deploy; 20 versions
  // in an hour is no deploy.
  churnLimit: 20,
  churnWindowMs: 3_600_000,
  minUptimePpm: 900_000,
  minAvailabilityPpm: 900_000,
  // An honest operator relays a creator's mistake now and then; a flood is many and a large share.
  badFingerprintLimit: 20,
  invalidMetadataLimit: 20,
  maxBadSharePpm: 50_000,
});

/** What this node knows that is not on the log: who it is, whom it trusts from the start. */
export interface LocalView {
  /** This node's node_id. */
  self: string;
  /** Bootstrap peers' node ids: admitted by configuration (spec 4.2 needs somewhere to start). */
  bootstrap: readonly string[];
  /** Node ids this operator quarantines by hand (spec 9.3: quarantine is local). */
  quarantined: readonly string[];
  /** The time expiry is judged at. */
  now: Date;
  /** What each ORIGIN (by operator token) carried so far. Default: nothing known. */
  signals?: ReadonlyMap<string, CarriedSignals>;
}
