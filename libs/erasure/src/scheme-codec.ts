/**
 * One entry point for whole chunks under any scheme of the model (schemes.ts): split a
 * chunk into its shards, rebuild missing shards, and join the data shards back. A
 * storage agent and the `dmf storage` commands use this; they need not know which codec
 * a scheme is.
 *
 * Layout (the same for every erasure code): the chunk is cut into k data shards of
 * ceil(size / k) bytes, the last zero-padded (split.ts, as klauspost and Backblaze
 * do), followed by the code's parity shards. Replication: every shard is the chunk.
 */
import { ErasureError } from './errors.ts';
import { createLrcCodec } from './lrc-codec.ts';
import { createReedSolomon } from './reed-solomon.ts';
import { dataShardCount, shardCount, type Scheme } from './schemes.ts';
import { joinShards, shardSizeFor, splitShards } from './split.ts';
import { createXorCodec } from './xor-codec.ts';
import type { MaybeShardList } from './codec-shards.ts';

/** Bytes of each shard of a chunk of `size` bytes under `scheme`. */
export function schemeShardBytes(scheme: Scheme, size: number): number {
  return scheme.kind === 'replication' ? size : shardSizeFor(size, dataShardCount(scheme));
}

/** Every shard of `chunk` under `scheme`, shard 0 first. */
export function encodeChunk(scheme: Scheme, chunk: Uint8Array): Uint8Array[] {
  if (scheme.kind === 'replication') return Array.from({ length: scheme.copies }, () => Uint8Array.from(chunk));
  const k = dataShardCount(scheme);
  const shards = splitShards(chunk, k, shardCount(scheme) - k);
  codecFor(scheme).encode(shards);
  return shards;
}

/**
 * Fills every missing entry (null or undefined) of `shards` from the present ones, in
 * place. Throws ErasureError `shards.too_few` when the present ones cannot rebuild them.
 */
export function rebuildShards(scheme: Scheme, shards: MaybeShardList): void {
  if (shards.length !== shardCount(scheme)) {
    throw new ErasureError('shards.wrong_count', 'shards', `${shards.length} entries given; the scheme has ${shardCount(scheme)} shards`);
  }
  if (scheme.kind === 'replication') {
    const copy = shards.find((s): s is Uint8Array => s instanceof Uint8Array);
    if (!copy) throw new ErasureError('shards.too_few', 'shards', 'no copy is present');
    for (let i = 0; i < shards.length; i++) if (!shards[i]) shards[i] = Uint8Array.from(copy);
    return;
  }
  codecFor(scheme).reconstruct(shards);
}

/** The chunk of `size` bytes from a complete list of shards (its data shards, padding cut). */
export function joinChunk(scheme: Scheme, shards: readonly Uint8Array[], size: number): Uint8Array {
  if (scheme.kind === 'replication') {
    const copy = shards[0];
    if (!copy || copy.length !== size) throw new ErasureError('shards.size_mismatch', 'shards[0]', `holds ${copy?.length ?? 0} bytes; the chunk has ${size}`);
    return copy;
  }
  return joinShards(shards, dataShardCount(scheme), size);
}

interface ByteCodec {
  encode(shards: readonly Uint8Array[]): void;
  reconstruct(shards: MaybeShardList): unknown;
}

function codecFor(scheme: Exclude<Scheme, { kind: 'replication' }>): ByteCodec {
  switch (scheme.kind) {
    case 'rs':
      return createReedSolomon(scheme.k, scheme.m);
    case 'lrc':
      return createLrcCodec(scheme.k, scheme.l, scheme.r);
    case 'xor':
      return createXorCodec(scheme.k);
  }
}
