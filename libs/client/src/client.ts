/**
 * The verifying DMF client: wiring of the guarded dispatcher, the chain verifier and
 * the service caller. `createClient(options)` → use → `close()`.
 */
import { Agent } from 'undici';
import { AttemptLog } from './attempts.ts';
import { callService, type CallRequest, type CallResponse, type CallTarget } from './call.ts';
import { verifyChain, type ChainContext, type VerifiedNode } from './chain.ts';
import { ClientError } from './errors.ts';
import { createGuardedConnector } from './guarded-connector.ts';
import { resolveClientOptions, type ClientOptions } from './options.ts';
import { USER_AGENT } from './version.ts';

export interface FetchVerifiedNodeOptions {
  /** Also fetch and hash-check the services' OpenAPI documents. Default: the client's `checkSchemas`. */
  checkSchemas?: boolean;
}

export interface DmfClient {
  /**
   * Fetches `GET /.well-known/dmf/node` and `GET /.well-known/dmf/services` from the
   * node at `url` (its origin) and verifies them; throws ClientError otherwise.
   */
  fetchVerifiedNode(url: string, options?: FetchVerifiedNodeOptions): Promise<VerifiedNode>;
  /** Verifies the target's chain, then calls its service; see CallTarget and CallRequest. */
  call(target: CallTarget, request: CallRequest): Promise<CallResponse>;
  /** Closes the connections. Safe to call twice; later calls fail. */
  close(): Promise<void>;
}

export function createClient(options: ClientOptions = {}): DmfClient {
  const resolved = resolveClientOptions(options);
  const agent = new Agent({
    connect: createGuardedConnector({
      policy: resolved.policy,
      ca: resolved.ca,
      timeoutMs: resolved.timeoutMs,
      ...(resolved.resolveAll === undefined ? {} : { resolveAll: resolved.resolveAll }),
    }),
    headersTimeout: resolved.timeoutMs,
    bodyTimeout: resolved.timeoutMs,
    maxResponseSize: resolved.maxResponseBytes,
  });
  const context: ChainContext = {
    fetcher: { dispatcher: agent, policy: resolved.policy, timeoutMs: resolved.timeoutMs, maxResponseBytes: resolved.maxResponseBytes },
    policy: resolved.policy,
    knownVersions: resolved.knownVersions,
    isQuarantined: resolved.isQuarantined,
    now: resolved.now,
    maxResponseBytes: resolved.maxResponseBytes,
    userAgent: USER_AGENT,
  };
  let closing: Promise<void> | undefined;
  const open = (): void => {
    if (closing !== undefined) throw new ClientError('client.closed', 'client', 'close() was called');
  };

  return {
    async fetchVerifiedNode(url, callOptions = {}) {
      open();
      return verifyChain(context, url, callOptions.checkSchemas ?? resolved.checkSchemas, new AttemptLog());
    },
    async call(target, request) {
      open();
      return callService(context, target, request, request.checkSchemas ?? resolved.checkSchemas);
    },
    close() {
      closing ??= agent.close();
      return closing;
    },
  };
}
