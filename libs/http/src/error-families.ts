import { ProblemError } from './problem.ts';

/**
 * Error families: errors a library throws with a stable `code` (one class per failure
 * family, STYLE.md), mapped to problem responses in one place. A family says which
 * errors are its own and which problem each one is; ./error-mapping.ts asks the
 * families before its generic rules, so a library's refusal of bad input becomes the
 * 4xx it is instead of a 500, and libs/http needs no dependency on the library.
 *
 * The server checks the families given in `createHttpServer({ errorFamilies })` first,
 * in order, then the built-in ones (DMF protocol errors, ./protocol-problems.ts).
 */
export interface ErrorFamily<E = unknown> {
  /** Short name, used in the message when the family's mapping itself fails. */
  readonly name: string;
  /** Whether `error` belongs to the family. Should not throw (if it does, the request gets a 500). */
  match(error: unknown): error is E;
  /** The problem to answer a member of the family with. Keep the error as its `cause`. */
  toProblem(error: E): ProblemError;
}

/** Thrown (as the logged cause of a 500) when a family's `match` or `toProblem` fails. */
export class ErrorFamilyError extends Error {
  readonly code = 'ERR_ERROR_FAMILY';

  constructor(family: string, reason: string, cause: unknown) {
    super(`error family ${JSON.stringify(family)}: ${reason}`, { cause });
    this.name = 'ErrorFamilyError';
  }
}

/**
 * Checks a family's shape and returns a frozen copy, typed for `errorFamilies`:
 * `defineErrorFamily({ name: 'storage', match: (e): e is StorageError => e instanceof StorageError, toProblem })`.
 */
export function defineErrorFamily<E>(family: ErrorFamily<E>): ErrorFamily {
  if (typeof family !== 'object' || family === null) throw new TypeError('errorFamily: must be an object');
  if (typeof family.name !== 'string' || family.name === '') throw new TypeError('errorFamily.name: must be a non-empty string');
  if (typeof family.match !== 'function') throw new TypeError(`errorFamily.match: must be a function (family ${family.name})`);
  if (typeof family.toProblem !== 'function') {
    throw new TypeError(`errorFamily.toProblem: must be a function (family ${family.name})`);
  }
  const { name, match, toProblem } = family;
  return Object.freeze({
    name,
    match: (error: unknown): error is unknown => match(error),
    toProblem: (error: unknown) => toProblem(error as E),
  });
}

/**
 * The problem of the first family `error` belongs to: `undefined` when none claims it,
 * an {@link ErrorFamilyError} when a family's own code fails (the caller answers 500).
 */
export function problemFromFamilies(
  error: unknown,
  families: readonly ErrorFamily[],
): ProblemError | ErrorFamilyError | undefined {
  for (const family of families) {
    let problem: unknown;
    try {
      if (!family.match(error)) continue;
      problem = family.toProblem(error);
    } catch (failure) {
      return new ErrorFamilyError(family.name, `match or toProblem threw while mapping ${errorName(error)}`, failure);
    }
    if (problem instanceof ProblemError) return problem;
    return new ErrorFamilyError(family.name, 'toProblem did not return a ProblemError', error);
  }
  return undefined;
}

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : typeof error;
}
