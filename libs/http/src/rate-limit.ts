import rateLimit from '@fastify/rate-limit';
import type { RateLimitPluginOptions } from '@fastify/rate-limit';
import type { FastifyRequest } from 'fastify';
import { createBucketHasher, DEFAULT_SALT_ROTATION_MS } from './bucket-hasher.ts';
import { PROBLEM_KINDS, ProblemError } from './problem.ts';

/**
 * Rate limits keyed on the client's subnet bucket (IPv4 /24, IPv6 /48), hashed with a
 * rotating in-memory salt (./bucket-hasher.ts), counted in @fastify/rate-limit's
 * in-memory store. Nothing about the client is stored, logged or sent: normal
 * responses carry no `X-RateLimit-*` headers (they would differ per client); a 429
 * carries `Retry-After` and a problem body.
 */

export interface RateLimitOptions {
  /**
   * Requests one subnet bucket may make per window, on every route without a limit of
   * its own. Default 1200 (per 10 s: 120 requests a second, so one address running a
   * script gets its 100 reads a second, while 7,200+ a minute are throttled).
   */
  max?: number;
  /** Window length in milliseconds. Default 10,000. */
  timeWindowMs?: number;
  /** How long one hashing salt lives, in milliseconds. Default 3,600,000 (one hour). */
  saltRotationMs?: number;
  /** Buckets remembered per limit (least recently used are forgotten first). Default 10,000. */
  cacheSize?: number;
}

export const DEFAULT_RATE_LIMIT = Object.freeze({
  max: 1200,
  timeWindowMs: 10_000,
  saltRotationMs: DEFAULT_SALT_ROTATION_MS,
  cacheSize: 10_000,
});

/** A route's own limit, for `config` in its route options. */
export interface RouteRateLimit {
  /** Requests per bucket per window on this route. */
  max: number;
  /** Window length in milliseconds. */
  timeWindowMs: number;
}

/**
 * Route `config` giving the route its own limit (counted separately from the global
 * one, on the same subnet buckets): `app.post('/x', { config: routeRateLimit({ max: 60,
 * timeWindowMs: 60_000 }) }, handler)`. `false` exempts the route.
 */
export function routeRateLimit(limit: RouteRateLimit | false): { rateLimit: { max: number; timeWindow: number } | false } {
  if (limit === false) return { rateLimit: false };
  requirePositiveInteger('max', limit.max, true);
  requirePositiveInteger('timeWindowMs', limit.timeWindowMs);
  return { rateLimit: { max: limit.max, timeWindow: limit.timeWindowMs } };
}

/** Options for @fastify/rate-limit: subnet-bucket keys, no informational headers, problem 429s. */
export function rateLimitPluginOptions(options: RateLimitOptions = {}): RateLimitPluginOptions {
  const settings = { ...DEFAULT_RATE_LIMIT, ...definedOnly(options) };
  requirePositiveInteger('rateLimit.max', settings.max, true);
  requirePositiveInteger('rateLimit.timeWindowMs', settings.timeWindowMs);
  requirePositiveInteger('rateLimit.cacheSize', settings.cacheSize);
  const hasher = createBucketHasher({ saltRotationMs: settings.saltRotationMs });
  return {
    global: true,
    max: settings.max,
    timeWindow: settings.timeWindowMs,
    cache: settings.cacheSize,
    keyGenerator: (request: FastifyRequest) => hasher.keyFor(request.ip),
    addHeaders: {
      'x-ratelimit-limit': false,
      'x-ratelimit-remaining': false,
      'x-ratelimit-reset': false,
      'retry-after': true,
    },
    addHeadersOnExceeding: {
      'x-ratelimit-limit': false,
      'x-ratelimit-remaining': false,
      'x-ratelimit-reset': false,
    },
    errorResponseBuilder: (_request, context) => {
      const seconds = Math.max(1, Math.ceil(context.ttl / 1000));
      return new ProblemError({
        ...PROBLEM_KINDS.rateLimited,
        detail: `rate limit: at most ${String(context.max)} requests per window from one network; retry after ${seconds} s`,
        headers: { 'retry-after': String(seconds) },
      });
    },
  };
}

export { rateLimit as rateLimitPlugin };

function definedOnly(options: RateLimitOptions): RateLimitOptions {
  return Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as RateLimitOptions;
}

function requirePositiveInteger(field: string, value: unknown, allowZero = false): void {
  const ok = typeof value === 'number' && Number.isSafeInteger(value) && (allowZero ? value >= 0 : value > 0);
  if (!ok) throw new RangeError(`${field}: must be a ${allowZero ? 'non-negative' : 'positive'} integer, got ${String(value)}`);
}
