/**
 * Every way the client refuses a node, a document or a fetch, as one error class with
 * stable codes (STYLE.md "Errors"). Codes are a contract for callers (the CLI maps
 * them to exit messages); add, never rename.
 */

/** Stable failure names thrown as `ClientError.code` and listed in `Attempt.result`. */
export const CLIENT_ERROR_CODES = [
  // Where the client may go.
  'address.refused',
  'url.invalid',
  'request.invalid',
  'redirect.refused',
  // What came back.
  'response.too_large',
  'unreachable',
  // The node manifest and the service manifests.
  'manifest.unavailable',
  'manifest.invalid',
  'manifest.expired',
  'manifest.rollback',
  'manifest.equivocation',
  'service.wrong_signer',
  'service.foreign_node',
  'service.not_offered',
  'schema.unavailable',
  'schema.mismatch',
  'node.quarantined',
  // Use after close().
  'client.closed',
] as const;

export type ClientErrorCode = (typeof CLIENT_ERROR_CODES)[number];

/** What one requested URL did, in the order the client tried them. */
export interface Attempt {
  /** The URL requested (the first of its redirect chain). */
  url: string;
  /** `answered` when its response was used, else the code of the failure. */
  result: 'answered' | ClientErrorCode;
  /** HTTP status of the last response, when a server answered. */
  status?: number;
  /** One line: what happened, e.g. `connect ECONNREFUSED 127.0.0.1:4431` or `answered 503`. */
  detail: string;
}

export interface ClientErrorOptions {
  /** The URLs tried on the way to this failure. Default: none. */
  attempts?: readonly Attempt[];
  /** Underlying error (a ProtocolError, a socket error...). */
  cause?: unknown;
}

/**
 * The client refused or could not reach something. `message` is one line:
 * `<code>: <subject>: <reason>`, where subject is the URL (and JSON path) at fault.
 */
export class ClientError extends Error {
  override readonly name = 'ClientError';
  readonly code: ClientErrorCode;
  /** The URL, field or address at fault. */
  readonly subject: string;
  /** The reason alone, without code and subject. */
  readonly reason: string;
  /** What each tried URL did (empty when nothing was requested). */
  readonly attempts: readonly Attempt[];

  constructor(code: ClientErrorCode, subject: string, reason: string, options: ClientErrorOptions = {}) {
    const oneLine = reason.replace(/[\r\n]+/g, ' ');
    super(`${code}: ${subject}: ${oneLine}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.subject = subject;
    this.reason = oneLine;
    this.attempts = Object.freeze([...(options.attempts ?? [])]);
  }

  /** The same failure with the attempts that led to it. */
  withAttempts(attempts: readonly Attempt[]): ClientError {
    return new ClientError(this.code, this.subject, this.reason, { attempts, cause: this.cause ?? this });
  }
}

/** The first ClientError in an error's `cause` chain (undici wraps some socket errors). */
export function findClientError(error: unknown): ClientError | undefined {
  for (let current = error, depth = 0; current !== undefined && current !== null && depth < 8; depth++) {
    if (current instanceof ClientError) return current;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}
