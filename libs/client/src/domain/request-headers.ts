/**
 * The headers a request carries. Spec 2.2 and 5.2: no cookies, sessions or per-user
 * tokens, nothing that identifies or tracks the user. The client sends one fixed
 * `user-agent` (the same for every user of a release) and what the caller adds, minus
 * headers that would identify someone or that the client owns (framing, host). Pure.
 */
import { ClientError } from '../errors.ts';

/** Headers a caller may not set, and why. */
const FORBIDDEN: ReadonlyMap<string, string> = new Map([
  ['cookie', 'no cookies, spec 2.2'],
  ['cookie2', 'no cookies, spec 2.2'],
  ['authorization', 'no per-user tokens, spec 5.2'],
  ['proxy-authorization', 'no per-user tokens, spec 5.2'],
  ['forwarded', 'it would pass on a client address, spec 2.2'],
  ['x-forwarded-for', 'it would pass on a client address, spec 2.2'],
  ['x-real-ip', 'it would pass on a client address, spec 2.2'],
  ['via', 'it would pass on a client address, spec 2.2'],
  ['referer', 'it would tell where the user came from, spec 2.2'],
  ['origin', 'it would tell where the user came from, spec 2.2'],
  ['user-agent', 'fixed by the client, spec 2.2'],
  ['host', 'set from the URL'],
  ['content-length', 'set from the body'],
  ['transfer-encoding', 'set from the body'],
  ['connection', 'managed by the client'],
  ['keep-alive', 'managed by the client'],
  ['upgrade', 'managed by the client'],
  ['te', 'managed by the client'],
  ['expect', 'managed by the client'],
]);

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const FIELD_VALUE = /^[\t\u0020-\u007e\u0080-\u00ff]*$/;

/**
 * Lower-cased caller headers plus `user-agent`, and `content-type: application/json`
 * when there is a body and the caller named no type (DMF speaks JSON, PROTOCOL.md 5).
 * Throws ClientError `request.invalid` naming the first bad header.
 */
export function requestHeaders(userAgent: string, caller: Readonly<Record<string, string>> = {}, hasBody = false): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(caller)) {
    const lower = name.toLowerCase();
    if (!TOKEN.test(name)) throw new ClientError('request.invalid', `headers[${JSON.stringify(name)}]`, 'is not a header name');
    const reason = FORBIDDEN.get(lower);
    if (reason !== undefined) throw new ClientError('request.invalid', `headers.${lower}`, `may not be set (${reason})`);
    if (typeof value !== 'string' || !FIELD_VALUE.test(value)) {
      throw new ClientError('request.invalid', `headers.${lower}`, 'value must be a string without control characters');
    }
    if (Object.hasOwn(headers, lower)) throw new ClientError('request.invalid', `headers.${lower}`, 'is given twice');
    headers[lower] = value;
  }
  if (hasBody && headers['content-type'] === undefined) headers['content-type'] = 'application/json';
  headers['user-agent'] = userAgent;
  return headers;
}
