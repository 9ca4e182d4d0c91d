/**
 * The index lists one projector batch changes (domain/index-list.ts): appends and
 * removals go to the projector's state as they are decided (a later record of the same
 * batch sees them: a creator's count is their list's length), and each list and chunk
 * the batch touched is written once, at the end.
 */
import { appendTo, chunkOf, emptyList, inFullChunk, removeFromTail, withoutEntry, type ListEntry, type ListHead } from '../domain/index-list.ts';
import { KEYS } from '../domain/keys.ts';
import type { BatchWrites } from './batch-writes.ts';
import type { CachedState } from './cached-state.ts';
import { encodeJson } from './codec.ts';

export class BatchLists {
  readonly #state: CachedState;
  readonly #lists = new Map<string, ListHead>();
  /** Full chunks written in this batch, by chunk key. */
  readonly #chunks = new Map<string, ListEntry[]>();

  constructor(state: CachedState) {
    this.#state = state;
  }

  async #list(key: string): Promise<ListHead> {
    let list = this.#lists.get(key);
    if (list) return list;
    // The state's own object, changed in place: the state and this batch agree at once.
    list = (await this.#state.listHead(key)) ?? emptyList();
    this.#lists.set(key, list);
    this.#state.setList(key, list);
    return list;
  }

  #setChunk(list: string, chunk: number, entries: ListEntry[]): void {
    this.#chunks.set(KEYS.listChunk(list, chunk), entries);
    this.#state.setListChunk(list, chunk, entries);
  }

  /** Appends a manifest to a list; its join number there. */
  async append(list: string, manifestId: string): Promise<number> {
    const { join, full } = appendTo(await this.#list(list), manifestId);
    if (full) this.#setChunk(list, full.chunk, full.entries);
    return join;
  }

  /** Removes the entry `join` (of `manifestId`) from a list. */
  async remove(list: string, join: number, manifestId: string): Promise<void> {
    const head = await this.#list(list);
    if (!inFullChunk(head, join)) return removeFromTail(head, join, manifestId);
    const chunk = chunkOf(join);
    const entries = this.#chunks.get(KEYS.listChunk(list, chunk)) ?? (await this.#state.listChunk(list, chunk));
    this.#setChunk(list, chunk, withoutEntry(entries, join, manifestId));
  }

  /**
   * The batch's list writes: full chunks first, then the lists' own values, so a reader
   * who sees a list's count finds the chunks it points to.
   */
  writeTo(writes: BatchWrites): void {
    for (const [key, entries] of this.#chunks) writes.put(key, encodeJson(entries));
    for (const [key, list] of this.#lists) writes.put(key, encodeJson(list));
  }
}
