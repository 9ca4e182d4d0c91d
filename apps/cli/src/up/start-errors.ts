import { ReconcileError } from '@dmf/bus';
import { KeyFileError, ProtocolError } from '@dmf/protocol';
import { ServerProcessError } from '@dmf/servers';
import { DefinitionError } from '@dmf/streams';
import { CliError, EXIT } from '../exit-codes.ts';

/**
 * Errors `dmf up` can meet that are the operator's to fix (a key file others can read,
 * a missing server binary, a server that refused a stream field...) become one line
 * and exit 1; anything else stays an internal error.
 */
export function startFailure(error: unknown): unknown {
  if (
    error instanceof KeyFileError ||
    error instanceof ProtocolError ||
    error instanceof ServerProcessError ||
    error instanceof ReconcileError ||
    error instanceof DefinitionError
  ) {
    return new CliError(error.message, EXIT.failed, { cause: error });
  }
  return error;
}
