/**
 * Rollback and equivocation (PROTOCOL.md section 3) from a client's point of view.
 * A signer orders the versions of one subject with `seq`: seeing a lower seq than
 * before is a rollback (an old, perhaps revoked, manifest replayed); seeing two
 * different documents with the same seq is equivocation (the signer told two
 * stories). The same document again is fine: a client re-fetches manifests. Pure.
 */

/** What the client remembers of the newest version of a subject it has seen. */
export interface KnownVersion {
  seq: number;
  /** Record id (lowercase hex SHA-256 of the JCS of the signed document). */
  recordId: string;
}

export type VersionJudgement = 'first' | 'newer' | 'same' | 'rollback' | 'equivocation';

export function judgeVersion(known: KnownVersion | undefined, incoming: KnownVersion): VersionJudgement {
  if (known === undefined) return 'first';
  if (incoming.seq > known.seq) return 'newer';
  if (incoming.seq < known.seq) return 'rollback';
  return incoming.recordId === known.recordId ? 'same' : 'equivocation';
}

/**
 * Memory keys. Versions are remembered per signer as well as per subject: anyone can
 * sign a node manifest that claims someone else's `node_id` (with their own `operator`),
 * and such a document with a huge seq must not make the genuine manifest look like a
 * rollback. Keys are opaque strings for a KnownVersions store; DIDs and UUIDs hold no
 * spaces, so a space separates the parts.
 */
export function nodeVersionKey(nodeId: string, signer: string): string {
  return `node_manifest ${nodeId} ${signer}`;
}

export function serviceVersionKey(nodeId: string, serviceId: string, signer: string): string {
  return `service_manifest ${nodeId} ${serviceId} ${signer}`;
}
