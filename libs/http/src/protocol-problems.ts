import { defineErrorFamily } from './error-families.ts';
import type { ErrorFamily } from './error-families.ts';
import { ProblemError } from './problem.ts';
import type { ProblemKind } from './problem.ts';

/**
 * DMF protocol errors as problems. A route that verifies a client's document with
 * `@dmf/protocol` (`verifyBytes`, `verifyDocument`, `checkSeq`...) may let the
 * `ProtocolError` escape: the answer is a 4xx whose `type` names the broken rule.
 *
 * Recognised by shape (`name === 'ProtocolError'`, string `code` and `reason`, optional
 * string `path`), not by class: libs/http stays free of a dependency on the protocol
 * package, and two copies of that package (a bundled CLI, a test) still match.
 *
 * A ProtocolError that is the server's own fault (signing its own manifest failed)
 * must not escape a handler as is: it would be answered as the client's mistake.
 */

/** The shape of `@dmf/protocol`'s ProtocolError that the mapping relies on. */
export interface ProtocolErrorLike extends Error {
  readonly name: 'ProtocolError';
  /** Stable rule name, e.g. `signature.invalid`. */
  readonly code: string;
  /** JSON path of the offending member (`$.chunks[1]`); absent when the whole input is at fault. */
  readonly path?: string | undefined;
  /** The reason alone, without code and path. */
  readonly reason: string;
}

/** What a protocol code answers with: status and the title shared by every code of the group. */
export const PROTOCOL_PROBLEM_GROUPS = Object.freeze({
  /** The bytes are not a well-formed document of a known kind: JSON, envelope, kind, schema, DID, JWS shape. */
  malformed: group(400, 'Malformed document'),
  /** Larger than the protocol's document limit (`json.too_large`). */
  tooLarge: group(413, 'Document too large'),
  /** Well-formed, but a rule refuses it: signature, signer, freshness, cross-field rules of a kind. */
  refused: group(422, 'Document refused by a protocol rule'),
  /** Its `seq` is not above the one already held (`seq.rollback`): the state it targets has moved on. */
  stale: group(409, 'Document older than the current one'),
});

type ProtocolProblemGroup = (typeof PROTOCOL_PROBLEM_GROUPS)[keyof typeof PROTOCOL_PROBLEM_GROUPS];

/** Codes whose group differs from their prefix's. */
const GROUP_BY_CODE: ReadonlyMap<string, ProtocolProblemGroup> = new Map([
  ['json.too_large', PROTOCOL_PROBLEM_GROUPS.tooLarge],
  ['schema', PROTOCOL_PROBLEM_GROUPS.malformed],
  ['signature.malformed', PROTOCOL_PROBLEM_GROUPS.malformed],
  ['signature.bad_header', PROTOCOL_PROBLEM_GROUPS.malformed],
  ['seq.rollback', PROTOCOL_PROBLEM_GROUPS.stale],
]);

/** Prefixes (before the first dot) of codes about the form of the input. */
const MALFORMED_PREFIXES: ReadonlySet<string> = new Set(['json', 'document', 'kind', 'did']);

/** Codes as the protocol writes them; anything else is not a ProtocolError of ours. */
const CODE = /^[a-z0-9]+(?:[_.][a-z0-9]+)*$/;
const MAX_REASON_LENGTH = 500;
const MAX_PATH_LENGTH = 200;

/**
 * The group of a protocol code. Codes of the form of the input (`json.*` but
 * `json.too_large`, `document.*`, `kind.*`, `schema`, `did.*`, `signature.malformed`,
 * `signature.bad_header`) are 400; `json.too_large` 413; `seq.rollback` 409; every other
 * code, including ones added later, is a rule refusing a well-formed document: 422.
 */
export function protocolProblemGroup(code: string): ProtocolProblemGroup {
  const exact = GROUP_BY_CODE.get(code);
  if (exact !== undefined) return exact;
  const prefix = code.split('.', 1)[0] ?? '';
  return MALFORMED_PREFIXES.has(prefix) ? PROTOCOL_PROBLEM_GROUPS.malformed : PROTOCOL_PROBLEM_GROUPS.refused;
}

export function isProtocolError(error: unknown): error is ProtocolErrorLike {
  if (!(error instanceof Error) || error.name !== 'ProtocolError') return false;
  const candidate = error as Error & { code?: unknown; reason?: unknown; path?: unknown };
  return (
    typeof candidate.code === 'string' &&
    CODE.test(candidate.code) &&
    typeof candidate.reason === 'string' &&
    (candidate.path === undefined || typeof candidate.path === 'string')
  );
}

/**
 * The problem for a protocol error: `type` `https://dmf.cwe/problems/<code>` (the code
 * verbatim, e.g. `…/json.duplicate_key`), `detail` `<path>: <reason>` (`$` when the
 * whole document is at fault), `errors: [{ path, reason }]`.
 */
export function protocolProblem(error: ProtocolErrorLike): ProblemError {
  const { status, title } = protocolProblemGroup(error.code);
  const path = truncate(error.path ?? '$', MAX_PATH_LENGTH);
  const reason = truncate(error.reason, MAX_REASON_LENGTH);
  const kind: ProblemKind = { slug: error.code, status, title };
  return new ProblemError({ ...kind, detail: `${path}: ${reason}`, errors: [{ path, reason }], cause: error });
}

/** The built-in family for `@dmf/protocol`'s ProtocolError. */
export const protocolErrorFamily: ErrorFamily = defineErrorFamily({
  name: 'dmf-protocol',
  match: isProtocolError,
  toProblem: protocolProblem,
});

function group(status: number, title: string): { readonly status: number; readonly title: string } {
  return Object.freeze({ status, title });
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
