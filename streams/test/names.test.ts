import { describe, expect, it } from 'vitest';
import {
  DefinitionError,
  federatedStreamName,
  jetStreamApiPrefix,
  kindFilterSubject,
  kvStreamName,
  originStreamName,
  originSubject,
  originSubjects,
  parseOriginStreamName,
  parseOriginSubject,
  parseRecordMsgId,
  projectionBucketName,
  recordMsgId,
  validateOperator,
} from '@dmf/streams';

const ID = 'a'.repeat(64);

describe('operator token', () => {
  it('accepts short lowercase names', () => {
    for (const op of ['opa', 'a', 'uni-berlin', 'x1', 'a'.repeat(32)]) expect(validateOperator(op)).toBe(op);
  });

  it('refuses anything that could break a subject, a stream name or a msg-id', () => {
    for (const op of ['', 'OpA', '1op', '-op', 'op.a', 'op a', 'op*', 'op>', 'op_a', 'a'.repeat(33), 'é']) {
      expect(() => validateOperator(op), op).toThrow(DefinitionError);
    }
    let caught: unknown;
    try {
      validateOperator('op.a', 'peers[0].operator');
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(DefinitionError);
    expect((caught as DefinitionError).code).toBe('operator.invalid');
    expect((caught as Error).message).toContain('peers[0].operator');
  });
});

describe('names', () => {
  it('builds subjects, streams and msg-ids from the operator token', () => {
    expect(originSubject('opa', 'content_manifest')).toBe('dmf.origin.opa.content_manifest');
    expect(originSubjects('opa')).toBe('dmf.origin.opa.>');
    expect(kindFilterSubject('node_manifest')).toBe('dmf.origin.*.node_manifest');
    expect(originStreamName('opa')).toBe('ORIGIN_opa');
    expect(federatedStreamName('opa')).toBe('FEDERATED_opa');
    expect(recordMsgId('opa', ID)).toBe(`opa.${ID}`);
    expect(jetStreamApiPrefix('opb')).toBe('$JS.opb.API');
    expect(projectionBucketName('record_ledger', 'opa')).toBe('record_ledger_opa');
    expect(kvStreamName(projectionBucketName('record_ledger', 'opa'))).toBe('KV_record_ledger_opa');
  });

  it('refuses a bucket name the KV client would not accept', () => {
    for (const bucket of ['', 'a.b', 'a b', 'a>', 'a*']) expect(() => kvStreamName(bucket), bucket).toThrow(/bucket/);
  });

  it('refuses kinds and ids that are not tokens', () => {
    expect(() => originSubject('opa', 'content.manifest')).toThrow(/kind/);
    expect(() => originSubject('opa', '>')).toThrow(/kind/);
    expect(() => recordMsgId('opa', 'A'.repeat(64))).toThrow(/record id/);
    expect(() => recordMsgId('opa', 'a'.repeat(63))).toThrow(/record id/);
  });

  it('parses what it builds and nothing else', () => {
    expect(parseOriginSubject(originSubject('op-b', 'node_report'))).toEqual({ operator: 'op-b', kind: 'node_report' });
    expect(parseOriginSubject('dmf.origin.opa')).toBeUndefined();
    expect(parseOriginSubject('dmf.other.opa.kind')).toBeUndefined();
    expect(parseOriginSubject('dmf.origin.OPA.kind')).toBeUndefined();
    expect(parseOriginSubject('dmf.origin.opa.kind.extra')).toBeUndefined();
    expect(parseRecordMsgId(recordMsgId('opa', ID))).toEqual({ operator: 'opa', id: ID });
    expect(parseRecordMsgId(ID)).toBeUndefined();
    expect(parseRecordMsgId(`opa.${ID}x`)).toBeUndefined();
    expect(parseOriginStreamName(originStreamName('op-b'))).toBe('op-b');
    expect(parseOriginStreamName(federatedStreamName('opa'))).toBeUndefined();
    expect(parseOriginStreamName('ORIGIN_')).toBeUndefined();
    expect(parseOriginStreamName('ORIGIN_OPA')).toBeUndefined();
  });
});
