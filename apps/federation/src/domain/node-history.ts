/**
 * One node's manifests as the log holds them: who controls its id, which version is
 * current, which key signs its services at a given time, and what is wrong with them.
 * Pure; the result depends only on the set of records and `now`, never on the order
 * they arrived in, so every node with the same log computes the same history.
 */
import { MAX_FUTURE_SKEW_MS, type NodeManifest, type ServiceManifest } from '@dmf/protocol';
import type { RegistryRecord } from './records.ts';

export type NodeManifestRecord = Extract<RegistryRecord, { kind: 'node_manifest' }>;
export type ServiceManifestRecord = Extract<RegistryRecord, { kind: 'service_manifest' }>;

/** Something the log shows about a node, with the records that show it. */
export interface Finding {
  code: FindingCode;
  detail: string;
  /** Record ids that are the evidence. */
  records: string[];
}

export type FindingCode =
  | 'equivocation'
  | 'controller_conflict'
  | 'foreign_signer'
  | 'service_wrong_signer'
  | 'service_equivocation'
  | 'manifest_expired'
  | 'manifest_churn'
  | 'origin_conflict'
  | 'issued_in_future';

/** Findings that keep a node out of the federation until an operator looks (spec 9.1, 9.3). */
export const QUARANTINE_FINDINGS: ReadonlySet<FindingCode> = new Set(['equivocation', 'manifest_churn', 'service_equivocation']);

export interface NodeHistory {
  nodeId: string;
  /** Who signs this node's manifests: the signer of its lowest `seq`; undefined while disputed. */
  controller: string | undefined;
  /** The controller's manifests, by `seq` ascending (disputed versions included). */
  manifests: NodeManifestRecord[];
  /** The newest undisputed version issued by now, expired or not; undefined when its newest `seq` is disputed. */
  current: NodeManifestRecord | undefined;
  /** `current` has passed its `expires_at`. */
  expired: boolean;
  /** Current version of each service (by `service_id`), valid signer, not expired. */
  services: ServiceManifestRecord[];
  /** Every service manifest version with a valid signer (for churn). */
  serviceVersions: ServiceManifestRecord[];
  findings: Finding[];
}

const bySeq = <T extends { document: { seq: number } }>(a: T, b: T) => a.document.seq - b.document.seq;

function issuedBy(record: { document: { issued_at: string } }, at: number): boolean {
  return Date.parse(record.document.issued_at) <= at;
}

/** Groups records by `seq`; a seq with two record ids is disputed (equivocation). */
function disputedSeqs<T extends { id: string; document: { seq: number } }>(records: readonly T[]): Map<number, string[]> {
  const ids = new Map<number, Set<string>>();
  for (const r of records) {
    const set = ids.get(r.document.seq) ?? new Set<string>();
    set.add(r.id);
    ids.set(r.document.seq, set);
  }
  const disputed = new Map<number, string[]>();
  for (const [seq, set] of ids) if (set.size > 1) disputed.set(seq, [...set].sort());
  return disputed;
}

/** Distinct records (the same record may arrive through two operators). */
function unique<T extends { id: string }>(records: readonly T[]): T[] {
  return [...new Map(records.map((r) => [r.id, r])).values()];
}

/**
 * The key that signs the node's services at time `at`: the `public_key` of the newest
 * undisputed manifest issued by then. A rotation (a new `public_key`) takes effect at
 * the `issued_at` of the manifest that announces it; services signed before stay valid.
 */
export function keyInForce(manifests: readonly NodeManifestRecord[], disputed: ReadonlyMap<number, unknown>, at: number): string | undefined {
  let key: string | undefined;
  for (const m of manifests) {
    if (disputed.has(m.document.seq) || !issuedBy(m, at)) continue;
    key = m.document.public_key;
  }
  return key;
}

/** Signer the node's own manifests require (PROTOCOL.md 4): `operator` if present, else `node_id`. */
function signerOf(m: NodeManifest): string {
  return m.operator ?? m.node_id;
}

/**
 * Builds the history of `nodeId` from every node and service manifest that names it.
 * `now` judges expiry, and hides versions issued more than the allowed skew ahead.
 */
