import { ErrorFamilyError, problemFromFamilies } from './error-families.ts';
import type { ErrorFamily } from './error-families.ts';
import { PROBLEM_KINDS, ProblemError } from './problem.ts';
import type { FieldError, ProblemKind } from './problem.ts';
import { protocolErrorFamily } from './protocol-problems.ts';

/**
 * The one place that maps errors to problems. Every error that reaches the server's
 * error handler, 404 handler or framework-error hook goes through {@link problemFromError}.
 *
 * Rules:
 * - A {@link ProblemError} is sent as it is.
 * - An error of a registered family (./error-families.ts; built in: DMF protocol
 *   errors, ./protocol-problems.ts) gets the problem its family gives it.
 * - Fastify's own client errors (validation, JSON, media type, size, URL) get a DMF
 *   problem kind and a detail that names the field or the limit.
 * - Any other error carrying a 4xx `statusCode` is a client mistake: its status is kept.
 * - Everything else is a 500 with a generic detail; the error is logged, never sent.
 */

/** Detail of every unexpected error. Deliberately says nothing about the cause. */
export const INTERNAL_ERROR_DETAIL = 'The server could not complete the request; the error has been logged.';

/** Longest detail taken from an error message, and longest echoed field name. */
const MAX_DETAIL_LENGTH = 500;
const MAX_KEY_LENGTH = 100;

interface FastifyLikeError {
  code?: unknown;
  statusCode?: unknown;
  message?: unknown;
  validation?: unknown;
  validationContext?: unknown;
}

interface AjvLikeError {
  instancePath?: unknown;
  keyword?: unknown;
  message?: unknown;
  params?: unknown;
}

/** Fastify error codes the base answers with a kind of its own, and why. */
const FASTIFY_CODE_PROBLEMS: Readonly<Record<string, { kind: ProblemKind; detail: string }>> = {
  FST_ERR_CTP_INVALID_JSON_BODY: { kind: PROBLEM_KINDS.malformedJson, detail: 'body: is not valid JSON' },
  FST_ERR_CTP_EMPTY_JSON_BODY: {
    kind: PROBLEM_KINDS.malformedJson,
    detail: 'body: must not be empty when content-type is application/json',
  },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: {
    kind: PROBLEM_KINDS.unsupportedMediaType,
    detail: 'content-type: must be application/json',
  },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: {
    kind: PROBLEM_KINDS.badRequest,
    detail: 'content-length: does not match the size of the body',
  },
  FST_ERR_BAD_URL: { kind: PROBLEM_KINDS.badRequest, detail: 'url: is not a valid URL path' },
  FST_ERR_INVALID_URL: { kind: PROBLEM_KINDS.badRequest, detail: 'url: is not a valid URL path' },
  FST_ERR_MAX_PARAM_LENGTH: { kind: PROBLEM_KINDS.uriTooLong, detail: 'url: a path parameter is too long' },
  FST_ERR_ROUTE_MISSING_CONTENT_TYPE: { kind: PROBLEM_KINDS.unsupportedMediaType, detail: 'content-type: is required' },
  FST_ERR_ROUTE_MISSING_CONTENT: { kind: PROBLEM_KINDS.badRequest, detail: 'body: is required' },
};

/** Kinds for client errors that carry only a status. */
const KIND_BY_STATUS: ReadonlyMap<number, ProblemKind> = new Map(
  [
    PROBLEM_KINDS.badRequest,
    PROBLEM_KINDS.notFound,
    PROBLEM_KINDS.methodNotAllowed,
    PROBLEM_KINDS.requestTimeout,
    PROBLEM_KINDS.conflict,
    PROBLEM_KINDS.payloadTooLarge,
    PROBLEM_KINDS.uriTooLong,
    PROBLEM_KINDS.unsupportedMediaType,
    PROBLEM_KINDS.rateLimited,
    PROBLEM_KINDS.headersTooLarge,
  ].map((k) => [k.status, k]),
);

/** The families every server recognises, checked after the server's own `errorFamilies`. */
export const BUILT_IN_ERROR_FAMILIES: readonly ErrorFamily[] = Object.freeze([protocolErrorFamily]);

/** Options for errors the caller knows more about than the error does. */
export interface ProblemContext {
  /** The configured body limit, so that a 413 can say it. */
  bodyLimit?: number;
  /** Error families to check, in order. Default {@link BUILT_IN_ERROR_FAMILIES}. */
  families?: readonly ErrorFamily[];
}

/**
 * The problem to answer `error` with. `internal` says whether the error is the server's
 * fault (log it with its stack; the client sees only {@link INTERNAL_ERROR_DETAIL}).
 */
