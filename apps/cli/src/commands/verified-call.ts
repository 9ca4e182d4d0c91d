/**
 * One call to a node's service through @dmf/client, as `dmf nodes` and `dmf call` make
 * it: the chain is verified first (the client never calls an unverified node), and
 * every failure ends the command with one line on stderr. The client adds no
 * identifying header (spec 2.2), so neither does this.
 */
import { STATUS_CODES } from 'node:http';
import { ClientError, createClient, type Attempt, type CallRequest, type CallResponse } from '@dmf/client';
import { CliError, EXIT } from '../exit-codes.ts';
import { clientOptionsFor, parseNodeUrl, type ClientFlags } from './client-flags.ts';

/** Verifies the chain of the node at `nodeUrl`, then calls its service of `serviceType` (undefined: any of its services). */
export async function verifiedCall(
  nodeUrl: string,
  flags: ClientFlags,
  serviceType: string | undefined,
  request: CallRequest,
): Promise<CallResponse> {
  const url = parseNodeUrl(nodeUrl);
  const client = createClient(await clientOptionsFor(url, flags, process.env, process.cwd()));
  try {
    const response = await client.call({ node: url.href, ...(serviceType === undefined ? {} : { serviceType }) }, request);
    if (flags.verbose) writeAttempts(response.attempts);
    return response;
  } catch (error) {
    if (!(error instanceof ClientError)) throw error;
    process.stderr.write(`dmf: ${error.message}${hintFor(error)}\n`);
    if (flags.verbose) writeAttempts(error.attempts);
    // A request refused before any traffic (bad path or method) is the caller's mistake.
    throw new CliError('', error.code === 'request.invalid' ? EXIT.usage : EXIT.failed, { cause: error });
  } finally {
    await client.close();
  }
}

function writeAttempts(attempts: readonly Attempt[]): void {
  attempts.forEach((a, i) => process.stderr.write(`dmf: attempt ${i + 1}: ${a.url}: ${a.result === 'answered' ? '' : `${a.result}: `}${a.detail}\n`));
}

/**
 * OpenSSL's codes for a certificate chain that leads to no trusted CA (not for an
 * expired certificate or a wrong host name, which another CA would not fix): the one
 * failure a flag fixes, so the line says which.
 */
const UNTRUSTED_CERTIFICATE = /\b(UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT(_LOCALLY)?|SELF_SIGNED_CERT_IN_CHAIN|DEPTH_ZERO_SELF_SIGNED_CERT|CERT_UNTRUSTED)\b/;

function hintFor(error: ClientError): string {
  const untrusted = error.code === 'unreachable' && [error.reason, ...error.attempts.map((a) => a.detail)].some((text) => UNTRUSTED_CERTIFICATE.test(text));
  return untrusted ? " (the node's TLS certificate is not trusted: pass --ca with its CA, e.g. <data>/tls/ca.pem of a dmf up node)" : '';
}

/** Whether the answer is a success (2xx). */
export function succeeded(response: CallResponse): boolean {
  return response.status >= 200 && response.status < 300;
}

/**
 * The one line for an answer that is not a success: `<status> <title>: <detail>` from an
 * RFC 9457 problem, else the status and its standard reason phrase.
 */
export function failureLine(response: CallResponse): string {
  const problem = parseJsonBody(response);
  const fields = typeof problem === 'object' && problem !== null ? (problem as { title?: unknown; detail?: unknown }) : {};
  const title = typeof fields.title === 'string' ? fields.title : (STATUS_CODES[response.status] ?? 'answer');
  const detail = typeof fields.detail === 'string' ? `: ${fields.detail}` : '';
  return `${response.status} ${title}${detail}`.replace(/[\r\n]+/g, ' ');
}

/** The body as JSON when it is JSON (by media type), else undefined. */
export function parseJsonBody(response: CallResponse): unknown {
  if (!isJson(response)) return undefined;
  try {
    return JSON.parse(new TextDecoder().decode(response.body));
  } catch {
    return undefined;
  }
}

export function isJson(response: CallResponse): boolean {
  const type = response.headers['content-type'];
  return typeof type === 'string' && /^application\/([a-z0-9.+-]*\+)?json\b/i.test(type);
}
