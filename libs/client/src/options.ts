/**
 * The client's options, each with its default, validated once at creation and copied
 * (the caller's object is never kept or changed).
 */
import { createAddressPolicy, type AddressPolicy } from './domain/address-policy.ts';
import type { ResolveAll } from './guarded-connector.ts';
import { createMemoryKnownVersions, type KnownVersions } from './known-versions.ts';

export const DEFAULT_TIMEOUT_MS = 5_000;
export const DEFAULT_MAX_RESPONSE_BYTES = 1024 * 1024;

export interface ClientOptions {
  /**
   * CIDRs the client may connect to besides public unicast addresses, e.g.
   * `['127.0.0.1/32']` in tests or `['10.0.0.0/8']` in a private federation. Default
   * none: loopback, private, link-local, CGNAT, multicast, reserved and cloud metadata
   * addresses are all refused. A metadata address is opened only by a CIDR naming it alone.
   */
  allow?: readonly string[];
  /**
   * Trusted CA certificates, PEM (one string may hold several). Default: Node's built-in
   * roots. When given, they replace the built-in roots (Node's `ca` semantics).
   */
  ca?: string | readonly string[];
  /** Deadline of one exchange (connect, TLS, redirects, whole body), ms. Default 5,000. */
  timeoutMs?: number;
  /** Largest response body read, bytes; larger answers are refused. Default 1 MiB. */
  maxResponseBytes?: number;
  /** Memory of the newest version seen per signed subject. Default: in memory, per client. */
  knownVersions?: KnownVersions;
  /** Whether a node (by node_id) is quarantined or delisted (spec 9.3); such nodes are refused. Default: none is. */
  isQuarantined?: (nodeId: string) => boolean | Promise<boolean>;
  /** Whether to fetch and hash-check every service's OpenAPI document when verifying a chain. Default false. */
  checkSchemas?: boolean;
  /** The clock freshness is judged by. Default: the system clock. */
  now?: () => Date;
  /** Name resolution (node:dns `lookup` with `all: true`). Default: the system resolver. For tests and custom resolvers. */
  resolveAll?: ResolveAll;
}

export interface ResolvedOptions {
  policy: AddressPolicy;
  ca: readonly string[] | undefined;
  timeoutMs: number;
  maxResponseBytes: number;
  knownVersions: KnownVersions;
  isQuarantined: (nodeId: string) => boolean | Promise<boolean>;
  checkSchemas: boolean;
  now: () => Date;
  resolveAll: ResolveAll | undefined;
}

/** Defaults applied, values checked; throws TypeError or RangeError naming the option. */
export function resolveClientOptions(options: ClientOptions = {}): ResolvedOptions {
  const ca = options.ca === undefined ? undefined : typeof options.ca === 'string' ? [options.ca] : [...options.ca];
  if (ca !== undefined && (ca.length === 0 || ca.some((pem) => typeof pem !== 'string' || !pem.includes('-----BEGIN CERTIFICATE-----')))) {
    throw new TypeError('ca: must be one or more PEM certificates');
  }
  return {
    policy: createAddressPolicy(options.allow ?? []),
    ca,
    timeoutMs: positiveInteger('timeoutMs', options.timeoutMs ?? DEFAULT_TIMEOUT_MS),
    maxResponseBytes: positiveInteger('maxResponseBytes', options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES),
    knownVersions: options.knownVersions ?? createMemoryKnownVersions(),
    isQuarantined: options.isQuarantined ?? (() => false),
    checkSchemas: options.checkSchemas ?? false,
    now: options.now ?? (() => new Date()),
    resolveAll: options.resolveAll,
  };
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value <= 0) throw new RangeError(`${name}: must be a positive integer, got ${String(value)}`);
  return value;
}
