/**
 * The index lists one projector batch changes (domain/index-list.ts): appends and
 * removals go to the projector's state as they are decided (a later record of the same
 * batch sees them: a creator's count is their list's length), and each list and chunk
 * the batch touched is written once, at the end.
 */
import { alreadyApplied, appendTo, chunkOf, emptyList, inFullChunk, joinIn, openChunkOf, removeFromTail, withoutEntry, type ListHead, type ListSlots } from '../domain/index-list.ts';
import { KEYS } from '../domain/keys.ts';
import type { BatchWrites } from './batch-writes.ts';
import type { CachedState } from './cached-state.ts';
import { encodeJson } from './codec.ts';

export class BatchLists {
  readonly #state: CachedState;
  readonly #lists = new Map<string, ListHead>();
  /** Full chunks written in this batch, by chunk key. */
  readonly #chunks = new Map<string, ListSlots>();

  constructor(state: CachedState) {
    this.#state = state;
  }

  /** The list, synchronously once this batch has it (most calls: a promise per call showed in profiles). */
  #list(key: string): ListHead | Promise<ListHead> {
    return this.#lists.get(key) ?? this.#load(key);
  }

  async #load(key: string): Promise<ListHead> {
    // The state's own object, changed in place: the state and this batch agree at once.
    const list = (await this.#state.listHead(key)) ?? emptyList();
    this.#lists.set(key, list);
    this.#state.setList(key, list);
    return list;
  }

  #setChunk(list: string, chunk: number, slots: ListSlots): void {
    this.#chunks.set(KEYS.listChunk(list, chunk), slots);
    this.#state.setListChunk(list, chunk, slots);
  }

  /**
   * Appends a manifest to a list for the record at log position `seq`; its join number
   * there (synchronously when this batch already has the list). A record the list has
   * seen already (applied again after a crash) is found, not appended twice; undefined
   * when its entry is gone: a later version, also applied already, left the list again,
   * and applying that version again will replace the head that would have held it.
   */
  append(list: string, manifestId: string, seq: number): number | undefined | Promise<number | undefined> {
    const head = this.#list(list);
    return head instanceof Promise ? head.then((h) => this.#append(list, h, manifestId, seq)) : this.#append(list, head, manifestId, seq);
  }

  #append(list: string, head: ListHead, manifestId: string, seq: number): number | undefined | Promise<number | undefined> {
    if (alreadyApplied(head, seq)) return this.#joinOf(list, head, manifestId, seq);
    const { join, full } = appendTo(head, manifestId);
    head.seq = seq;
    if (full) this.#setChunk(list, full.chunk, full.slots);
    return join;
  }

  /**
   * Where a manifest this list already took (for the record at `seq`) is: among its
   * newest entries, since each record from `seq` to the list's own `seq` added at most
   * one entry. The search reads no chunk older than that.
   */
  async #joinOf(list: string, head: ListHead, manifestId: string, seq: number): Promise<number | undefined> {
    const open = openChunkOf(head);
    const oldest = chunkOf(Math.max(0, head.joined - ((head.seq ?? 0) - seq + 1)));
    let join = joinIn(head.tail, open, manifestId);
    for (let chunk = open - 1; join === undefined && chunk >= oldest; chunk--) {
      join = joinIn(await this.#chunk(list, chunk), chunk, manifestId);
    }
    return join;
  }

  async #chunk(list: string, chunk: number): Promise<ListSlots> {
    return this.#chunks.get(KEYS.listChunk(list, chunk)) ?? (await this.#state.listChunk(list, chunk));
  }

  /** Removes the entry `join` (of `manifestId`) from a list, for the record at log position `seq`. */
  async remove(list: string, join: number, manifestId: string, seq: number): Promise<void> {
    const head = await this.#list(list);
    if (alreadyApplied(head, seq)) return;
    head.seq = seq;
    if (!inFullChunk(head, join)) return removeFromTail(head, join, manifestId);
    const chunk = chunkOf(join);
    this.#setChunk(list, chunk, withoutEntry(await this.#chunk(list, chunk), chunk, join, manifestId));
  }

  /**
   * The batch's list writes: full chunks first, then the lists' own values, so a reader
   * who sees a list's count finds the chunks it points to.
   */
  writeTo(writes: BatchWrites): void {
    for (const [key, slots] of this.#chunks) writes.put(key, encodeJson(slots));
    for (const [key, list] of this.#lists) writes.put(key, encodeJson(list));
  }
}
