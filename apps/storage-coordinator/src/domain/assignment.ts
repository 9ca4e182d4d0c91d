/**
 * `POST /assign_erasure_group` as a pure function: from the request (a chunk, its size,
 * tier, scheme and the CIDs of the shards the uploader computed) and the storage nodes,
 * the body of the erasure_group record to sign, or a refusal naming the field.
 *
 * - The scheme asked for, else the tier's (tier-scheme.ts).
 * - One shard CID per shard of the scheme; under replication each is the chunk's CID.
 * - Holders by placement (placement.ts): deterministic, so any node given the same
 *   nodes can check the assignment.
 * - The chunk already has a group: the same request answers with it (idempotent); a
 *   different one is a conflict (a repair, not a new assignment, moves shards).
 */
import { isDeepStrictEqual } from 'node:util';
import { schemeName, schemeShardBytes } from '@dmf/erasure';
import { MAX_CHUNK_BYTES, type ErasureGroup, type PopularityTier } from '@dmf/protocol';
import { placeShards, PlacementError, type PlacementPolicy, type StorageNode } from './placement.ts';
import { modelScheme, schemeFor, shardCount, type Scheme } from './tier-scheme.ts';

export interface AssignRequest {
  chunk: string;
  size: number;
  tier: PopularityTier;
  scheme?: Scheme;
  shards: readonly string[];
}

/** The erasure_group members a coordinator signs (seq, issued_at and signature are added by the caller). */
export type GroupBody = Omit<ErasureGroup, 'seq' | 'issued_at' | 'signature'>;

export class AssignmentError extends Error {
  constructor(
    readonly code: 'assign.invalid' | 'assign.conflict' | 'assign.no_nodes',
    /** The request member at fault (JSON path). */
    readonly field: string,
    readonly reason: string,
  ) {
    super(`${field}: ${reason}`);
    this.name = 'AssignmentError';
  }
}

export function assignGroup(request: AssignRequest, coordinator: string, nodes: readonly StorageNode[], policy?: PlacementPolicy): GroupBody {
  if (!Number.isSafeInteger(request.size) || request.size < 1 || request.size > MAX_CHUNK_BYTES) {
    throw new AssignmentError('assign.invalid', '$.size', `${request.size} is not a chunk size in bytes (1 to ${MAX_CHUNK_BYTES})`);
  }
  let scheme: Scheme;
  try {
    scheme = schemeFor(request.tier, request.scheme);
  } catch (error) {
    throw new AssignmentError('assign.invalid', '$.scheme', (error as Error).message.replace(/^scheme: /, ''));
  }
  const n = shardCount(scheme);
  if (request.shards.length !== n) {
    throw new AssignmentError('assign.invalid', '$.shards', `${request.shards.length} shard CIDs given; the scheme ${schemeName(modelScheme(scheme))} has ${n} shards`);
  }
  if (scheme.type === 'replication') {
    const other = request.shards.findIndex((cid) => cid !== request.chunk);
    if (other >= 0) throw new AssignmentError('assign.invalid', `$.shards[${other}]`, 'under replication every shard is a copy of the chunk, so its CID is the chunk\'s');
  }
  const shardBytes = schemeShardBytes(modelScheme(scheme), request.size);
  let holders: StorageNode[];
  try {
    holders = placeShards({ chunk: request.chunk, shards: n, shardBytes }, nodes, policy);
  } catch (error) {
    if (error instanceof PlacementError) throw new AssignmentError('assign.no_nodes', '$.scheme', error.message.replace(/^placement\.\w+: /, ''));
    throw error;
  }
  return {
    kind: 'erasure_group',
    coordinator,
    chunk: request.chunk,
    size: request.size,
    tier: request.tier,
    scheme,
    shard_bytes: shardBytes,
    shards: [...request.shards],
    holders: holders.map((h) => h.nodeId),
  };
}

/**
 * Whether an existing current group answers the request: the same chunk, size, tier,
 * scheme (when one was asked for) and shards. Throws a conflict when it does not.
 */
export function sameAssignment(existing: ErasureGroup, request: AssignRequest): true {
  const scheme = request.scheme ?? existing.scheme;
  const same = existing.chunk === request.chunk && existing.size === request.size && existing.tier === request.tier && isDeepStrictEqual(existing.scheme, scheme) && isDeepStrictEqual(existing.shards, [...request.shards]);
  if (!same) {
    throw new AssignmentError('assign.conflict', '$.chunk', `already assigned by ${existing.coordinator} with another size, tier, scheme or shards; shards move by repair, not by a new assignment`);
  }
  return true;
}