export function problemFromError(error: unknown, context: ProblemContext = {}): { problem: ProblemError; internal: boolean } {
  // A ProblemError is a deliberate answer, even a 5xx one (e.g. 503 while the bus is down).
  if (error instanceof ProblemError) return { problem: error, internal: false };

  const fromFamily = problemFromFamilies(error, context.families ?? BUILT_IN_ERROR_FAMILIES);
  if (fromFamily instanceof ProblemError) return { problem: fromFamily, internal: false };
  if (fromFamily instanceof ErrorFamilyError) return { problem: internalProblem(fromFamily), internal: true };

  const err = (typeof error === 'object' && error !== null ? error : {}) as FastifyLikeError;
  const code = typeof err.code === 'string' ? err.code : undefined;

  if (Array.isArray(err.validation)) {
    return { problem: validationProblem(err.validation as AjvLikeError[], err.validationContext), internal: false };
  }
  if (code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    const limit = context.bodyLimit === undefined ? '' : ` of ${context.bodyLimit} bytes`;
    return { problem: fromKind(PROBLEM_KINDS.payloadTooLarge, `body: exceeds the limit${limit}`), internal: false };
  }
  const known = code === undefined ? undefined : FASTIFY_CODE_PROBLEMS[code];
  if (known !== undefined) return { problem: fromKind(known.kind, known.detail), internal: false };

  const status = typeof err.statusCode === 'number' ? err.statusCode : undefined;
  if (status !== undefined && Number.isInteger(status) && status >= 400 && status <= 499) {
    const kind = KIND_BY_STATUS.get(status) ?? { ...PROBLEM_KINDS.clientError, status };
    const message = typeof err.message === 'string' && err.message !== '' ? err.message : kind.title;
    return { problem: fromKind(kind, truncate(message, MAX_DETAIL_LENGTH)), internal: false };
  }

  return { problem: internalProblem(error), internal: true };
}

/** A 500 that says nothing; `cause` is what the server logs. */
function internalProblem(cause: unknown): ProblemError {
  return new ProblemError({ ...PROBLEM_KINDS.internalError, detail: INTERNAL_ERROR_DETAIL, cause });
}

function fromKind(kind: ProblemKind, detail: string): ProblemError {
  return new ProblemError({ slug: kind.slug, status: kind.status, title: kind.title, detail });
}

/** A 400 whose detail names the first failing field; `errors` lists every one Ajv reported. */
function validationProblem(validation: readonly AjvLikeError[], validationContext: unknown): ProblemError {
  const part = typeof validationContext === 'string' && validationContext !== '' ? validationContext : 'request';
  const errors: FieldError[] = validation.map((v) => fieldError(part, v));
  const first = errors[0] ?? { path: part, reason: 'is invalid' };
  return new ProblemError({
    ...PROBLEM_KINDS.validationFailed,
    detail: `${first.path}: ${first.reason}`,
    errors,
  });
}

/** One Ajv error as `{ path, reason }`, the path in JavaScript notation from the request part. */
export function fieldError(part: string, error: AjvLikeError): FieldError {
  const pointer = typeof error.instancePath === 'string' ? error.instancePath : '';
  const params = (typeof error.params === 'object' && error.params !== null ? error.params : {}) as Record<string, unknown>;
  let path = part + pointerToPath(pointer);
  let reason = typeof error.message === 'string' ? error.message : 'is invalid';
  // Ajv reports a missing or unexpected member on the parent object; name the member itself.
  if (error.keyword === 'required' && typeof params['missingProperty'] === 'string') {
    path += propertyAccess(params['missingProperty']);
    reason = 'is required';
  } else if (error.keyword === 'additionalProperties' && typeof params['additionalProperty'] === 'string') {
    path += propertyAccess(params['additionalProperty']);
    reason = 'is not allowed';
  }
  return { path, reason };
}

/**
 * `/chunks/3/cid` → `.chunks[3].cid` (RFC 6901 pointer to a readable path).
 *
 * Written in the same notation as @dmf/protocol's JSON paths (`$.chunks[3]`,
 * `["odd name"]`), so validation problems and protocol problems read alike; a test
 * holds the two to it. Not shared with the protocol package: Ajv reports no value with
 * its pointer (an all-digit token is taken as an index), the path starts at the
 * request part, and member names the client chose are shortened before they are echoed.
 */
export function pointerToPath(pointer: string): string {
  if (pointer === '') return '';
  return pointer
    .slice(1)
    .split('/')
    .map((token) => token.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((key) => (/^(0|[1-9][0-9]*)$/.test(key) ? `[${key}]` : propertyAccess(key)))
    .join('');
}

/** `.name` for identifier-like names (the protocol's rule), `["odd name"]` otherwise. */
function propertyAccess(key: string): string {
  const shown = truncate(key, MAX_KEY_LENGTH);
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(shown) ? `.${shown}` : `[${JSON.stringify(shown)}]`;
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
