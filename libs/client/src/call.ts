/**
 * Calling a service of a verified node: verify the chain, pick the service manifests
 * of the type asked for, then try their entrypoints in the order signed, then the
 * node's mirrors, moving on at any failure (network, timeout, 5xx, refused address,
 * oversize answer). The first answer below 500 is returned. Spec 5.2 makes DMF
 * requests idempotent, so repeating one at the next URL is safe.
 */
import { AttemptLog } from './attempts.ts';
import { verifyChain, type ChainContext, type VerifiedNode } from './chain.ts';
import { candidateBases, failureCode, servicesOfType } from './domain/candidates.ts';
import { requestHeaders } from './domain/request-headers.ts';
import { joinPath, requestPathProblem } from './domain/request-path.ts';
import { checkTargetUrl } from './domain/target-url.ts';
import { ClientError, type Attempt } from './errors.ts';
import { fetchWithRedirects, type ResponseHeaders } from './fetcher.ts';

/** One node (any of its services, or those of `serviceType`), or the first of several nodes that offers `serviceType`. */
export type CallTarget = { node: string; serviceType?: string } | { nodes: readonly string[]; serviceType: string };

export interface CallRequest {
  /** GET, HEAD, POST, PUT, PATCH or DELETE. */
  method: string;
  /** Path and query appended to the entrypoint's path, e.g. `/manifest/5f0c...`. Must start with `/`. */
  path: string;
  /** Request body; with a body and no content-type header, `application/json` is sent. */
  body?: Uint8Array | string;
  /** Extra headers. Cookies, authorization, forwarding and framing headers are refused (spec 2.2, 5.2). */
  headers?: Readonly<Record<string, string>>;
  /** Also fetch and hash-check the OpenAPI documents (`schema`) of the node's services. Default: the client's `checkSchemas`. */
  checkSchemas?: boolean;
}

export interface CallResponse {
  status: number;
  headers: ResponseHeaders;
  body: Uint8Array;
  /** The URL that answered (after redirects). */
  url: string;
  /** The verified chain of the node that answered. */
  node: VerifiedNode;
  /** Every URL requested, the answering one last. */
  attempts: readonly Attempt[];
}

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE']);

export async function callService(context: ChainContext, target: CallTarget, request: CallRequest, checkSchemas: boolean): Promise<CallResponse> {
  const headers = validateRequest(request, context.userAgent);
  const nodes = 'nodes' in target ? [...target.nodes] : [target.node];
  if (nodes.length === 0) throw new ClientError('request.invalid', 'target.nodes', 'lists no node');
  const log = new AttemptLog();
  const failures: ClientError[] = [];

  for (const nodeUrl of nodes) {
    let node: VerifiedNode;
    try {
      node = await verifyChain(context, nodeUrl, checkSchemas, log);
    } catch (error) {
      if (!(error instanceof ClientError)) throw error;
      failures.push(error);
      continue;
    }
    const services = servicesOfType(
      node.services.map((service) => service.manifest),
      target.serviceType,
    );
    if (services.length === 0) {
      const offered = node.services.map((service) => service.manifest.type).join(', ') || 'none';
      const wanted = target.serviceType === undefined ? 'any service' : `service type ${target.serviceType}`;
      failures.push(log.failed(node.url, new ClientError('service.not_offered', node.url, `node ${node.manifest.node_id} offers no ${wanted} (offers: ${offered})`)));
      continue;
    }
    for (const base of candidateBases(services, node.manifest)) {
      // The base is a signed https URL (schema-checked); the joined URL is what gets checked and logged.
      const url = joinPath(new URL(base), request.path);
      try {
        checkTargetUrl(url.href, context.policy, 'entrypoint');
      } catch (error) {
        if (!(error instanceof ClientError)) throw error;
        failures.push(log.failed(url.href, error));
        continue;
      }
      try {
        const response = await fetchWithRedirects(
          { url, method: request.method, headers, ...(request.body === undefined ? {} : { body: request.body }) },
          context.fetcher,
        );
        if (response.status >= 500) {
          failures.push(log.failed(url.href, new ClientError('unreachable', response.url.href, `answered ${response.status}`), response.status));
          continue;
        }
        log.answered(url.href, response.status);
        return { status: response.status, headers: response.headers, body: response.body, url: response.url.href, node, attempts: log.entries };
      } catch (error) {
        if (!(error instanceof ClientError)) throw error;
        failures.push(log.failed(url.href, error));
      }
    }
  }
  throw summarise(failures, log, target);
}

/** Checks method, path and headers before any network traffic; returns the headers to send. */
function validateRequest(request: CallRequest, userAgent: string): Record<string, string> {
  if (!METHODS.has(request.method)) {
    throw new ClientError('request.invalid', 'method', `${JSON.stringify(request.method)} is not one of ${[...METHODS].join(', ')}`);
  }
  const problem = requestPathProblem(request.path);
  if (problem !== undefined) throw new ClientError('request.invalid', 'path', `${JSON.stringify(request.path)} ${problem}`);
  if (request.body !== undefined && (request.method === 'GET' || request.method === 'HEAD')) {
    throw new ClientError('request.invalid', 'body', `a ${request.method} request has no body`);
  }
  return requestHeaders(userAgent, request.headers, request.body !== undefined);
}

/**
 * The error of a call that got no usable answer. When every failure had the same code
 * (all refused, all expired...), the last of them, as precise as it was; otherwise
 * (nothing answered, or failures of several kinds) `unreachable`, naming the target,
 * the attempts telling what each URL did.
 */
function summarise(failures: readonly ClientError[], log: AttemptLog, target: CallTarget): ClientError {
  const attempts = log.entries;
  const code = failureCode(attempts);
  const last = failures.at(-1);
  if (code !== 'unreachable' && last !== undefined && last.code === code) return last.withAttempts(attempts);
  const where = 'nodes' in target ? target.nodes.join(', ') : target.node;
  const what = target.serviceType === undefined ? 'a service' : `service type ${target.serviceType}`;
  const lastAttempt = attempts.at(-1);
  const lastText = lastAttempt === undefined ? '' : `; last: ${lastAttempt.url}: ${lastAttempt.detail}`;
  return new ClientError(code, where, `no URL of ${what} answered (${attempts.length} requests${lastText})`, { attempts });
}
