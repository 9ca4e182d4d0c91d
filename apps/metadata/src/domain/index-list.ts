/**
 * The creator and label indices, as lists kept in fixed chunks. Pure: the projector
 * (I/O) reads and writes the values, these functions say what they become.
 *
 * Why chunks and not one KV key per entry: each KV message costs nats-server a store
 * write and a subject-index entry, and a manifest joins its creator's list and every one
 * of its labels' (typically five). One key per entry made 8 to 9 messages per manifest
 * and nats-server the largest consumer of CPU in the projector (docs/benchmarks.md,
 * 2026-11-29); with chunks a batch writes each list it touched once.
 *
 * A list numbers its entries in order of joining (the join number, from 0). Entry `j`
 * lives in chunk `floor(j / LIST_CHUNK_SIZE)`. The chunk still filling (the open chunk)
 * is kept in the list's own value (`ListHead.tail`), next to the count of joins; a full
 * chunk is written once under its number and changes again only when one of its
 * manifests leaves the list. Chunks depend on the join numbers alone, never on how the
 * log was cut into batches, so a replay writes exactly the same values (the digest of
 * `dmf projections verify` compares them) and so does any node with the same log.
 *
 * A manifest leaves a label's list when a new version drops the label; its head keeps
 * its join number per label (`ManifestHead.joins`), which finds the chunk. Joining
 * again gives it a new join number, at the end. A creator's list never loses an entry
 * (ownership is for good), so its `joined` is the creator's manifest count.
 */

/** Entries per chunk. A list's value holds at most this many; 128 ids is about 8 KB of JSON. */
export const LIST_CHUNK_SIZE = 128;

/** One entry: join number and manifest id. */
export type ListEntry = [join: number, manifestId: string];

/** A list's own value: how many joins it has had, and the entries of its open chunk. */
export interface ListHead {
  joined: number;
  tail: ListEntry[];
}

/** A chunk that filled up: written under its number. */
export interface FullChunk {
  chunk: number;
  entries: ListEntry[];
}

export function emptyList(): ListHead {
  return { joined: 0, tail: [] };
}

export function chunkOf(join: number): number {
  return Math.floor(join / LIST_CHUNK_SIZE);
}

/** The number of the open chunk (the one `tail` holds). */
export function openChunkOf(list: ListHead): number {
  return chunkOf(list.joined);
}

/**
 * Appends a manifest (in place). Returns its join number, and the chunk that this
 * filled, if it did: the caller writes it, and the tail starts over empty.
 */
export function appendTo(list: ListHead, manifestId: string): { join: number; full?: FullChunk } {
  const join = list.joined;
  list.tail.push([join, manifestId]);
  list.joined = join + 1;
  if (list.joined % LIST_CHUNK_SIZE !== 0) return { join };
  const full = { chunk: chunkOf(join), entries: list.tail };
  list.tail = [];
  return { join, full };
}

/** Whether the entry with this join number is in a full chunk (else in the tail). */
export function inFullChunk(list: ListHead, join: number): boolean {
  return chunkOf(join) < openChunkOf(list);
}

/**
 * Entries without the one of `join` (a new array: the caller's copy may be cached).
 * Throws when it is not there: the head's join number and the list disagree, which
 * would be a bug, and writing on would lose track of the manifest.
 */
export function withoutEntry(entries: readonly ListEntry[], join: number, manifestId: string): ListEntry[] {
  const at = entries.findIndex(([j]) => j === join);
  if (at < 0 || (entries[at] as ListEntry)[1] !== manifestId) {
    throw new Error(`index list: no entry ${join} for manifest ${manifestId}`);
  }
  return [...entries.slice(0, at), ...entries.slice(at + 1)];
}

/** Removes from the tail (in place); the entry must be in the open chunk. */
export function removeFromTail(list: ListHead, join: number, manifestId: string): void {
  list.tail = withoutEntry(list.tail, join, manifestId);
}

/**
 * The chunks to read for a page starting at join number `from`, in order: from the
 * chunk holding `from` up to the open one (the list's tail, not read separately).
 */
export function chunksFrom(list: ListHead, from: number): { full: number[]; tail: boolean } {
  const open = openChunkOf(list);
  const first = chunkOf(Math.max(0, from));
  const full: number[] = [];
  for (let c = first; c < open; c++) full.push(c);
  return { full, tail: first <= open };
}
