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

/**
 * Entries per chunk. A list's value holds at most this many ids (about 3 KB of JSON) and
 * is rewritten by every batch that adds to it, so a smaller chunk costs less to rewrite
 * and a larger one fewer chunk writes and reads.
 */
export const LIST_CHUNK_SIZE = 64;

/**
 * A chunk's (or the tail's) slots: slot `i` of chunk `c` is join number `c * LIST_CHUNK_SIZE + i`,
 * `null` once its manifest left the list. Flat strings, not [join, id] pairs: this is
 * encoded once per batch for every list the batch touched, and pairs took twice as long.
 */
export type ListSlots = (string | null)[];

/** A list's own value: how many joins it has had, and the slots of its open chunk. */
export interface ListHead {
  joined: number;
  tail: ListSlots;
  /**
   * Log position (FEDERATED sequence) of the last record that changed the list. A batch
   * writes its lists before its heads and `_pos`, so after a crash in between the log is
   * applied again over lists that already hold some of its records: a record at or
   * before this position has changed the list already and must not change it twice.
   * Absent in a new list.
   */
  seq?: number;
}

/** Whether the record at log position `seq` already changed this list (see ListHead.seq). */
export function alreadyApplied(list: ListHead, seq: number): boolean {
  return seq <= (list.seq ?? 0);
}

/** One entry as a page lists it. */
export interface ListEntry {
  join: number;
  manifestId: string;
}

/** A chunk that filled up: written under its number. */
export interface FullChunk {
  chunk: number;
  slots: ListSlots;
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
  list.tail.push(manifestId);
  list.joined = join + 1;
  if (list.joined % LIST_CHUNK_SIZE !== 0) return { join };
  const full = { chunk: chunkOf(join), slots: list.tail };
  list.tail = [];
  return { join, full };
}

/** Whether the entry with this join number is in a full chunk (else in the tail). */
export function inFullChunk(list: ListHead, join: number): boolean {
  return chunkOf(join) < openChunkOf(list);
}

/**
 * The slots of chunk `chunk` without join number `join` (a new array: the caller's copy
 * may be cached). An empty slot stays empty: a join number belongs to one manifest for
 * good, so it can only have left already (a chunk written before a crash, its list not).
 * Throws when the slot holds another manifest: the head's join number and the list
 * disagree, which would be a bug, and writing on would lose track of it.
 */
export function withoutEntry(slots: readonly (string | null)[], chunk: number, join: number, manifestId: string): ListSlots {
  const at = join - chunk * LIST_CHUNK_SIZE;
  if (slots[at] === null) return [...slots];
  if (slots[at] !== manifestId) throw new Error(`index list: join ${join} is not manifest ${manifestId}`);
  const copy = [...slots];
  copy[at] = null;
  return copy;
}

/** Removes from the tail (in place); the entry must be in the open chunk. */
export function removeFromTail(list: ListHead, join: number, manifestId: string): void {
  list.tail = withoutEntry(list.tail, openChunkOf(list), join, manifestId);
}

/** The join number of `manifestId` in chunk `chunk`'s slots, or undefined. */
export function joinIn(slots: readonly (string | null)[], chunk: number, manifestId: string): number | undefined {
  const at = slots.lastIndexOf(manifestId);
  return at < 0 ? undefined : chunk * LIST_CHUNK_SIZE + at;
}

/** The entries of chunk `chunk`'s slots from join number `from` on, in order. */
export function entriesOf(slots: readonly (string | null)[], chunk: number, from: number): ListEntry[] {
  const entries: ListEntry[] = [];
  const first = chunk * LIST_CHUNK_SIZE;
  for (let i = Math.max(0, from - first); i < slots.length; i++) {
    const manifestId = slots[i];
    if (manifestId) entries.push({ join: first + i, manifestId });
  }
  return entries;
}

/**
 * The full chunks to read for a page starting at join number `from`, in order, and
 * whether the open one (the list's tail, not read separately) is in the page's range.
 */
export function chunksFrom(list: ListHead, from: number): { full: number[]; tail: boolean } {
  const open = openChunkOf(list);
  const first = chunkOf(Math.max(0, from));
  const full: number[] = [];
  for (let c = first; c < open; c++) full.push(c);
  return { full, tail: first <= open };
}
