/**
 * Building request URLs from a verified base (entrypoint, mirror, node URL) and a
 * caller's path. The path is appended to the base's path, never resolved against it:
 * URL resolution would let `//evil.example/x` or `https://...` replace the host that
 * the signed manifest named. Pure.
 */

/** Paths of PROTOCOL.md section 5, served at the root of every node (RFC 8615). */
export const NODE_MANIFEST_PATH = '/.well-known/dmf/node';
export const SERVICE_MANIFESTS_PATH = '/.well-known/dmf/services';

/**
 * Why a request path is unusable, or undefined when it is fine: it must start with one
 * `/` and hold no control characters, spaces or backslashes (which the URL parser would
 * rewrite), and no `#`.
 */
export function requestPathProblem(path: string): string | undefined {
  if (typeof path !== 'string' || !path.startsWith('/')) return 'must start with /';
  if (path.startsWith('//')) return 'must not start with // (it would name another host)';
  if (/[\u0000-\u0020\u007f\\#]/.test(path)) return 'must not contain control characters, spaces, backslashes or #';
  return undefined;
}

/** `base` with `path` (and its query) appended to base's path: `https://h/api` + `/x?q=1` = `https://h/api/x?q=1`. */
export function joinPath(base: URL, path: string): URL {
  const problem = requestPathProblem(path);
  if (problem !== undefined) throw new TypeError(`path ${JSON.stringify(path)}: ${problem}`);
  const query = path.indexOf('?');
  const pathname = query === -1 ? path : path.slice(0, query);
  const url = new URL(base.href);
  url.pathname = `${base.pathname.replace(/\/+$/, '')}${pathname}`;
  url.search = query === -1 ? '' : path.slice(query);
  url.hash = '';
  return url;
}

/** A well-known path at the root of the node's origin, whatever path the node URL has. */
export function wellKnownUrl(node: URL, path: string): URL {
  return new URL(path, node.origin);
}
