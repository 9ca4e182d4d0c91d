export interface WaitOptions {
  /** Give up after this long. Default 10 000 ms. */
  timeoutMs?: number;
  /** Poll interval. Default 50 ms. */
  intervalMs?: number;
  /** Says what was awaited, for the timeout message. */
  description?: string;
}

/**
 * Polls `condition` until it returns a value other than `undefined`/`false`, or the
 * deadline passes. Errors thrown by the condition count as "not yet" (a server that is
 * still starting refuses connections); the last one is kept as the timeout's cause.
 */
export async function waitFor<T>(
  condition: () => Promise<T | undefined | false> | T | undefined | false,
  options: WaitOptions = {},
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const intervalMs = options.intervalMs ?? 50;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await condition();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) {
      const what = options.description ?? 'condition';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`, { cause: lastError });
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
