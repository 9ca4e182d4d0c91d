/**
 * The things `dmf up` started, closed in reverse order of start. close() is safe to
 * call twice and keeps going when one part fails to close, so Ctrl-C always stops
 * every server it started.
 */
export class Lifecycle {
  readonly #closers: { name: string; close: () => Promise<void> }[] = [];
  #closing: Promise<string[]> | undefined;

  /** Registers a started part; it is closed before everything registered earlier. */
  add(name: string, close: () => Promise<void>): void {
    this.#closers.push({ name, close });
  }

  /** Closes everything; resolves with the names of parts that failed to close. */
  close(): Promise<string[]> {
    this.#closing ??= (async () => {
      const failed: string[] = [];
      for (const { name, close } of [...this.#closers].reverse()) {
        try {
          await close();
        } catch {
          failed.push(name);
        }
      }
      return failed;
    })();
    return this.#closing;
  }
}
