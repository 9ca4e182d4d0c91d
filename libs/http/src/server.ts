import type { Server as HttpsServer } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import Fastify, { LogController } from 'fastify';
import { AjvCompiler } from '@fastify/ajv-compiler';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { clientErrorHandler, errorHandling, frameworkErrorHandler } from './error-handling.ts';
import { defineErrorFamily } from './error-families.ts';
import type { ErrorFamily } from './error-families.ts';
import { BUILT_IN_ERROR_FAMILIES } from './error-mapping.ts';
import { createHttpLogger, routePattern } from './logging.ts';
import type { HttpLoggerOption } from './logging.ts';
import { DEFAULT_OPENAPI_INFO, OPENAPI_PATH, openApi } from './openapi.ts';
import type { OpenApiInfo } from './openapi.ts';
import { privacyHooks } from './privacy.ts';
import { PROBLEM_KINDS, ProblemError } from './problem.ts';
import { rateLimitPlugin, rateLimitPluginOptions } from './rate-limit.ts';
import { jsonBodies } from './raw-body.ts';
import type { RateLimitOptions } from './rate-limit.ts';
import type { TlsMaterial } from './tls.ts';

/** A DMF HTTP server: Fastify over HTTPS, typed with the TypeBox type provider. */
export type DmfHttpServer = FastifyInstance<
  HttpsServer,
  IncomingMessage,
  ServerResponse,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;

export interface HttpServerOptions {
  /**
   * Private key and certificate (PEM; `cert` may hold the chain, leaf first). Required:
   * every DMF adapter serves HTTPS, TLS 1.3 only (spec 6.1). Tests and `dmf up` make
   * them with ./tls.ts.
   */
  tls: TlsMaterial;
  /** OpenAPI `info` of the document at `/openapi.json`. Default `{ title: 'DMF node', version: '0.0.0' }`. */
  info?: OpenApiInfo;
  /** Rate limit per subnet bucket for routes without their own. Defaults: see {@link RateLimitOptions}. */
  rateLimit?: RateLimitOptions;
  /**
   * Largest request body accepted, in bytes; larger bodies get a 413 problem. Default
   * 589,824 (576 KiB, {@link DEFAULT_BODY_LIMIT}): every document the protocol accepts fits.
   */
  bodyLimit?: number;
  /**
   * Error families (stable-code errors of a library) to answer with the problems they
   * map to, checked in order before the built-in ones: see ./error-families.ts. Default
   * none; DMF protocol errors are always recognised (./protocol-problems.ts).
   */
  errorFamilies?: readonly ErrorFamily[];
  /**
   * Whether to take the client address (used only to pick the rate-limit bucket) from
   * `X-Forwarded-For`. Default `false`: the socket's peer address. Set it only behind a
   * reverse proxy that overwrites the header, to the proxy's address(es) or CIDR
   * ranges (Fastify's `trustProxy` forms); `true` trusts any sender, which lets a
   * client pick its own bucket.
   */
  trustProxy?: boolean | string | string[];
  /**
   * A pino logger (the server logs through its child `{ sub: 'http' }`) or pino options.
   * Default: a new pino logger at level `info` on stdout. Either way the server's
   * serializers drop client addresses, user agents, raw URLs and query strings.
   */
  logger?: HttpLoggerOption;
  /**
   * What `/healthz` checks besides the adapter itself, by name (e.g. `nats`, `redis`):
   * each resolves when its dependency answers and throws otherwise. While one fails
   * (or takes over a second), `/healthz` answers 503 and names it. Default none.
   */
  healthChecks?: Readonly<Record<string, () => Promise<unknown>>>;
}

/** How long one health check may take before it counts as failed. */
const HEALTH_CHECK_TIMEOUT_MS = 1_000;

