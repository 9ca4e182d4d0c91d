/**
 * The index lists one projector batch changes (domain/index-list.ts): appends and
 * removals go to the projector's state as they are decided (a later record of the same
 * batch sees them: a creator's count is their list's length), and each list and chunk
 * the batch touched is written once, at the end.
 */
import { appendTo, chunkOf, emptyList, inFullChunk, removeFromTail, withoutEntry, type ListHead, type ListSlots } from '../domain/index-list.ts';
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

  /** Appends a manifest to a list; its join number there (synchronously when this batch already has the list). */
  append(list: string, manifestId: string): number | Promise<number> {
    const head = this.#list(list);
    return head instanceof Promise ? head.then((h) => this.#append(list, h, manifestId)) : this.#append(list, head, manifestId);
  }

  #append(list: string, head: ListHead, manifestId: string): number {
    const { join, full } = appendTo(head, manifestId);
    if (full) this.#setChunk(list, full.chunk, full.slots);
    return join;
  }

  /** Removes the entry `join` (of `manifestId`) from a list. */
  async remove(list: string, join: number, manifestId: string): Promise<void> {
    const head = await this.#list(list);
    if (!inFullChunk(head, join)) return removeFromTail(head, join, manifestId);
    const chunk = chunkOf(join);
    const slots = this.#chunks.get(KEYS.listChunk(list, chunk)) ?? (await this.#state.listChunk(list, chunk));
    this.#setChunk(list, chunk, withoutEntry(slots, chunk, join, manifestId));
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
