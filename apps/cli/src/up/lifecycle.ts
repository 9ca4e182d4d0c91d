/**
 * The things `dmf up` started, closed in reverse order of start. close() is safe to
 * call twice and keeps going when one part fails to close, so Ctrl-C always stops
 * every server it started.
 */
export class Lifecycle {
  readonly #closers: { name: string; close: () => Promise<void>; force?: () => void }[] = [];
  #closing: Promise<string[]> | undefined;
  readonly #timeoutMs: number;

  /** @param timeoutMs how long one part may take to close before it is forced and counted as failed. Default 5 000 ms. */
  constructor(timeoutMs = 5_000) {
    this.#timeoutMs = timeoutMs;
  }

  /**
   * Registers a started part; it is closed before everything registered earlier.
   * `force` runs when `close` takes too long (e.g. a connection draining towards a
   * server that is gone), so that stopping never hangs.
   */
  add(name: string, close: () => Promise<void>, force?: () => void): void {
    this.#closers.push({ name, close, force });
  }

  /** Closes everything; resolves with the names of parts that failed to close. */
  close(): Promise<string[]> {
    this.#closing ??= (async () => {
      const failed: string[] = [];
      for (const { name, close, force } of [...this.#closers].reverse()) {
        let timer: NodeJS.Timeout | undefined;
        const timedOut = new Promise<'timeout'>((resolve) => {
          timer = setTimeout(() => resolve('timeout'), this.#timeoutMs);
        });
        try {
          if ((await Promise.race([close(), timedOut])) === 'timeout') {
            force?.();
            failed.push(name);
          }
        } catch {
          failed.push(name);
        } finally {
          clearTimeout(timer);
        }
      }
      return failed;
    })();
    return this.#closing;
  }
}
