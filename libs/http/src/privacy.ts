import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import type { IncomingMessage } from 'node:http';

/**
 * No cookies are read or set (spec 2.2, 6.2). Registered first, so that the request
 * every later hook, plugin and handler sees has no cookie at all: a request with
 * cookies is served exactly as the same request without them. On the way out, any
 * `Set-Cookie` a handler or plugin added is dropped.
 *
 * Limit: a handler that hijacks the reply and writes to the socket itself is beyond
 * any hook; the base never does that, and adapters must not.
 */
export const privacyHooks = fp(
  async function privacyHooks(app: FastifyInstance): Promise<void> {
    app.addHook('onRequest', (request, _reply, done) => {
      stripCookies(request.raw);
      done();
    });
    app.addHook('onSend', (_request, reply, payload, done) => {
      reply.removeHeader('set-cookie');
      // A header set on the raw response bypasses Fastify's header map.
      reply.raw.removeHeader('set-cookie');
      done(null, payload);
    });
  },
  { name: 'dmf-privacy', fastify: '5.x' },
);

/** Removes every `Cookie` header from a request: parsed, distinct and raw views alike. */
export function stripCookies(raw: IncomingMessage): void {
  // Node builds `headers` and `headersDistinct` lazily from `rawHeaders` and a header
  // count kept apart from it; both views are built (and cached) here, before the raw
  // list is shortened, so that later reads never rebuild them from a list that no
  // longer matches the count.
  delete raw.headers.cookie;
  const rawHeaders = raw.rawHeaders;
  let hasCookie = false;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (rawHeaders[i]?.toLowerCase() === 'cookie') hasCookie = true;
  }
  if (!hasCookie) return;
  delete raw.headersDistinct.cookie;
  const kept: string[] = [];
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] ?? '';
    if (name.toLowerCase() !== 'cookie') kept.push(name, rawHeaders[i + 1] ?? '');
  }
  raw.rawHeaders = kept;
}
