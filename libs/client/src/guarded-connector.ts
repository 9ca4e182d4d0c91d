/**
 * Enforcement of the address policy at connect time. The URL checks run before a
 * request, but a hostname can resolve to one address when checked and another when
 * connected (DNS rebinding), so the check that counts sits where the socket is made:
 * an undici connector whose DNS lookup drops refused answers, and which refuses
 * literal IP hosts itself (Node calls `lookup` only for names). Every connection the
 * client's dispatcher opens, redirects included, goes through here.
 */
import { lookup as dnsLookup, type LookupAddress, type LookupAllOptions, type LookupOptions } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import { buildConnector } from 'undici';
import { checkAddress, type AddressPolicy } from './domain/address-policy.ts';
import { ClientError } from './errors.ts';

/** DNS resolution of a name to all its addresses (node:dns `lookup` with `all: true`). */
export type ResolveAll = (
  hostname: string,
  options: LookupAllOptions,
  callback: (error: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void,
) => void;

const systemResolveAll: ResolveAll = (hostname, options, callback) => dnsLookup(hostname, options, callback);

/**
 * A `lookup` for net/tls.connect that resolves with `resolveAll` and keeps only the
 * addresses the policy allows; when none is left it fails with ClientError
 * `address.refused` naming each refused address and why.
 */
export function guardedLookup(policy: AddressPolicy, resolveAll: ResolveAll = systemResolveAll): LookupFunction {
  return (hostname: string, options: LookupOptions, callback) => {
    resolveAll(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, '', 0);
      const allowed: LookupAddress[] = [];
      const refused: string[] = [];
      for (const entry of addresses) {
        const verdict = checkAddress(entry.address, policy);
        if (verdict.allowed) allowed.push(entry);
        else refused.push(`${verdict.address} ${verdict.why}`);
      }
      const first = allowed[0];
      if (first === undefined) {
        const reason = refused.length === 0 ? 'resolves to no address' : `resolves only to refused addresses: ${refused.join('; ')}`;
        return callback(new ClientError('address.refused', hostname, reason), '', 0);
      }
      if (options.all === true) return callback(null, allowed);
      callback(null, first.address, first.family);
    });
  };
}

export interface GuardedConnectorOptions {
  policy: AddressPolicy;
  /** Trusted CA certificates (PEM); undefined for Node's built-in roots. */
  ca: readonly string[] | undefined;
  /** TCP + TLS handshake deadline, ms. */
  timeoutMs: number;
  /** Name resolution; default node:dns `lookup`. */
  resolveAll?: ResolveAll;
}

/** An undici connector: https only, TLS 1.3 only (spec 6.1), addresses per the policy. */
export function createGuardedConnector(options: GuardedConnectorOptions): buildConnector.connector {
  const connect = buildConnector({
    lookup: guardedLookup(options.policy, options.resolveAll),
    ...(options.ca === undefined ? {} : { ca: [...options.ca] }),
    minVersion: 'TLSv1.3',
    maxVersion: 'TLSv1.3',
    timeout: options.timeoutMs,
    // A resumed TLS session would let a node link two requests to one client (spec 2.2).
    maxCachedSessions: 0,
  });
  return (connectOptions, callback) => {
    if (connectOptions.protocol !== 'https:') {
      return callback(new ClientError('url.invalid', connectOptions.hostname, `protocol ${connectOptions.protocol} is not https`), null);
    }
    if (isIP(connectOptions.hostname) !== 0) {
      const verdict = checkAddress(connectOptions.hostname, options.policy);
      if (!verdict.allowed) return callback(new ClientError('address.refused', connectOptions.hostname, `address ${verdict.address} ${verdict.why}`), null);
    }
    connect(connectOptions, callback);
  };
}
