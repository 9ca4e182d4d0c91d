/**
 * Storing a file through a storage coordinator and reading it back, as `dmf storage
 * put|get` do: the file is cut into chunks of at most 4 MiB; each chunk is encoded
 * under its scheme, assigned (`POST /assign_erasure_group`, with the shard CIDs), and
 * each shard is uploaded to the holder the coordinator placed it at. Reading asks the
 * coordinator where the shards are (`GET /chunk_status`), fetches enough of them,
 * checking each against its CID, rebuilds, and checks the chunk's CID. Every call goes
 * through the verifying client.
 */
import type { DmfClient } from '@dmf/client';
import { encodeChunk, joinChunk, rebuildShards } from '@dmf/erasure';
import { cidOfBytes, MAX_CHUNK_BYTES, type ErasureScheme, type PopularityTier } from '@dmf/protocol';
import { modelScheme, shardsNeeded, type ChunkStatus } from '@dmf/storage-coordinator/domain';

export class TransferError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TransferError';
  }
}

export interface StoredChunk {
  chunk: string;
  size: number;
  group: string;
  holders: string[];
}

function text(body: Uint8Array): string {
  return Buffer.from(body).toString('utf8');
}

/** The problem's detail when the answer is a problem document, else the start of the body. */
function why(body: Uint8Array): string {
  try {
    const problem = JSON.parse(text(body)) as { detail?: string };
    if (typeof problem.detail === 'string') return problem.detail;
  } catch {
    // not JSON
  }
  return text(body).slice(0, 200);
}

/** Cuts `data` into chunks of at most MAX_CHUNK_BYTES (an empty file is one empty chunk, which cannot be stored). */
export function chunksOf(data: Uint8Array): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  for (let at = 0; at < data.length; at += MAX_CHUNK_BYTES) chunks.push(data.subarray(at, Math.min(data.length, at + MAX_CHUNK_BYTES)));
  return chunks;
}

/** Encodes, assigns and uploads one chunk. */
export async function putChunk(client: DmfClient, coordinator: string, chunk: Uint8Array, tier: PopularityTier, scheme: ErasureScheme): Promise<StoredChunk> {
  const cid = cidOfBytes(chunk);
  const shards = encodeChunk(modelScheme(scheme), chunk);
  const request = { chunk: cid, size: chunk.length, tier, scheme, shards: shards.map((s) => cidOfBytes(s)) };
  const answer = await client.call({ node: coordinator, serviceType: 'storage_coord' }, { method: 'POST', path: '/assign_erasure_group', body: JSON.stringify(request) });
  if (answer.status !== 200 && answer.status !== 201) throw new TransferError(`chunk ${cid}: assignment refused (${answer.status}): ${why(answer.body)}`);
  const assigned = JSON.parse(text(answer.body)) as { group: string; uploads: { shard: number; node: string; url: string | null }[] };
  await Promise.all(
    assigned.uploads.map(async ({ shard, node, url }) => {
      if (!url) throw new TransferError(`chunk ${cid}: shard ${shard}'s holder ${node} has no storage URL at the coordinator`);
      const put = await client.call(
        { node: url, serviceType: 'storage' },
        { method: 'PUT', path: `/shards/${assigned.group}/${shard}`, body: shards[shard] as Uint8Array, headers: { 'content-type': 'application/octet-stream' } },
      );
      if (put.node.manifest.node_id !== node) throw new TransferError(`chunk ${cid}: ${url} answered as ${put.node.manifest.node_id}, not shard ${shard}'s holder ${node}`);
      if (put.status !== 201) throw new TransferError(`chunk ${cid}: shard ${shard} refused by ${node} (${put.status}): ${why(put.body)}`);
    }),
  );
  return { chunk: cid, size: chunk.length, group: assigned.group, holders: assigned.uploads.map((u) => u.node) };
}

/** The chunk's status and its holders' URLs at the coordinator. */
export async function chunkStatusAt(client: DmfClient, coordinator: string, cid: string): Promise<{ status: ChunkStatus; holders: { shard: number; node: string; url: string | null }[]; repair: unknown }> {
  const answer = await client.call({ node: coordinator, serviceType: 'storage_coord' }, { method: 'GET', path: `/chunk_status/${cid}` });
  if (answer.status !== 200) throw new TransferError(`chunk ${cid}: status not available (${answer.status}): ${why(answer.body)}`);
  return JSON.parse(text(answer.body));
}

/** Reads one chunk back: enough shards (checked by CID), rebuilt, joined, checked. */
export async function getChunk(client: DmfClient, coordinator: string, cid: string): Promise<Uint8Array> {
  const { status, holders } = await chunkStatusAt(client, coordinator, cid);
  const model = modelScheme(status.scheme);
  const need = shardsNeeded(status.scheme);
  const shards: (Uint8Array | null)[] = status.shards.map(() => null);
  const failures: string[] = [];
  let have = 0;
  let complete: Uint8Array[] | undefined;
  // k shards at a time, data shards first (no decoding when they are all there), until they rebuild the chunk.
  for (let i = 0; i < status.shards.length && !complete; i += need) {
    await Promise.all(
      status.shards.slice(i, i + need).map(async ({ shard, cid: shardCid, node }) => {
        const url = holders.find((h) => h.shard === shard)?.url;
        if (!url) return void failures.push(`shard ${shard}: holder ${node} has no storage URL`);
        try {
          const answer = await client.call({ node: url, serviceType: 'storage' }, { method: 'GET', path: `/shards/${shardCid}` });
          if (answer.status !== 200) return void failures.push(`shard ${shard} at ${node}: ${answer.status}`);
          if (cidOfBytes(answer.body) !== shardCid) return void failures.push(`shard ${shard} at ${node}: other bytes than its CID`);
          shards[shard] = answer.body;
          have++;
        } catch (error) {
          failures.push(`shard ${shard} at ${node}: ${(error as Error).message}`);
        }
      }),
    );
    if (have < need) continue;
    const attempt = [...shards];
    try {
      rebuildShards(model, attempt);
      complete = attempt as Uint8Array[];
    } catch {
      // not enough yet for this code (an LRC pattern may need more than k): the next batch
    }
  }
  if (!complete) throw new TransferError(`chunk ${cid}: ${have} shard(s) read, not enough to rebuild it (${failures.join('; ')})`);
  const bytes = joinChunk(model, complete, status.size);
  if (cidOfBytes(bytes) !== cid) throw new TransferError(`chunk ${cid}: the rebuilt bytes are ${cidOfBytes(bytes)}`);
  return bytes;
}
