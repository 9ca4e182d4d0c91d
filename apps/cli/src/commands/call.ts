import type { Command } from 'commander';
import { ProtocolError } from '@dmf/protocol';
import type { CallResponse } from '@dmf/client';
import { CliError, EXIT } from '../exit-codes.ts';
import { readInput } from '../input.ts';
import { addClientOptions, type ClientFlags } from './client-flags.ts';

interface CallOptions extends ClientFlags {
  method?: string;
  service?: string;
  data?: string;
  json: boolean;
}

/** The methods @dmf/client sends (spec 5.2). */
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'];
const SERVICE_TYPE = /^[a-z][a-z0-9_]{0,63}$/;

/**
 * `dmf call <node-url> <path>`: one request to a service of a node whose manifest chain
 * verified, like curl but refusing any node that does not prove who it is.
 */
export function registerCall(program: Command): void {
  addClientOptions(
    program
      .command('call')
      .description(
        "verify a node's manifest chain, then send one request to its service (its entrypoints in signed order, then its mirrors) " +
          'and print the body; exit 0 for a 2xx answer, 1 otherwise with `dmf: <status> <title>: <detail>` on stderr',
      )
      .argument('<node-url>', 'https URL of the node, e.g. https://127.0.0.1:8443')
      .argument('<path>', 'path and query appended to the service\'s entrypoint, e.g. /nodes or /category/music')
      .option('--method <method>', `${METHODS.join(', ')} (default GET, or POST with --data)`)
      .option('--service <type>', 'service type to call, e.g. federation or metadata_index (default: any service of the node)')
      .option('--data <file>', 'request body, sent as application/json; - for standard input')
      .option('--json', 'print {"status","url","node","content_type","body"} as JSON (body parsed when JSON, else text or body_base64)', false),
  ).action(async (nodeUrl: string, path: string, options: CallOptions) => {
    const method = (options.method ?? (options.data === undefined ? 'GET' : 'POST')).toUpperCase();
    if (!METHODS.includes(method)) throw new CliError(`--method: ${JSON.stringify(options.method)} is not one of ${METHODS.join(', ')}`, EXIT.usage);
    if (options.service !== undefined && !SERVICE_TYPE.test(options.service)) {
      throw new CliError(`--service: ${JSON.stringify(options.service)} is not a service type like metadata_index`, EXIT.usage);
    }
    if (!path.startsWith('/')) throw new CliError(`<path>: ${JSON.stringify(path)} must start with /, e.g. /nodes`, EXIT.usage);
    if (options.data !== undefined && (method === 'GET' || method === 'HEAD')) {
      throw new CliError(`--data: a ${method} request has no body; use --method POST or PUT`, EXIT.usage);
    }
    const body = options.data === undefined ? undefined : await readBody(options.data);

    // Loaded on use: the client (undici) would slow every other command.
    const { failureLine, isJson, parseJsonBody, succeeded, verifiedCall } = await import('./verified-call.ts');
    const response = await verifiedCall(nodeUrl, options, options.service, { method, path, ...(body === undefined ? {} : { body }) });
    if (options.json) process.stdout.write(`${JSON.stringify(asJson(response, isJson(response) ? parseJsonBody(response) : undefined))}\n`);
    else writeBody(response, isJson(response));
    if (!succeeded(response)) throw new CliError(failureLine(response), EXIT.failed);
  });
}

async function readBody(file: string): Promise<Uint8Array> {
  try {
    return await readInput(file);
  } catch (error) {
    if (error instanceof ProtocolError || error instanceof CliError) throw new CliError(`--data: ${error.message}`, EXIT.usage, { cause: error });
    throw error;
  }
}

/** The body as received; a text answer gets the final newline a terminal needs, binary stays byte-exact. */
function writeBody(response: CallResponse, json: boolean): void {
  const type = response.headers['content-type'];
  const textual = json || (typeof type === 'string' && /^text\//i.test(type));
  process.stdout.write(response.body);
  if (textual && response.body.length > 0 && response.body.at(-1) !== 0x0a) process.stdout.write('\n');
}

function asJson(response: CallResponse, parsed: unknown): Record<string, unknown> {
  const type = response.headers['content-type'];
  const common = { status: response.status, url: response.url, node: response.node.manifest.node_id, content_type: typeof type === 'string' ? type : null };
  if (parsed !== undefined) return { ...common, body: parsed };
  try {
    return { ...common, body: new TextDecoder('utf-8', { fatal: true }).decode(response.body) };
  } catch {
    return { ...common, body_base64: Buffer.from(response.body).toString('base64') };
  }
}
