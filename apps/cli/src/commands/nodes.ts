import type { Command } from 'commander';
import type { NodeState } from '@dmf/federation';
import { isDidKey } from '@dmf/protocol';
import { CliError, EXIT } from '../exit-codes.ts';
import { addClientOptions, type ClientFlags } from './client-flags.ts';
import { renderNodeDetail, renderNodeList } from './nodes-render.ts';

interface NodesOptions extends ClientFlags {
  state?: string;
  json: boolean;
}

/** Every admission state (spec 4.2, 9.3); `satisfies` makes the compiler flag a state added or removed upstream. */
const STATES = Object.keys({
  pending: true, probing: true, probed: true, refused: true, attested: true,
  admitted: true, expired: true, quarantined: true, delisted: true,
} satisfies Record<NodeState, true>);

/**
 * `dmf nodes <node-url> [<did>]`: what a node says about the federation, through its
 * `federation` service, after its manifest chain verified.
 */
export function registerNodes(program: Command): void {
  addClientOptions(
    program
      .command('nodes')
      .description(
        "verify a node's manifest chain, then ask its federation service which nodes it knows: a table of node id, operator, " +
          'state and first reason (GET /nodes), or with <did> that node\'s state, reasons, attesters, reporters, findings, ' +
          'reputation and state changes (GET /nodes/<did>)',
      )
      .argument('<node-url>', 'https URL of the node to ask, e.g. https://127.0.0.1:8443')
      .argument('[did]', 'did:key of one node to show in detail')
      .option('--state <state>', `list only nodes in this state: ${STATES.join(', ')}`)
      .option('--json', "print the node's answer as JSON", false),
  ).action(async (nodeUrl: string, did: string | undefined, options: NodesOptions) => {
    if (options.state !== undefined && !STATES.includes(options.state)) {
      throw new CliError(`--state: ${JSON.stringify(options.state)} is not one of ${STATES.join(', ')}`, EXIT.usage);
    }
    if (did !== undefined && options.state !== undefined) throw new CliError('--state: lists nodes; it does not go with a <did>', EXIT.usage);
    if (did !== undefined && !isDidKey(did)) throw new CliError(`<did>: ${JSON.stringify(did)} is not an Ed25519 did:key`, EXIT.usage);

    // Loaded on use: the client (undici) would slow every other command.
    const { failureLine, parseJsonBody, succeeded, verifiedCall } = await import('./verified-call.ts');
    const path = did !== undefined ? `/nodes/${did}` : options.state !== undefined ? `/nodes?state=${options.state}` : '/nodes';
    const response = await verifiedCall(nodeUrl, options, 'federation', { method: 'GET', path });
    if (!succeeded(response)) throw new CliError(failureLine(response), EXIT.failed);
    const answer = parseJsonBody(response);
    if (typeof answer !== 'object' || answer === null) {
      throw new CliError(`${response.url}: the federation service answered ${response.status} without a JSON body`, EXIT.failed);
    }
    process.stdout.write(`${options.json ? JSON.stringify(answer) : did !== undefined ? renderNodeDetail(answer) : renderNodeList(answer, options.state)}\n`);
  });
}
