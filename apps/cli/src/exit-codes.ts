/** Exit statuses of every `dmf` command; scripts rely on them. */
export const EXIT = {
  /** Done; for `verify`, the document is valid. */
  ok: 0,
  /** The document is invalid, or the operation failed (one line on stderr says why). */
  failed: 1,
  /** Usage error or unreadable input. */
  usage: 2,
  /** A bug in dmf, not the user's mistake (sysexits' EX_SOFTWARE); never 1, which `verify` reserves for "invalid". */
  internal: 70,
} as const;

/** A failure that ends a command with a one-line message and an exit status. */
export class CliError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode: number = EXIT.failed, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}
