import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import fp from 'fastify-plugin';
import type { FastifyInstance, FastifyReply, FastifyRequest, HTTPMethods } from 'fastify';
import type { ErrorFamily } from './error-families.ts';
import { problemFromError } from './error-mapping.ts';
import { routePattern } from './logging.ts';
import { PROBLEM_CONTENT_TYPE, PROBLEM_KINDS, ProblemError } from './problem.ts';

/**
 * Every error response is a problem (RFC 9457): thrown errors, unknown routes, known
 * routes asked with the wrong method, errors Fastify raises before routing, and HTTP
 * parse errors on the socket. ./error-mapping.ts decides which problem; this module
 * sends it.
 */

/** Sends `problem` as `application/problem+json` with its status and headers. */
export function sendProblem(reply: FastifyReply, problem: ProblemError): FastifyReply {
  return reply
    .code(problem.status)
    .headers({ ...problem.headers })
    .type(PROBLEM_CONTENT_TYPE)
    .send(JSON.stringify(problem.toProblem()));
}

/** Methods a 405 may list in `Allow`. */
const METHODS: readonly HTTPMethods[] = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];
const MAX_PATH_IN_DETAIL = 200;

export interface ErrorHandlingOptions {
  /** The server's body limit in bytes, named in 413 details. */
  bodyLimit: number;
  /** Error families to map, in order (the server's own, then the built-in ones). */
  errorFamilies: readonly ErrorFamily[];
}

export const errorHandling = fp(
  async function errorHandling(app: FastifyInstance, options: ErrorHandlingOptions): Promise<void> {
    app.setErrorHandler((error, request, reply) => {
      const { problem, internal } = problemFromError(error, { bodyLimit: options.bodyLimit, families: options.errorFamilies });
      if (internal) {
        // The one place an unexpected error is recorded: with its stack, on the server only.
        // (The cause is the error itself, or the failure of the family that tried to map it.)
        request.log.error({ err: problem.cause ?? error, route: routePattern(request) }, 'request failed');
      } else if (problem.status >= 500) {
        request.log.warn({ err: problem, route: routePattern(request) }, 'request answered with a server problem');
      }
      return sendProblem(reply, problem);
    });

    // Unknown paths count against the rate limit like any route, so scanning is throttled too.
    // (Fastify runs no onRequest hooks given here, so the limit applies in preHandler.)
    const preHandler = typeof app.rateLimit === 'function' ? [app.rateLimit()] : [];
    app.setNotFoundHandler({ preHandler }, (request, reply) => {
      const path = pathOf(request);
      const allowed = METHODS.filter((method) => method !== request.method && app.findRoute({ method, url: path }) !== null);
      if (allowed.length > 0) {
        return sendProblem(
          reply,
          new ProblemError({
            ...PROBLEM_KINDS.methodNotAllowed,
            detail: `method: ${request.method} is not allowed here; allowed: ${allowed.join(', ')}`,
            headers: { allow: allowed.join(', ') },
          }),
        );
      }
      return sendProblem(
        reply,
        new ProblemError({ ...PROBLEM_KINDS.notFound, detail: `url: no route for ${request.method} ${shorten(path)}` }),
      );
    });
  },
  { name: 'dmf-error-handling', fastify: '5.x' },
);

/** Fastify's `frameworkErrors` option: errors raised before a route is found (bad URL encoding, over-long parameter). */
export function frameworkErrorHandler(error: Error, _request: FastifyRequest, reply: FastifyReply): void {
  sendProblem(reply, problemFromError(error).problem);
}

/**
 * Fastify's `clientErrorHandler` option: the HTTP parser rejected the request (malformed
 * request line, oversized headers, timeout). There is no request object, only the
 * socket; the answer is written raw, still as a problem. Nothing is logged: the error
 * carries the raw bytes of the request.
 */
export function clientErrorHandler(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const kind =
    error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? PROBLEM_KINDS.requestTimeout
      : error.code === 'HPE_HEADER_OVERFLOW'
        ? PROBLEM_KINDS.headersTooLarge
        : PROBLEM_KINDS.badRequest;
  const detail =
    kind === PROBLEM_KINDS.requestTimeout
      ? 'request: was not received in time'
      : kind === PROBLEM_KINDS.headersTooLarge
        ? 'headers: exceed the maximum size'
        : 'request: is not valid HTTP/1.1';
  const body = JSON.stringify(new ProblemError({ ...kind, detail }).toProblem());
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${kind.status} ${STATUS_CODES[kind.status] ?? ''}\r\n` +
        `Content-Type: ${PROBLEM_CONTENT_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}

function pathOf(request: FastifyRequest): string {
  const url = request.raw.url ?? '/';
  const queryAt = url.indexOf('?');
  return queryAt === -1 ? url : url.slice(0, queryAt);
}

function shorten(text: string): string {
  return text.length <= MAX_PATH_IN_DETAIL ? text : `${text.slice(0, MAX_PATH_IN_DETAIL - 1)}…`;
}
