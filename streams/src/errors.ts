/** Why a name or a definition could not be built. */
export type DefinitionErrorCode =
  | 'operator.invalid'
  | 'kind.invalid'
  | 'record_id.invalid'
  | 'domain.invalid'
  | 'projection.invalid'
  | 'bucket.invalid'
  | 'peers.invalid'
  | 'limits.invalid';

/** A stream, consumer or KV definition (or a name inside one) is invalid. */
export class DefinitionError extends Error {
  override readonly name = 'DefinitionError';
  readonly code: DefinitionErrorCode;

  constructor(code: DefinitionErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
