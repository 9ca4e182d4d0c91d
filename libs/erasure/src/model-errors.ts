/**
 * The ways the durability model (schemes, repair plans, closed forms, simulation)
 * refuses an input, as one error class with stable codes. Codes are a contract
 * (callers and tests match on them); add, never rename.
 */

/** Stable rule names thrown as `ModelError.code`. */
export const MODEL_ERROR_CODES = [
  // A scheme's parameters are not positive integers, or break the scheme's shape
  // (e.g. an LRC with more local groups than data shards).
  'scheme.invalid',
  // A shard index is not an integer in [0, n) for the scheme.
  'shard.out_of_range',
  // planRepair: the shards still readable cannot rebuild the lost ones.
  'repair.unrecoverable',
  // A probability is not a finite number in [0, 1], or a count or rate is out of range.
  'argument.invalid',
  // simulate: an option is out of range or exceeds one of the simulation's caps.
  'simulation.invalid_option',
] as const;

export type ModelErrorCode = (typeof MODEL_ERROR_CODES)[number];

/**
 * A model input broke a rule. `message` is one line: `<code>: <path>: <reason>`,
 * where `path` names the offending argument, e.g. `lost[2]` or `options.nodes`.
 */
export class ModelError extends Error {
  override readonly name = 'ModelError';
  readonly code: ModelErrorCode;
  readonly path: string;
  /** The reason alone, without code and path. */
  readonly reason: string;

  constructor(code: ModelErrorCode, path: string, reason: string) {
    const oneLine = reason.replace(/[\r\n]+/g, ' ');
    super(`${code}: ${path}: ${oneLine}`);
    this.code = code;
    this.path = path;
    this.reason = oneLine;
  }
}
