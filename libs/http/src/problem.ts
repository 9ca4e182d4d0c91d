import { Type } from '@sinclair/typebox';
import type { Static } from '@sinclair/typebox';

/**
 * RFC 9457 problem details: the one error shape of every DMF HTTP response.
 * Adapters throw {@link ProblemError}; the server's error handler turns it (and every
 * framework error) into an `application/problem+json` body (see ./error-mapping.ts).
 */

/** Media type of every error response. */
export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** Every problem `type` is this prefix plus a slug. The URI is an identifier, not a fetchable page. */
export const PROBLEM_TYPE_BASE = 'https://dmf.cwe/problems/';

/** The problem type URI of a slug: `problemType('not-found')` → `https://dmf.cwe/problems/not-found`. */
export function problemType(slug: string): string {
  return `${PROBLEM_TYPE_BASE}${slug}`;
}

/** One failing field of a request: `path` like `body.chunks[3]`, `reason` like `must match pattern "^b"`. */
export const FieldErrorSchema = Type.Object(
  {
    path: Type.String(),
    reason: Type.String(),
  },
  { additionalProperties: false },
);
export type FieldError = Static<typeof FieldErrorSchema>;

/** The body of every error response. */
export const ProblemSchema = Type.Object(
  {
    type: Type.String({ format: 'uri', description: 'Stable identifier of the problem kind' }),
    title: Type.String({ description: 'Short summary of the problem kind; the same for every occurrence' }),
    status: Type.Integer({ minimum: 400, maximum: 599 }),
    detail: Type.String({ description: 'What went wrong in this request, naming the failing field' }),
    errors: Type.Optional(Type.Array(FieldErrorSchema, { description: 'The failing field(s), for validation problems' })),
  },
  { $id: 'DmfProblem', title: 'Problem', description: 'RFC 9457 problem details' },
);
export type ProblemDocument = Static<typeof ProblemSchema>;

/** A problem kind: its slug, HTTP status and title. */
export interface ProblemKind {
  readonly slug: string;
  readonly status: number;
  readonly title: string;
}

/**
 * The problem kinds the base itself produces. Adapters add their own kinds (with their
 * own slugs) and may reuse these, e.g. `new ProblemError({ ...PROBLEM_KINDS.notFound, detail })`.
 */
export const PROBLEM_KINDS = Object.freeze({
  validationFailed: kind('validation-failed', 400, 'Request validation failed'),
  malformedJson: kind('malformed-json', 400, 'Malformed JSON body'),
  badRequest: kind('bad-request', 400, 'Bad request'),
  notFound: kind('not-found', 404, 'Not found'),
  methodNotAllowed: kind('method-not-allowed', 405, 'Method not allowed'),
  requestTimeout: kind('request-timeout', 408, 'Request timeout'),
  conflict: kind('conflict', 409, 'Conflict'),
  payloadTooLarge: kind('payload-too-large', 413, 'Payload too large'),
  uriTooLong: kind('uri-too-long', 414, 'URI too long'),
  unsupportedMediaType: kind('unsupported-media-type', 415, 'Unsupported media type'),
  rateLimited: kind('rate-limited', 429, 'Too many requests'),
  headersTooLarge: kind('headers-too-large', 431, 'Request header fields too large'),
  clientError: kind('client-error', 400, 'Client error'),
  internalError: kind('internal-error', 500, 'Internal server error'),
  serviceUnavailable: kind('service-unavailable', 503, 'Service unavailable'),
});

function kind(slug: string, status: number, title: string): ProblemKind {
  return Object.freeze({ slug, status, title });
}

/**
 * Lowercase words joined by single `-`, `_` or `.`: the base's own slugs are kebab-case
 * (`validation-failed`); mapped error families keep their stable codes verbatim
 * (`json.duplicate_key`), so that `type` names exactly the rule the code names.
 */
const SLUG = /^[a-z0-9]+(?:[-_.][a-z0-9]+)*$/;

export interface ProblemErrorOptions {
  /** HTTP status, 400–599. */
  status: number;
  /**
   * Stable name of the problem kind; the `type` URI is built from it. Kebab-case for
   * kinds of their own (`manifest-conflict`); an error family's code verbatim
   * (`signature.invalid`). Lowercase letters and digits, single `-`, `_` or `.` between.
   */
  slug: string;
  /** Short summary of the kind, the same for every occurrence. */
  title: string;
  /** This occurrence: name the failing field and the reason. Sent to the client verbatim. */
  detail: string;
  /** Failing fields, when there are several. */
  errors?: readonly FieldError[];
  /** Extra response headers, e.g. `Retry-After` or `Allow`. */
  headers?: Readonly<Record<string, string>>;
  /** The underlying error (logged for 5xx, never sent). */
  cause?: unknown;
}

/**
 * The error adapters throw to answer with a problem. Its `status`, `type`, `title`,
 * `detail` and `errors` are sent as they are; `cause` stays on the server.
 */
export class ProblemError extends Error {
  /** The slug, stable across releases. */
  readonly code: string;
  readonly status: number;
  readonly type: string;
  readonly title: string;
  readonly detail: string;
  readonly errors: readonly FieldError[] | undefined;
  readonly headers: Readonly<Record<string, string>>;

  constructor(options: ProblemErrorOptions) {
    if (!Number.isInteger(options.status) || options.status < 400 || options.status > 599) {
      throw new RangeError(`status: must be an integer from 400 to 599, got ${String(options.status)}`);
    }
    if (!SLUG.test(options.slug)) {
      throw new RangeError(
        `slug: must be lowercase words (a-z, 0-9) joined by single '-', '_' or '.', got ${JSON.stringify(options.slug)}`,
      );
    }
    super(`${options.slug}: ${options.detail}`, { cause: options.cause });
    this.name = 'ProblemError';
    this.code = options.slug;
    this.status = options.status;
    this.type = problemType(options.slug);
    this.title = options.title;
    this.detail = options.detail;
    this.errors = options.errors === undefined ? undefined : options.errors.map((e) => ({ ...e }));
    this.headers = { ...options.headers };
  }

  /** The response body. */
  toProblem(): ProblemDocument {
    const body: ProblemDocument = { type: this.type, title: this.title, status: this.status, detail: this.detail };
    if (this.errors !== undefined) body.errors = this.errors.map((e) => ({ ...e }));
    return body;
  }
}
