/**
 * Runs tasks with the same key one after another, tasks with different keys at once.
 * In-process only: it keeps two requests of one process from deciding on the same
 * state; across processes the projector, which applies the log in order, decides.
 */
export class KeyedLock {
  /** The promise the next task of a key waits for; removed when the key has no task left. */
  readonly #tails = new Map<string, Promise<void>>();

  async run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    const tail = previous.then(() => mine);
    this.#tails.set(key, tail);
    await previous;
    try {
      return await task();
    } finally {
      release();
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    }
  }

  /** Keys with a task running or waiting. */
  get size(): number {
    return this.#tails.size;
  }
}