/** Runs the checks at once; each answers `ok` or why not. */
async function runHealthChecks(checks: Readonly<Record<string, () => Promise<unknown>>>): Promise<Record<string, string>> {
  const entries = await Promise.all(
    Object.entries(checks).map(async ([name, check]) => {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${HEALTH_CHECK_TIMEOUT_MS} ms`)), HEALTH_CHECK_TIMEOUT_MS);
      });
      try {
        await Promise.race([check(), timeout]);
        return [name, 'ok'] as const;
      } catch (error) {
        return [name, (error as Error).message.replace(/[\r\n]+/g, ' ').slice(0, 200) || 'failed'] as const;
      } finally {
        clearTimeout(timer);
      }
    }),
  );
  return Object.fromEntries(entries);
}

/**
 * Default body limit: 576 KiB. @dmf/protocol accepts documents up to its
 * `MAX_DOCUMENT_BYTES` (512 KiB, a content manifest of 4,096 chunks with room to
 * spare); a route posting one must never answer 413 to a document the protocol accepts,
 * so the limit is that plus 64 KiB for a request that wraps the document. (libs/http does
 * not import the protocol package; a test holds this at or above its limit.) Bodies
 * between the two reach `verifyBytes`, which refuses them as `json.too_large` (413).
 */
export const DEFAULT_BODY_LIMIT = 576 * 1024;

/** The health route: tiny, for load balancers and `dmf up`. */
export const HEALTH_PATH = '/healthz';

/**
 * A Fastify instance with everything DMF adapters share: TLS 1.3, problem responses for
 * every error, no cookies, subnet-bucket rate limits, privacy-preserving logs, and the
 * OpenAPI document at `/openapi.json`. Register routes on it, then `listen()`; `close()`
 * stops it (Fastify's close, safe to call twice).
 *
 * Async because the rate-limit and OpenAPI plugins must be loaded before any route is
 * added (both collect routes as they are registered).
 */
export async function createHttpServer(options: HttpServerOptions): Promise<DmfHttpServer> {
  const tls = requireTls(options.tls);
  const bodyLimit = options.bodyLimit ?? DEFAULT_BODY_LIMIT;
  if (!Number.isSafeInteger(bodyLimit) || bodyLimit <= 0) {
    throw new RangeError(`bodyLimit: must be a positive integer, got ${String(bodyLimit)}`);
  }
  const errorFamilies = [...(options.errorFamilies ?? []).map((family) => defineErrorFamily(family)), ...BUILT_IN_ERROR_FAMILIES];
  const info: OpenApiInfo = { ...DEFAULT_OPENAPI_INFO, ...options.info };
  const rateLimitOptions = rateLimitPluginOptions(options.rateLimit);
  const logger = createHttpLogger(options.logger);

  const app = Fastify({
    https: {
      key: tls.key,
      cert: tls.cert,
      // Spec 6.1: TLS 1.3 only; all its cipher suites are AEAD with ephemeral key exchange.
      minVersion: 'TLSv1.3',
      maxVersion: 'TLSv1.3',
    },
    loggerInstance: logger,
    // Fastify's request log lines carry the client address and raw URL; ours (below) do not.
    logController: new LogController({ disableRequestLogging: true }),
    // No per-request id in log lines.
    childLoggerFactory: (parent, _bindings, childOptions) =>
      Object.keys(childOptions).length === 0 ? parent : parent.child({}, childOptions),
    bodyLimit,
    trustProxy: options.trustProxy ?? false,
    // A client may not name the request id either (Fastify 5's default, stated here on purpose).
    requestIdHeader: false,
    ajv: {
      // Unknown members are refused, not silently dropped: a signed document must
      // reach the adapter exactly as it was signed (PROTOCOL.md 2).
      customOptions: { removeAdditional: false },
    },
    // Query strings and path parameters are text, so `?limit=20` is coerced to the
    // integer its schema asks for; a JSON body is not: `"size": "5000"` is a client's
    // mistake, answered with a problem naming the member, not taken as 5000.
    schemaController: {
      compilersFactory: {
        buildValidator: (externalSchemas, ajvOptions) => {
          const options = ajvOptions as { customOptions?: Record<string, unknown>; plugins?: unknown[] };
          const coercing = AjvCompiler()(externalSchemas, options as never);
          const strict = AjvCompiler()(externalSchemas, { ...options, customOptions: { ...options.customOptions, coerceTypes: false } } as never);
          return (route: { httpPart?: string }) => (route.httpPart === 'body' ? strict : coercing)(route as never);
        },
      },
    },
    // Response schemas are for documentation and fast serialisation, not validation: the
    // serializer's Ajv must not warn about the protocol's own formats (`dmf-did-key`...),
    // which only the protocol package knows how to check.
    serializerOpts: { ajv: { validateFormats: false } },
    frameworkErrors: frameworkErrorHandler,
    clientErrorHandler,
    // Requests that arrive while the server closes get a 503 problem from the hook
    // below instead of Fastify's own (non-problem) 503 body.
    return503OnClosing: false,
  }).withTypeProvider<TypeBoxTypeProvider>();

  // JSON only: without the text/plain parser, other media types get a 415 problem.
  app.removeContentTypeParser('text/plain');

  // Order matters: privacy hooks first, so no later hook sees a cookie; rate limiting
  // before the 404 handler and the routes, so they all count.
  await app.register(privacyHooks);
  // JSON bodies are read as bytes, parsed unless the route asks for them raw (config.rawBody).
  await app.register(jsonBodies);

  let closing = false;
  app.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  app.addHook('onRequest', (_request, reply, done) => {
    if (!closing) return done();
    reply.header('connection', 'close');
    done(new ProblemError({ ...PROBLEM_KINDS.serviceUnavailable, detail: 'server: is shutting down' }));
  });

  await app.register(rateLimitPlugin, rateLimitOptions);
  await app.register(errorHandling, { bodyLimit, errorFamilies });
  await app.register(openApi, { info });

  app.addHook('onResponse', (request, reply, done) => {
    request.log.info(
      {
        method: request.method,
        route: routePattern(request),
        status: reply.statusCode,
        durationMs: Math.round(reply.elapsedTime * 100) / 100,
      },
      'request',
    );
    done();
  });

  const healthChecks = options.healthChecks ?? {};
  const HealthAnswer = Type.Object({
    status: Type.Union([Type.Literal('ok'), Type.Literal('unavailable')]),
    checks: Type.Optional(Type.Record(Type.String(), Type.String(), { description: 'each dependency checked: "ok", or why not' })),
  });
  app.get(
    HEALTH_PATH,
    {
      schema: {
        description: 'Health: the adapter accepts requests and, where the node configured them, its dependencies (NATS, Redis) answer; 503 naming the one that does not.',
        response: { 200: HealthAnswer, 503: HealthAnswer },
      },
    },
    async (_request, reply) => {
      if (Object.keys(healthChecks).length === 0) return { status: 'ok' as const };
      const checks = await runHealthChecks(healthChecks);
      const ok = Object.values(checks).every((v) => v === 'ok');
      reply.code(ok ? 200 : 503);
      return { status: ok ? ('ok' as const) : ('unavailable' as const), checks };
    },
  );
  app.get(OPENAPI_PATH, { schema: { hide: true } }, async () => app.swagger());

  return app as unknown as DmfHttpServer;
}

function requireTls(tls: TlsMaterial | undefined): TlsMaterial {
  const isPem = (v: unknown): boolean =>
    (typeof v === 'string' || Buffer.isBuffer(v)) && String(v).includes('-----BEGIN');
  if (tls === undefined || tls === null || typeof tls !== 'object') {
    throw new TypeError('tls: is required ({ key, cert } in PEM); DMF adapters serve HTTPS only');
  }
  if (!isPem(tls.key)) throw new TypeError('tls.key: must be a PEM private key');
  if (!isPem(tls.cert)) throw new TypeError('tls.cert: must be a PEM certificate');
  return { key: tls.key, cert: tls.cert };
}
