/**
 * Who must sign each kind (PROTOCOL.md section 4, signer column). A valid signature
 * by any other key is an invalid document.
 */
import { ProtocolError } from './errors.ts';
import type { DocumentKind } from './schemas/kinds.ts';

/** Resolves the `public_key` of the current node manifest of a node, if known. */
export type NodePublicKeyResolver = (nodeId: string) => string | undefined;

/**
 * The did:key that must be `kid`, and for messages the member that names it (`rule`)
 * and, where the choice depends on the document, why (`note`).
 */
export function requiredSigner(
  kind: DocumentKind,
  document: Record<string, unknown>,
  nodePublicKey: NodePublicKeyResolver | undefined,
): { did: string; rule: string; note?: string } {
  switch (kind) {
    case 'node_manifest':
      return document['operator'] !== undefined
        ? { did: document['operator'] as string, rule: '$.operator' }
        : { did: document['node_id'] as string, rule: '$.node_id', note: 'as there is no $.operator' };
    case 'service_manifest': {
      const nodeId = document['node_id'] as string;
      const did = nodePublicKey?.(nodeId);
      if (did === undefined) {
        throw new ProtocolError('signer.unresolved', `no current node manifest known for ${nodeId}, so its public_key is unknown`, {
          path: '$.node_id',
        });
      }
      return { did, rule: `public_key of the node manifest of ${nodeId}` };
    }
    case 'content_manifest':
      return { did: document['creator'] as string, rule: '$.creator' };
    case 'node_attestation':
      return { did: document['attester'] as string, rule: '$.attester' };
    case 'node_report':
      return { did: document['reporter'] as string, rule: '$.reporter' };
    case 'category_snapshot':
      return { did: document['node'] as string, rule: '$.node' };
    case 'governance_report':
      return { did: document['reporter'] as string, rule: '$.reporter' };
    case 'erasure_group':
      return { did: document['coordinator'] as string, rule: '$.coordinator' };
    case 'shard_report':
      return { did: document['node'] as string, rule: '$.node' };
    case 'repair_task':
      return { did: document['coordinator'] as string, rule: '$.coordinator' };
  }
}
