import { Command, CommanderError } from 'commander';
import { CliError, EXIT } from './exit-codes.ts';
import { registerKeygen } from './commands/keygen.ts';
import { registerSign } from './commands/sign.ts';
import { registerVerify } from './commands/verify.ts';
import { registerId } from './commands/id.ts';
import { registerStreams } from './commands/streams.ts';
import { registerUp } from './commands/up.ts';
import { registerProjections } from './commands/projections.ts';
import { registerSnapshot } from './commands/snapshot.ts';
import { registerManifest } from './commands/manifest.ts';
import { registerNodes } from './commands/nodes.ts';
import { registerCall } from './commands/call.ts';
import { registerRotateServiceKey } from './commands/rotate-service-key.ts';
import { registerErasure } from './commands/erasure.ts';
import { registerStorage } from './commands/storage.ts';
import { DMF_VERSION } from './version.ts';

export function buildProgram(): Command {
  const program = new Command('dmf')
    .description('DMF, the Distributed Microservices Fabric: keys, signed records, streams, a local node, and verified calls to nodes')
    .version(DMF_VERSION, '-V, --version')
    .exitOverride()
    // Usage errors are one line like every other dmf error: `dmf: <what> (see --help)`.
    .configureOutput({
      writeErr: (text) => process.stderr.write(text),
      outputError: (text, write) => write(`dmf: ${text.replace(/^error: /, '').trimEnd()} (see --help)\n`),
    });
  registerKeygen(program);
  registerSign(program);
  registerManifest(program);
  registerVerify(program);
  registerId(program);
  registerStreams(program);
  registerUp(program);
  registerProjections(program);
  registerSnapshot(program);
  registerNodes(program);
  registerCall(program);
  registerRotateServiceKey(program);
  registerErasure(program);
  registerStorage(program);
  // Every sub-command reports usage errors the same way: exit 2.
  for (const command of program.commands) command.exitOverride();
  return program;
}

/** Runs the CLI and returns the exit status (the bin shim sets process.exitCode). */
export async function run(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync([...argv]);
    return EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version are successful exits; anything else is a usage error.
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    if (error instanceof CliError) {
      if (error.message) process.stderr.write(`dmf: ${error.message}\n`);
      return error.exitCode;
    }
    // A bug, not a user mistake: say so in one line, with the detail for a report.
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`dmf: internal error: ${message}\n`);
    if (process.env.DMF_DEBUG) console.error(error);
    return EXIT.internal;
  }
}
