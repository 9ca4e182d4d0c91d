/**
 * Which URLs the client may request at all: absolute `https:` URLs without
 * credentials, whose host, when it is an IP literal, passes the address policy.
 * Hostnames are judged later, on each DNS answer at connect time (../guarded-connector.ts);
 * this early check only gives literal addresses a clear error before any socket opens. Pure.
 */
import { isIP } from 'node:net';
import { ClientError } from '../errors.ts';
import { checkAddress, type AddressPolicy } from './address-policy.ts';

/** The host of a URL as an IP literal (IPv6 without brackets), or undefined for a name. */
export function literalHost(url: URL): string | undefined {
  const host = url.hostname.startsWith('[') && url.hostname.endsWith(']') ? url.hostname.slice(1, -1) : url.hostname;
  return isIP(host) === 0 ? undefined : host;
}

/**
 * Parses `text` (relative to `base` when given, for redirect locations) and checks it.
 * `what` names the URL's role in messages (`entrypoint`, `redirect target`...).
 * Throws ClientError `url.invalid` or `address.refused`.
 */
export function checkTargetUrl(text: string, policy: AddressPolicy, what: string, base?: URL): URL {
  let url: URL;
  try {
    url = base === undefined ? new URL(text) : new URL(text, base);
  } catch (cause) {
    throw new ClientError('url.invalid', JSON.stringify(truncate(text)), `${what} is not a URL`, { cause });
  }
  if (url.protocol !== 'https:') {
    throw new ClientError('url.invalid', url.href, `${what} must be https (got ${url.protocol})`);
  }
  if (url.username !== '' || url.password !== '') {
    // Credentials in a URL are a per-user token (spec 5.2) and would be sent on every hop.
    throw new ClientError('url.invalid', redactCredentials(url), `${what} must not carry credentials`);
  }
  const literal = literalHost(url);
  if (literal !== undefined) {
    const verdict = checkAddress(literal, policy);
    if (!verdict.allowed) throw new ClientError('address.refused', url.href, `${what} address ${verdict.address} ${verdict.why}`);
  }
  url.hash = '';
  return url;
}

function redactCredentials(url: URL): string {
  const copy = new URL(url.href);
  copy.username = '';
  copy.password = '';
  return copy.href;
}

function truncate(text: string): string {
  return text.length > 200 ? `${text.slice(0, 200)}...` : text;
}