export function nodeHistory(
  nodeId: string,
  nodeManifests: readonly NodeManifestRecord[],
  serviceManifests: readonly ServiceManifestRecord[],
  now: Date,
): NodeHistory {
  const findings: Finding[] = [];
  const horizon = now.getTime() + MAX_FUTURE_SKEW_MS;
  const all = unique(nodeManifests).filter((m) => m.document.node_id === nodeId).sort(bySeq);
  const early = all.filter((m) => !issuedBy(m, horizon));
  if (early.length > 0) {
    findings.push({ code: 'issued_in_future', detail: `${early.length} manifest version(s) issued more than 5 minutes ahead are not considered yet`, records: early.map((m) => m.id) });
  }
  const visible = all.filter((m) => issuedBy(m, horizon));

  // Control of a node id. A manifest signed by the node's own key is the node speaking:
  // if there is one, the node controls itself, and manifests for its id signed by anyone
  // else are claims on a node not theirs. Only a node whose manifests are all signed by
  // an operator (PROTOCOL.md lets anyone sign as an operator) is controlled by the
  // signer of its lowest seq; two signers there are a dispute nobody wins, which leaves
  // the node without a current manifest but is not held against it (it may be the
  // victim): docs/decisions.md, "Who controls a node id".
  const selfSigned = visible.some((m) => signerOf(m.document) === nodeId);
  const lowest = visible[0]?.document.seq;
  const firstSigners = new Set(visible.filter((m) => m.document.seq === lowest).map((m) => signerOf(m.document)));
  let controller: string | undefined;
  if (selfSigned) {
    controller = nodeId;
  } else if (firstSigners.size > 1) {
    findings.push({
      code: 'controller_conflict',
      detail: `seq ${lowest} of ${nodeId} is signed by ${firstSigners.size} different operators and never by the node itself, so nobody controls it`,
      records: visible.filter((m) => m.document.seq === lowest).map((m) => m.id),
    });
  } else {
    controller = [...firstSigners][0];
  }
  const foreign = controller === undefined ? [] : visible.filter((m) => signerOf(m.document) !== controller);
  if (foreign.length > 0) {
    findings.push({
      code: 'foreign_signer',
      detail: `${foreign.length} manifest(s) for ${nodeId} signed by someone other than its controller ${controller}: ignored`,
      records: foreign.map((m) => m.id),
    });
  }
  const manifests = controller === undefined ? [] : visible.filter((m) => signerOf(m.document) === controller);

  const disputed = disputedSeqs(manifests);
  for (const [seq, ids] of disputed) {
    findings.push({ code: 'equivocation', detail: `${ids.length} different manifests of ${nodeId} carry seq ${seq}; both kept as evidence, neither is current`, records: ids });
  }
  const newest = manifests.at(-1);
  const current = newest && !disputed.has(newest.document.seq) ? newest : undefined;
  const expired = current !== undefined && Date.parse(current.document.expires_at) <= now.getTime();
  if (current && expired) {
    findings.push({ code: 'manifest_expired', detail: `current manifest (seq ${current.document.seq}) expired at ${current.document.expires_at}`, records: [current.id] });
  }

  const { current: services, valid: serviceVersions } = currentServices(nodeId, manifests, disputed, current?.document.public_key, unique(serviceManifests), now, findings);
  return { nodeId, controller, manifests, current, expired, services, serviceVersions, findings };
}

function currentServices(
  nodeId: string,
  manifests: readonly NodeManifestRecord[],
  disputed: ReadonlyMap<number, unknown>,
  currentKey: string | undefined,
  candidates: readonly ServiceManifestRecord[],
  now: Date,
  findings: Finding[],
): { current: ServiceManifestRecord[]; valid: ServiceManifestRecord[] } {
  const horizon = now.getTime() + MAX_FUTURE_SKEW_MS;
  const valid: ServiceManifestRecord[] = [];
  const wrongSigner: ServiceManifestRecord[] = [];
  for (const s of candidates) {
    if (s.document.node_id !== nodeId || !issuedBy(s, horizon)) continue;
    const key = keyInForce(manifests, disputed, Date.parse(s.document.issued_at));
    if (key !== undefined && s.signer === key) valid.push(s);
    else wrongSigner.push(s);
  }
  if (wrongSigner.length > 0) {
    findings.push({
      code: 'service_wrong_signer',
      detail: `${wrongSigner.length} service manifest(s) not signed by the public_key ${nodeId}'s node manifest had in force when they were issued: refused`,
      records: wrongSigner.map((s) => s.id),
    });
  }
  const byService = new Map<string, ServiceManifestRecord[]>();
  for (const s of valid) {
    const versions = byService.get(s.document.service_id);
    if (versions) versions.push(s);
    else byService.set(s.document.service_id, [s]);
  }
  const current: ServiceManifestRecord[] = [];
  for (const [serviceId, versions] of [...byService].sort(([a], [b]) => (a < b ? -1 : 1))) {
    versions.sort(bySeq);
    const serviceDisputes = disputedSeqs(versions);
    for (const [seq, ids] of serviceDisputes) {
      findings.push({ code: 'service_equivocation', detail: `${ids.length} different versions of service ${serviceId} carry seq ${seq}`, records: ids });
    }
    const newest = versions.at(-1) as ServiceManifestRecord;
    if (serviceDisputes.has(newest.document.seq)) continue;
    if (Date.parse((newest.document as ServiceManifest).expires_at) <= now.getTime()) continue;
    // Current only when signed by the key the node announces now: a version signed by a
    // rotated-out key stays a valid record (signed while that key was in force) but is
    // not served as current, whatever issued_at its signer claims.
    if (newest.signer !== currentKey) continue;
    current.push(newest);
  }
  return { current, valid };
}

/**
 * Manifest churn (spec 9.1): the most node and service manifest versions of one node
 * issued within any window of `windowMs`, and the records of that window.
 */
export function busiestWindow(history: Pick<NodeHistory, 'manifests' | 'serviceVersions'>, windowMs: number): { count: number; records: string[] } {
  const versions = unique<{ id: string; document: { issued_at: string } }>([...history.manifests, ...history.serviceVersions])
    .map((r) => ({ id: r.id, at: Date.parse(r.document.issued_at) }))
    .sort((a, b) => a.at - b.at || (a.id < b.id ? -1 : 1));
  let best = { count: 0, records: [] as string[] };
  let start = 0;
  for (let end = 0; end < versions.length; end++) {
    while ((versions[end] as { at: number }).at - (versions[start] as { at: number }).at >= windowMs) start++;
    if (end - start + 1 > best.count) best = { count: end - start + 1, records: versions.slice(start, end + 1).map((v) => v.id) };
  }
  return best;
}
