/**
 * What a redirect asks for (RFC 9110 section 15.4). The client follows redirects
 * itself, rather than letting undici do it, so that every target passes the URL and
 * address checks before a socket opens. Pure.
 */

/** At most this many redirects per request (the fourth is refused). */
export const MAX_REDIRECTS = 3;

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/** Whether a status is a redirect the client follows. 300, 304, 305 and 306 are answers. */
export function isFollowedRedirect(status: number): boolean {
  return REDIRECT_STATUSES.has(status);
}

export interface RedirectedRequest {
  method: string;
  /** Whether the request body is sent again. */
  keepBody: boolean;
}

/**
 * The method of the request that follows a redirect: 307 and 308 repeat the request
 * as it was; 303 turns anything but HEAD into a GET without body; 301 and 302 do the
 * same for POST (what every user agent does, RFC 9110 15.4.2).
 */
export function redirectedRequest(status: number, method: string): RedirectedRequest {
  if (status === 307 || status === 308) return { method, keepBody: true };
  if (status === 303 && method !== 'HEAD') return { method: 'GET', keepBody: false };
  if ((status === 301 || status === 302) && method === 'POST') return { method: 'GET', keepBody: false };
  return { method, keepBody: method !== 'GET' && method !== 'HEAD' };
}
