/**
 * Every subject, stream, consumer, KV bucket and msg-id that DMF puts on NATS is built
 * here, and only here. Call sites never type one of these strings by hand.
 *
 * The operator token is the short lowercase name of an operator. It appears in its
 * subjects (`dmf.origin.<op>.<kind>`), its stream names (`ORIGIN_<op>`), its msg-ids
 * (`<op>.<record id>`) and, by default, as its JetStream domain. DESIGN.md ("NATS
 * 2.9.10: what testing on this server showed") explains why each operator's subjects
 * need a token of their own.
 */
import { DefinitionError } from './errors.ts';

/** Lowercase letter first, then lowercase letters, digits and `-`; at most 32 characters. */
export const OPERATOR_TOKEN = /^[a-z][a-z0-9-]{0,31}$/;
/** A record kind as PROTOCOL.md names them (`node_manifest`, `content_manifest`, ...). */
export const RECORD_KIND = /^[a-z][a-z0-9_]{0,63}$/;
/** A record id: lowercase hex SHA-256 of the record's JCS bytes. */
export const RECORD_ID = /^[0-9a-f]{64}$/;
/** A projection name: becomes a durable consumer name and part of a KV bucket name. */
export const PROJECTION_NAME = /^[a-z][a-z0-9_]{0,31}$/;
/** A JetStream domain as nats-server accepts it in `jetstream { domain }`. */
export const JETSTREAM_DOMAIN = /^[A-Za-z0-9_-]{1,64}$/;

const SUBJECT_ROOT = 'dmf.origin';
const ORIGIN_STREAM_PREFIX = 'ORIGIN_';

/** Throws `DefinitionError('operator.invalid')` unless `operator` is a valid token; returns it. */
export function validateOperator(operator: string, field = 'operator'): string {
  if (typeof operator !== 'string' || !OPERATOR_TOKEN.test(operator)) {
    throw new DefinitionError(
      'operator.invalid',
      `${field}: ${JSON.stringify(operator)} is not an operator token (${OPERATOR_TOKEN.source})`,
    );
  }
  return operator;
}

/** Throws `DefinitionError('kind.invalid')` unless `kind` can be a subject token; returns it. */
export function validateKind(kind: string, field = 'kind'): string {
  if (typeof kind !== 'string' || !RECORD_KIND.test(kind)) {
    throw new DefinitionError('kind.invalid', `${field}: ${JSON.stringify(kind)} is not a record kind (${RECORD_KIND.source})`);
  }
  return kind;
}

/** Throws `DefinitionError('record_id.invalid')` unless `id` is a lowercase hex SHA-256; returns it. */
export function validateRecordId(id: string, field = 'id'): string {
  if (typeof id !== 'string' || !RECORD_ID.test(id)) {
    throw new DefinitionError('record_id.invalid', `${field}: ${JSON.stringify(id)} is not a record id (64 lowercase hex digits)`);
  }
  return id;
}

/** Throws `DefinitionError('domain.invalid')` unless `domain` is a JetStream domain; returns it. */
export function validateDomain(domain: string, field = 'domain'): string {
  if (typeof domain !== 'string' || !JETSTREAM_DOMAIN.test(domain)) {
    throw new DefinitionError('domain.invalid', `${field}: ${JSON.stringify(domain)} is not a JetStream domain (${JETSTREAM_DOMAIN.source})`);
  }
  return domain;
}

/** Throws `DefinitionError('projection.invalid')` unless `name` is a projection name; returns it. */
export function validateProjection(name: string, field = 'projection'): string {
  if (typeof name !== 'string' || !PROJECTION_NAME.test(name)) {
    throw new DefinitionError('projection.invalid', `${field}: ${JSON.stringify(name)} is not a projection name (${PROJECTION_NAME.source})`);
  }
  return name;
}

/** The subject a record of `kind` is published to at `operator`: `dmf.origin.<op>.<kind>`. */
export function originSubject(operator: string, kind: string): string {
  return `${SUBJECT_ROOT}.${validateOperator(operator)}.${validateKind(kind)}`;
}

/** Every subject of `operator`'s ORIGIN stream: `dmf.origin.<op>.>`. */
export function originSubjects(operator: string): string {
  return `${SUBJECT_ROOT}.${validateOperator(operator)}.>`;
}

/** Records of one kind from every operator (a single consumer filter, valid on 2.9). */
export function kindFilterSubject(kind: string): string {
  return `${SUBJECT_ROOT}.*.${validateKind(kind)}`;
}

/**
 * Reads the operator and kind back from a record subject. Returns `undefined` for a
 * subject that is not `dmf.origin.<op>.<kind>` (a projector counts that as invalid).
 */
