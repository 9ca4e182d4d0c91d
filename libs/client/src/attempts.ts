/**
 * The attempts log of one client operation: each requested URL and what it did, in
 * order. Failures are recorded where they happen, so that an error thrown several
 * layers up still says what every URL did.
 */
import { ClientError, type Attempt } from './errors.ts';

export class AttemptLog {
  readonly #entries: Attempt[] = [];

  get entries(): readonly Attempt[] {
    return [...this.#entries];
  }

  answered(url: string, status: number): void {
    this.#entries.push({ url, result: 'answered', status, detail: `answered ${status}` });
  }

  /**
   * Records a ClientError as the outcome of `url` and returns it carrying the whole
   * log, to throw. Anything else (a bug, not a refusal) is returned unchanged.
   */
  failed(url: string, error: ClientError, status?: number): ClientError;
  failed(url: string, error: unknown, status?: number): unknown;
  failed(url: string, error: unknown, status?: number): unknown {
    if (!(error instanceof ClientError)) return error;
    this.#entries.push({ url, result: error.code, ...(status === undefined ? {} : { status }), detail: detailFor(url, error) });
    return error.withAttempts(this.entries);
  }
}

/** The error's reason, prefixed by what in its subject is not the attempt's URL (a JSON path, a redirect target). */
function detailFor(url: string, error: ClientError): string {
  if (error.subject === url || error.subject === normalized(url)) return error.reason;
  const rest = error.subject.startsWith(url) ? error.subject.slice(url.length).trim() : error.subject;
  return `${rest}: ${error.reason}`;
}

function normalized(url: string): string | undefined {
  try {
    return new URL(url).href;
  } catch {
    return undefined;
  }
}
