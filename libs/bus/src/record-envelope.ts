/**
 * The transport checks every projector makes before it verifies a record read from a
 * FEDERATED stream: where it came from, under which subject, with which msg-id.
 * Everything is charged to the operator whose ORIGIN carried the message (the
 * `Nats-Stream-Source` header, which our own server writes), never to the operator a
 * subject or msg-id names: a peer controls its own ORIGIN and could put another
 * operator's name in both.
 */
import { parseOriginSubject } from '@dmf/streams';

export interface RecordEnvelope {
  subject: string;
  /** From `Nats-Stream-Source` (sourceOperatorOf). */
  sourceOperator: string | undefined;
  /** From `Nats-Msg-Id` (parseRecordMsgId). */
  recordId: string | undefined;
  msgIdOperator: string | undefined;
}

export type EnvelopeCheck =
  | { ok: true; origin: string; kind: string }
  /** `source` (not sourced from an ORIGIN), `subject` (not `dmf.origin.<op>.<kind>`), `foreign_subject` (names another operator than its carrier). */
  | { ok: false; origin: string; reason: 'source' | 'subject' | 'foreign_subject' };

export function checkEnvelope(envelope: RecordEnvelope): EnvelopeCheck {
  const origin = envelope.sourceOperator;
  if (origin === undefined) return { ok: false, origin: 'unknown', reason: 'source' };
  const address = parseOriginSubject(envelope.subject);
  if (!address) return { ok: false, origin, reason: 'subject' };
  // FEDERATED filters each source to its operator's subjects; this holds even when a
  // stream was defined without those filters.
  if (address.operator !== origin) return { ok: false, origin, reason: 'foreign_subject' };
  return { ok: true, origin, kind: address.kind };
}

/**
 * After verification: the record is of the kind its subject names, and the msg-id is
 * `<carrier>.<record id>`. Returns the failed rule (`kind_mismatch`, `msg_id`) or undefined.
 */
export function checkVerifiedEnvelope(
  envelope: RecordEnvelope,
  origin: string,
  subjectKind: string,
  verified: { kind: string; id: string },
): 'kind_mismatch' | 'msg_id' | undefined {
  if (verified.kind !== subjectKind) return 'kind_mismatch';
  if (envelope.recordId !== verified.id || envelope.msgIdOperator !== origin) return 'msg_id';
  return undefined;
}
