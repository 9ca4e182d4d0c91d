import fp from 'fastify-plugin';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { PROBLEM_KINDS, ProblemError } from './problem.ts';

/**
 * Raw JSON bodies for routes that verify signed documents. `JSON.parse` forgets what
 * the signature check must see (a duplicate key, invalid UTF-8, the exact text), so a
 * route marked `config: { rawBody: true }` receives an `application/json` body as the
 * Buffer of bytes that arrived, unparsed and unvalidated, to hand to `verifyBytes`:
 *
 *   app.post('/manifests', { config: { rawBody: true } }, async (request) => {
 *     const record = verifyBytes(rawBodyOf(request));   // a ProtocolError becomes a 4xx
 *     ...
 *   });
 *
 * Everything else about the body holds as for other routes: JSON media type only
 * (other types get 415), the body limit (413), an empty body is refused (400). Such a
 * route declares no `body` schema (it would be checked against the Buffer): the
 * document's own verification is its validation.
 */

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * Keep an `application/json` request body as the exact bytes received (a Buffer;
     * read it with `rawBodyOf(request)`) instead of parsing it. Default `false`.
     */
    rawBody?: boolean;
  }
}

const JSON_MEDIA_TYPE = 'application/json';

/**
 * Replaces Fastify's JSON parser with one that reads every JSON body as bytes, then
 * parses it with Fastify's own parser (prototype poisoning refused) unless the route
 * wants the bytes. Parsing a Buffer decoded as UTF-8 is what Fastify's string mode does.
 */
export const jsonBodies = fp(
  async function jsonBodies(app: FastifyInstance): Promise<void> {
    const parseJson = app.getDefaultJsonParser('error', 'error');
    app.removeContentTypeParser(JSON_MEDIA_TYPE);
    app.addContentTypeParser(JSON_MEDIA_TYPE, { parseAs: 'buffer' }, (request, body, done) => {
      const bytes = body as Buffer;
      if (wantsRawBody(request) && bytes.length > 0) {
        done(null, bytes);
        return;
      }
      parseJson(request, bytes.toString('utf8'), done);
    });
    app.addHook('onRoute', (route) => {
      if (route.config?.rawBody === true && route.schema?.body !== undefined) {
        throw new TypeError(
          `route ${route.method.toString()} ${route.url}: config.rawBody and schema.body exclude each other ` +
            '(the body reaches the handler as bytes; verify it there)',
        );
      }
    });
  },
  { name: 'dmf-json-bodies', fastify: '5.x' },
);

function wantsRawBody(request: FastifyRequest): boolean {
  return request.routeOptions.config?.rawBody === true;
}

/**
 * The exact bytes of the request body, on a route with `config: { rawBody: true }`.
 * A request that carries no body gets a 400 problem (`body: is required`). Calling it on
 * a route without the flag is a programming error (TypeError, a 500).
 */
export function rawBodyOf(request: FastifyRequest): Buffer {
  if (!wantsRawBody(request)) {
    throw new TypeError(`rawBodyOf: route ${request.routeOptions.url ?? '(unmatched)'} has no config.rawBody: true`);
  }
  const body: unknown = request.body;
  if (Buffer.isBuffer(body)) return body;
  throw new ProblemError({ ...PROBLEM_KINDS.badRequest, detail: 'body: is required (an application/json document)' });
}
