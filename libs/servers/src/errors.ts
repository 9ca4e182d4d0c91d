/** Failure to find, start or stop a server process that DMF launches itself. */
export class ServerProcessError extends Error {
  readonly code: ServerProcessErrorCode;
  constructor(code: ServerProcessErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ServerProcessError';
    this.code = code;
  }
}

export type ServerProcessErrorCode =
  | 'binary.missing'
  | 'process.exited'
  | 'process.not_ready'
  | 'config.invalid';
