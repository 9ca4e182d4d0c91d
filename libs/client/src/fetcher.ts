/**
 * One HTTP exchange as the client allows it: through the guarded dispatcher, with
 * redirects followed here (each target re-checked), one deadline for the whole
 * exchange, and a byte cap on the response body. Throws ClientError only.
 */
import { request, type Dispatcher } from 'undici';
import { checkTargetUrl } from './domain/target-url.ts';
import { isFollowedRedirect, MAX_REDIRECTS, redirectedRequest } from './domain/redirect.ts';
import type { AddressPolicy } from './domain/address-policy.ts';
import { ClientError, findClientError } from './errors.ts';

export type ResponseHeaders = Record<string, string | string[] | undefined>;

export interface FetchRequest {
  /** Already checked with checkTargetUrl. */
  url: URL;
  method: string;
  headers: Record<string, string>;
  body?: Uint8Array | string;
}

export interface FetchResponse {
  /** The URL that answered (after redirects). */
  url: URL;
  status: number;
  headers: ResponseHeaders;
  body: Uint8Array;
}

export interface FetcherOptions {
  dispatcher: Dispatcher;
  policy: AddressPolicy;
  /** Deadline for the whole exchange, redirects and body included, ms. */
  timeoutMs: number;
  /** The dispatcher's `maxResponseSize`, for messages and the early content-length check. */
  maxResponseBytes: number;
}

/** Bytes of a redirect body read (and dropped) so that the connection can be reused. */
const REDIRECT_BODY_LIMIT = 64 * 1024;

export async function fetchWithRedirects(req: FetchRequest, options: FetcherOptions): Promise<FetchResponse> {
  const signal = AbortSignal.timeout(options.timeoutMs);
  let url = req.url;
  let method = req.method;
  let body = req.body;
  let headers = req.headers;
  for (let redirects = 0; ; redirects++) {
    const current = url;
    const fail = (error: unknown): never => {
      throw asClientError(error, current, signal, options);
    };
    const response = await request(url, { dispatcher: options.dispatcher, method: method as Dispatcher.HttpMethod, headers, body, signal }).catch(fail);
    if (!isFollowedRedirect(response.statusCode)) {
      const bytes = await readBody(response.body, options.maxResponseBytes, url, contentLength(response.headers)).catch(fail);
      return { url, status: response.statusCode, headers: response.headers, body: bytes };
    }
    await response.body.dump({ limit: REDIRECT_BODY_LIMIT }).catch(fail);
    const location = response.headers['location'];
    if (typeof location !== 'string' || location === '') {
      throw new ClientError('redirect.refused', url.href, `answered ${response.statusCode} without one Location header`);
    }
    if (redirects === MAX_REDIRECTS) {
      throw new ClientError('redirect.refused', url.href, `redirects more than ${MAX_REDIRECTS} times (next: ${location.slice(0, 200)})`);
    }
    url = checkTargetUrl(location, options.policy, `redirect target of ${url.href}`, url);
    const next = redirectedRequest(response.statusCode, method);
    method = next.method;
    if (!next.keepBody) {
      body = undefined;
      headers = withoutContentHeaders(headers);
    }
  }
}

/**
 * Reads a body. The byte cap itself is undici's (the dispatcher's `maxResponseSize`
 * destroys the socket past it); a declared length over the cap is refused here before
 * reading anything.
 */
async function readBody(body: Dispatcher.ResponseData['body'], max: number, url: URL, declaredLength: number | undefined): Promise<Uint8Array> {
  if (declaredLength !== undefined && declaredLength > max) {
    discard(body);
    throw new ClientError('response.too_large', url.href, `response declares ${declaredLength} bytes, more than the ${max} allowed`);
  }
  return new Uint8Array(await body.arrayBuffer());
}

/** Closes a body without reading it; undici then reports an abort, which nobody needs to hear. */
function discard(body: Dispatcher.ResponseData['body']): void {
  body.on('error', () => {});
  body.destroy();
}

function contentLength(headers: ResponseHeaders): number | undefined {
  const value = headers['content-length'];
  return typeof value === 'string' && /^[0-9]{1,15}$/.test(value) ? Number(value) : undefined;
}

function withoutContentHeaders(headers: Record<string, string>): Record<string, string> {
  const { 'content-type': _type, ...rest } = headers;
  return rest;
}

/**
 * Any failure as a ClientError about `url`: the guard's own refusals keep their code,
 * undici's size limit is `response.too_large`, the deadline and every socket, TLS or
 * protocol error `unreachable`.
 */
function asClientError(error: unknown, url: URL, signal: AbortSignal, options: FetcherOptions): ClientError {
  const known = findClientError(error);
  if (known !== undefined) {
    return known.subject === url.href ? known : new ClientError(known.code, url.href, `${known.subject}: ${known.reason}`, { cause: error });
  }
  if ((error as { code?: unknown } | null)?.code === 'UND_ERR_RES_EXCEEDED_MAX_SIZE') {
    return new ClientError('response.too_large', url.href, `response body exceeds ${options.maxResponseBytes} bytes`, { cause: error });
  }
  if (signal.aborted) return new ClientError('unreachable', url.href, `no complete answer within ${options.timeoutMs} ms`, { cause: error });
  return new ClientError('unreachable', url.href, describe(error), { cause: error });
}

/** A socket or TLS error in one line: its code and message (`ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:4431`). */
function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: unknown }).code;
  const cause = error.cause instanceof Error && error.cause.message !== error.message ? ` (${error.cause.message})` : '';
  return `${typeof code === 'string' ? `${code}: ` : ''}${error.message}${cause}`;
}