export function parseOriginSubject(subject: string): { operator: string; kind: string } | undefined {
  const parts = subject.split('.');
  if (parts.length !== 4 || parts[0] !== 'dmf' || parts[1] !== 'origin') return undefined;
  const operator = parts[2] as string;
  const kind = parts[3] as string;
  if (!OPERATOR_TOKEN.test(operator) || !RECORD_KIND.test(kind)) return undefined;
  return { operator, kind };
}

/** The stream records of `operator` enter by publish: `ORIGIN_<op>`. */
export function originStreamName(operator: string): string {
  return `${ORIGIN_STREAM_PREFIX}${validateOperator(operator)}`;
}

/**
 * The operator of an ORIGIN stream name (`ORIGIN_<op>` → `<op>`); `undefined` for any
 * other name. Projections use it on the `Nats-Stream-Source` header to learn which
 * ORIGIN carried a message.
 */
export function parseOriginStreamName(stream: string): string | undefined {
  if (!stream.startsWith(ORIGIN_STREAM_PREFIX)) return undefined;
  const operator = stream.slice(ORIGIN_STREAM_PREFIX.length);
  return OPERATOR_TOKEN.test(operator) ? operator : undefined;
}

/** The stream `operator`'s projections read: its own ORIGIN plus admitted peers' ORIGIN. */
export function federatedStreamName(operator: string): string {
  return `FEDERATED_${validateOperator(operator)}`;
}

/**
 * `Nats-Msg-Id` of a record published at `operator`: `<op>.<record id>`. Namespaced by
 * operator so that one record accepted by two operators never collides between two
 * sources of one FEDERATED stream (nats-server#4459 stalls the second source).
 */
export function recordMsgId(operator: string, id: string): string {
  return `${validateOperator(operator)}.${validateRecordId(id)}`;
}

/** Splits a msg-id made by `recordMsgId`; `undefined` if it is not of that form. */
export function parseRecordMsgId(msgId: string): { operator: string; id: string } | undefined {
  const dot = msgId.indexOf('.');
  if (dot < 0) return undefined;
  const operator = msgId.slice(0, dot);
  const id = msgId.slice(dot + 1);
  if (!OPERATOR_TOKEN.test(operator) || !RECORD_ID.test(id)) return undefined;
  return { operator, id };
}

/** The JetStream API prefix of `domain`, for cross-domain sources: `$JS.<domain>.API`. */
export function jetStreamApiPrefix(domain: string): string {
  return `$JS.${validateDomain(domain)}.API`;
}

/**
 * JetStream API operations that change or destroy state. Peers need to read an
 * operator's ORIGIN (stream info, creating the ephemeral consumers that sourcing uses);
 * nobody but the operator may run these against it.
 */
const ADMIN_API_OPERATIONS = [
  'STREAM.CREATE.>',
  'STREAM.UPDATE.>',
  'STREAM.DELETE.>',
  'STREAM.PURGE.>',
  'STREAM.MSG.DELETE.>',
  'STREAM.SNAPSHOT.>',
  'STREAM.RESTORE.>',
  'STREAM.PEER.>',
  'STREAM.LEADER.>',
  'CONSUMER.DELETE.>',
  'CONSUMER.DURABLE.>',
  'CONSUMER.LEADER.>',
  'META.>',
  'ACCOUNT.PURGE.>',
  'SERVER.>',
] as const;

/**
 * What an operator's server refuses from its federation hub (leaf remote
 * `deny_imports`): publishes on its own record subjects, which would land in its
 * ORIGIN, and the admin operations of its JetStream API (`$JS.<domain>.API.…`), which
 * would let any server of the federation rewrite or empty its streams.
 */
export function leafDeniedImports(operator: string, domain: string = operator): string[] {
  const api = jetStreamApiPrefix(domain);
  return [originSubjects(operator), ...ADMIN_API_OPERATIONS.map((operation) => `${api}.${operation}`)];
}

/** Durable consumer name of a projection on a FEDERATED stream: the projection's name. */
export function projectionConsumerName(projection: string): string {
  return validateProjection(projection);
}

/** KV bucket of a projection at `operator`: `<projection>_<op>` (stream `KV_<projection>_<op>`). */
export function projectionBucketName(projection: string, operator: string): string {
  return `${validateProjection(projection)}_${validateOperator(operator)}`;
}

/** The stream that holds KV bucket `bucket`: `KV_<bucket>` (the layout of the KV client). */
export function kvStreamName(bucket: string): string {
  if (typeof bucket !== 'string' || !/^[A-Za-z0-9_-]+$/.test(bucket)) {
    throw new DefinitionError('bucket.invalid', `bucket: ${JSON.stringify(bucket)} is not a KV bucket name ([A-Za-z0-9_-]+)`);
  }
  return `KV_${bucket}`;
}

/** The projection that proves the plumbing: record id → { kind, first_origin }. */
export const RECORD_LEDGER = 'record_ledger';
