import { pino } from 'pino';
import type { Logger, LoggerOptions } from 'pino';

/**
 * Logs say what the service did, never who asked (spec 2.2, 10). Fastify's own request
 * logging (which records the client address, port, host and raw URL) is switched off
 * and replaced by one line per request: method, route pattern, status, duration. The
 * serializers below are allowlists, so a `req`, `res` or `err` logged anywhere in a
 * handler cannot carry more than these fields either.
 */

/** A pino logger, or options for the one the server creates. */
export type HttpLoggerOption = Logger | LoggerOptions;

interface RequestLike {
  method?: unknown;
  routeOptions?: { url?: unknown };
}

interface ErrorLike {
  name?: unknown;
  message?: unknown;
  code?: unknown;
  statusCode?: unknown;
  stack?: unknown;
  cause?: unknown;
}

/** Route text logged for requests that matched no route (the raw URL is never logged). */
export const UNMATCHED_ROUTE = '(unmatched)';

/** The route pattern (`/manifests/:id`) a request matched, or {@link UNMATCHED_ROUTE}. */
export function routePattern(request: RequestLike): string {
  const url = request.routeOptions?.url;
  return typeof url === 'string' && url !== '' ? url : UNMATCHED_ROUTE;
}

const MAX_CAUSE_DEPTH = 3;

function serializeError(error: unknown, depth = 0): Record<string, unknown> {
  if (typeof error !== 'object' || error === null) return { message: String(error) };
  const err = error as ErrorLike;
  const out: Record<string, unknown> = {};
  if (typeof err.name === 'string') out['type'] = err.name;
  if (typeof err.message === 'string') out['message'] = err.message;
  if (typeof err.code === 'string' || typeof err.code === 'number') out['code'] = err.code;
  if (typeof err.statusCode === 'number') out['statusCode'] = err.statusCode;
  if (typeof err.stack === 'string') out['stack'] = err.stack;
  if (err.cause !== undefined && depth < MAX_CAUSE_DEPTH) out['cause'] = serializeError(err.cause, depth + 1);
  return out;
}

/** Allowlist serializers: nothing about the client survives them. */
export const privacySerializers = Object.freeze({
  req: (request: RequestLike) => ({
    method: typeof request.method === 'string' ? request.method : undefined,
    route: routePattern(request),
  }),
  res: (reply: { statusCode?: unknown }) => ({ statusCode: reply.statusCode }),
  err: (error: unknown) => serializeError(error),
});

function isLogger(option: HttpLoggerOption): option is Logger {
  const candidate = option as Partial<Logger>;
  return typeof candidate.child === 'function' && typeof candidate.info === 'function';
}

/**
 * The server's logger: a child `{ sub: 'http' }` of the given pino logger, or of a new
 * pino logger (level `info`, stdout) built from the given options.
 */
export function createHttpLogger(option: HttpLoggerOption = {}): Logger {
  const base = isLogger(option) ? option : pino({ level: 'info', ...option });
  return base.child({ sub: 'http' }, { serializers: { ...privacySerializers } });
}
