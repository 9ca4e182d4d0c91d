/**
 * Freshness and rollback (PROTOCOL.md section 3). `now` is always injectable so that
 * a projector replaying the log can judge a record at the time it was accepted.
 */
import { ProtocolError } from './errors.ts';

/** A record issued further than this in the future is refused (clock skew allowance). */
export const MAX_FUTURE_SKEW_MS = 5 * 60 * 1000;
/**
 * Longest validity of an expiring document (expires_at - issued_at). The expiry is
 * the freeze-attack defence; an expiry decades away would disable it.
 */
export const MAX_LIFETIME_MS = 30 * 24 * 60 * 60 * 1000;

/**
 * Checks `issued_at` (not more than 5 minutes ahead of `now`) and, when the document
 * has one, `expires_at` (after issued_at, not past, at most MAX_LIFETIME_MS after
 * issued_at). Timestamps must already be schema-valid.
 */
export function checkFreshness(document: { issued_at: string; expires_at?: string }, now: Date): void {
  const nowMs = now.getTime();
  const issuedMs = Date.parse(document.issued_at);
  if (issuedMs > nowMs + MAX_FUTURE_SKEW_MS) {
    throw new ProtocolError('issued_at.future', `issued more than 5 minutes after now (${now.toISOString()})`, { path: '$.issued_at' });
  }
  if (document.expires_at === undefined) return;
  const expiresMs = Date.parse(document.expires_at);
  if (expiresMs <= issuedMs) {
    throw new ProtocolError('expires_at.before_issued', 'must be later than issued_at', { path: '$.expires_at' });
  }
  if (expiresMs - issuedMs > MAX_LIFETIME_MS) {
    throw new ProtocolError('expires_at.too_far', 'more than 30 days after issued_at', { path: '$.expires_at' });
  }
  if (expiresMs <= nowMs) {
    throw new ProtocolError('expires_at.expired', `expired (now is ${now.toISOString()})`, { path: '$.expires_at' });
  }
}

/**
 * Rollback rule: a version whose `seq` is not greater than the current one of the
 * same subject is refused. `current` undefined means no version is known yet.
 */
export function checkSeq(current: number | undefined, incoming: number): void {
  if (current !== undefined && incoming <= current) {
    throw new ProtocolError('seq.rollback', `seq ${incoming} is not greater than the current ${current}`, { path: '$.seq' });
  }
}
