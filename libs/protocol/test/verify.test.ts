import { describe, expect, it } from 'vitest';
import {
  checkSeq,
  DOCUMENT_KINDS,
  EXPIRING_KINDS,
  generateSigningKey,
  ProtocolError,
  recordId,
  signDocument,
  signRecord,
  verifyBytes,
  verifyDocument,
  type VerifyOptions,
} from '../src/mod.ts';
import {
  categorySnapshot,
  contentManifest,
  erasureGroup,
  EXPIRES_AT,
  governanceReport,
  governanceReportOfEquivocation,
  ISSUED_AT,
  keys,
  nodeAttestation,
  nodeManifest,
  nodePublicKey,
  nodeReport,
  NOW,
  repairTask,
  serviceManifest,
  shardReport,
  SIGNER_OF,
} from './fixtures.ts';

const options: VerifyOptions = { now: NOW, nodePublicKey };
const makers = {
  content_manifest: contentManifest,
  node_manifest: nodeManifest,
  service_manifest: serviceManifest,
  node_attestation: nodeAttestation,
  node_report: nodeReport,
  category_snapshot: categorySnapshot,
  governance_report: governanceReport,
  erasure_group: erasureGroup,
  shard_report: shardReport,
  repair_task: repairTask,
};

function codeOf(run: () => unknown): { code: string; path: string | undefined } {
  try {
    run();
  } catch (error) {
    if (error instanceof ProtocolError) return { code: error.code, path: error.path };
    throw error;
  }
  throw new Error('expected a ProtocolError');
}

describe('signDocument and verifyDocument', () => {
  it.each(DOCUMENT_KINDS.map((kind) => [kind]))('round-trips a %s and names its signer and id', (kind) => {
    const key = keys[SIGNER_OF[kind]];
    const signed = signDocument(makers[kind](), key, options);
    const record = verifyDocument(signed, options);
    expect(record.kind).toBe(kind);
    expect(record.signer).toBe(key.did);
    expect(record.id).toBe(recordId(signed));
    expect(record.id).toMatch(/^[0-9a-f]{64}$/);
    expect(verifyBytes(Buffer.from(JSON.stringify(signed)), options).id).toBe(record.id);
    expect(verifyBytes(JSON.stringify(signed, null, 2), options).id).toBe(record.id);
  });

  it('signs a node manifest without operator with the node key', () => {
    const doc = nodeManifest();
    delete doc['operator'];
    expect(verifyDocument(signDocument(doc, keys.node, options), options).signer).toBe(keys.node.did);
    expect(() => signDocument(doc, keys.operator, options)).toThrow(expect.objectContaining({ code: 'signature.wrong_signer' }));
  });

  it('fills issued_at and seq, replaces an old signature and leaves the input alone', () => {
    const doc = contentManifest();
    delete doc['issued_at'];
    delete doc['seq'];
    const input: Record<string, unknown> = { ...doc, signature: 'stale' };
    const signed = signDocument(input, keys.creator, { now: NOW });
    expect(signed['issued_at']).toBe(NOW.toISOString());
    expect(signed['seq']).toBe(1);
    expect(signed.signature).not.toBe('stale');
    expect(input['signature']).toBe('stale');
    expect('issued_at' in input).toBe(false);
    expect(signDocument(doc, keys.creator, { now: NOW, seq: 7 })['seq']).toBe(7);
    expect(signDocument({ ...doc, seq: 4 }, keys.creator, { now: NOW, seq: 7 })['seq']).toBe(4);
  });

  it('fills expires_at from expiresInMs for expiring kinds only', () => {
    const doc = nodeManifest();
    delete doc['expires_at'];
    const signed = signDocument(doc, keys.operator, { now: NOW, expiresInMs: 3_600_000 });
    expect(signed['expires_at']).toBe('2026-11-28T18:00:00.000Z');
    expect('expires_at' in signDocument(contentManifest(), keys.creator, { now: NOW, expiresInMs: 1000 })).toBe(false);
  });

  it('never produces an invalid document', () => {
    expect(codeOf(() => signDocument({ ...contentManifest(), chunks: ['nope'] }, keys.creator, options))).toEqual({
      code: 'schema',
      path: '$.chunks[0]',
    });
    expect(codeOf(() => signDocument(contentManifest(), keys.stranger, options)).code).toBe('signature.wrong_signer');
    expect(codeOf(() => signDocument({ ...contentManifest(), size: 1.5 }, keys.creator, options)).code).toBe('json.non_integer');
    expect(codeOf(() => signDocument(nodeManifest(), keys.operator, { now: new Date(EXPIRES_AT) })).code).toBe('expires_at.expired');
    expect(codeOf(() => signDocument({ kind: 'nope' }, keys.creator, options)).code).toBe('kind.unknown');
    expect(codeOf(() => signDocument(serviceManifest(), keys.node, options)).code).toBe('signature.wrong_signer');
  });

  it('signRecord returns the record id with the document', () => {
    const record = signRecord(contentManifest(), keys.creator, options);
    expect(record.id).toBe(recordId(record.document));
  });

  it('requires a resolver for service manifests', () => {
    const signed = signDocument(serviceManifest(), keys.nodeService, options);
    expect(codeOf(() => verifyDocument(signed, { now: NOW }))).toEqual({ code: 'signer.unresolved', path: '$.node_id' });
    expect(codeOf(() => verifyDocument(signed, { now: NOW, nodePublicKey: () => keys.stranger.did })).code).toBe(
      'signature.wrong_signer',
    );
  });

  it('refuses a valid signature by another key, even one naming itself in the header', () => {
    const stranger = generateSigningKey();
    const forged = signDocument({ ...contentManifest(), creator: stranger.did }, stranger, options);
    // Swap the creator back: the header's kid no longer matches the required signer.
    expect(codeOf(() => verifyDocument({ ...forged, creator: keys.creator.did }, options)).code).toBe('signature.wrong_signer');
  });

  it('names both the signer and the expected DID when the signer is wrong', () => {
    const byStranger = signDocument({ ...contentManifest(), creator: keys.stranger.did }, keys.stranger, options);
    expect(() => verifyDocument({ ...byStranger, creator: keys.creator.did }, options)).toThrow(
      `signature.wrong_signer: $.signature: signed by ${keys.stranger.did}, but the signer must be $.creator (${keys.creator.did})`,
    );
    const { operator: _operator, ...withoutOperator } = nodeManifest();
    const byOperator = signDocument({ ...withoutOperator, node_id: keys.operator.did }, keys.operator, options);
    expect(() => verifyDocument({ ...byOperator, node_id: keys.node.did }, options)).toThrow(
      `signed by ${keys.operator.did}, but the signer must be $.node_id (${keys.node.did}), as there is no $.operator`,
    );
    const service = signDocument(serviceManifest(), keys.nodeService, options);
    expect(() => verifyDocument(service, { now: NOW, nodePublicKey: () => keys.stranger.did })).toThrow(
      `signed by ${keys.nodeService.did}, but the signer must be public_key of the node manifest of ${keys.node.did} (${keys.stranger.did})`,
    );
  });

  it('judges freshness at the injected time', () => {
    const signed = signDocument(nodeManifest(), keys.operator, options);
    expect(() => verifyDocument(signed, { now: new Date('2026-12-05T16:59:59.999Z') })).not.toThrow();
    expect(codeOf(() => verifyDocument(signed, { now: new Date(EXPIRES_AT) })).code).toBe('expires_at.expired');
    const early = new Date(Date.parse(ISSUED_AT) - 5 * 60 * 1000);
    expect(() => verifyDocument(signed, { now: early })).not.toThrow();
    expect(codeOf(() => verifyDocument(signed, { now: new Date(early.getTime() - 1) })).code).toBe('issued_at.future');
  });

  it('runs the rules in the documented order', () => {
    // A document that breaks the schema and carries a bad signature reports the schema.
    const signed = signDocument(contentManifest(), keys.creator, options);
    expect(codeOf(() => verifyDocument({ ...signed, title: '', signature: 'x' }, options)).code).toBe('schema');
    // Expired and badly signed: freshness comes first.
    const manifest = signDocument(nodeManifest(), keys.operator, options);
    expect(codeOf(() => verifyDocument({ ...manifest, version: '9.9.9' }, { now: new Date(EXPIRES_AT) })).code).toBe(
      'expires_at.expired',
    );
  });

  it('refuses non-objects and non-JSON values before anything else', () => {
    expect(codeOf(() => verifyDocument('text', options))).toEqual({ code: 'document.not_object', path: '$' });
    expect(codeOf(() => verifyDocument(null, options)).code).toBe('document.not_object');
    expect(codeOf(() => verifyDocument({ kind: 'content_manifest', x: undefined }, options))).toEqual({
      code: 'json.unsupported_type',
      path: '$.x',
    });
  });

  it('puts code, path and reason in one-line messages', () => {
    const signed = signDocument(contentManifest(), keys.creator, options);
    const chunks = [...(signed['chunks'] as string[])];
    chunks[1] = 'QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG';
    expect(() => verifyDocument({ ...signed, chunks }, options)).toThrow(
      'schema: $.chunks[1]: not a CIDv1 raw sha2-256 (base32)',
    );
  });
});

describe('governance reports', () => {
  it('verify with and without subject_operator, signed by reporter, not expiring', () => {
    for (const make of [governanceReport, governanceReportOfEquivocation]) {
      const signed = signDocument(make(), keys.peer, options);
      const record = verifyBytes(JSON.stringify(signed), options);
      expect(record.kind).toBe('governance_report');
      expect(record.signer).toBe(keys.peer.did);
      expect(record.id).toBe(recordId(signed));
    }
    const record = verifyDocument(signDocument(governanceReport(), keys.peer, options), options);
    if (record.kind !== 'governance_report') throw new Error('narrowing');
    expect(record.document.grounds).toBe('delisted');
    expect(record.document.subject_operator).toBe(keys.operator.did);
    expect(EXPIRING_KINDS.has('governance_report')).toBe(false);
    expect('expires_at' in signDocument(governanceReport(), keys.peer, { now: NOW, expiresInMs: 1000 })).toBe(false);
  });

  it('refuse a node reporting itself: governance.self at $.subject', () => {
    const self = { ...governanceReport(), subject: keys.peer.did };
    expect(codeOf(() => signDocument(self, keys.peer, options))).toEqual({ code: 'governance.self', path: '$.subject' });
    expect(() => signDocument(self, keys.peer, options)).toThrow('governance.self: $.subject: a node cannot report itself');
    // The rule compares reporter and subject only; subject_operator is not compared with reporter.
    expect(verifyDocument(signDocument({ ...governanceReport(), subject_operator: keys.peer.did }, keys.peer, options), options).kind).toBe(
      'governance_report',
    );
  });

  it('refuse any signer but the reporter, naming both DIDs', () => {
    const byPeer = signDocument(governanceReport(), keys.peer, options);
    for (const key of [keys.operator, keys.node, keys.stranger]) {
      expect(codeOf(() => signDocument(governanceReport(), key, options))).toEqual({ code: 'signature.wrong_signer', path: '$.signature' });
    }
    // A report signed by the stranger about the node, then passed off as the peer's.
    const byStranger = signDocument({ ...governanceReport(), reporter: keys.stranger.did }, keys.stranger, options);
    expect(() => verifyDocument({ ...byStranger, reporter: keys.peer.did }, options)).toThrow(
      `signature.wrong_signer: $.signature: signed by ${keys.stranger.did}, but the signer must be $.reporter (${keys.peer.did})`,
    );
    expect(codeOf(() => verifyDocument({ ...byPeer, grounds: 'equivocation' }, options)).code).toBe('signature.invalid');
  });

  it('refuse unknown grounds, empty, repeated or too much evidence, naming the path', () => {
    const evidence = governanceReport()['evidence'] as string[];
    const refused = (changes: Record<string, unknown>): string => {
      try {
        signDocument({ ...governanceReport(), ...changes }, keys.peer, options);
      } catch (error) {
        if (error instanceof ProtocolError) return error.message;
        throw error;
      }
      return 'valid';
    };
    expect(refused({ grounds: 'unavailable' })).toBe('schema: $.grounds: must be one of "delisted", "equivocation"');
    expect(refused({ evidence: [] })).toBe('schema: $.evidence: must not be empty');
    expect(refused({ evidence: [evidence[0], evidence[1], evidence[0]] })).toBe('schema: $.evidence: items must be unique');
    expect(refused({ evidence: Array.from({ length: 65 }, (_, i) => i.toString(16).padStart(64, '0')) })).toBe('schema: $.evidence: more than 64 items');
    expect(refused({ evidence: Array.from({ length: 64 }, (_, i) => i.toString(16).padStart(64, '0')) })).toBe('valid');
    expect(refused({ evidence: [evidence[0], 'F'.repeat(64)] })).toBe('schema: $.evidence[1]: not a record id (lowercase hex SHA-256)');
    expect(refused({ subject_operator: 'did:web:example.org' })).toMatch(/^schema: \$\.subject_operator: not an Ed25519 did:key/);
    expect(refused({ reason: 'bad_fingerprint' })).toBe('schema: $.reason: member is not allowed here');
    expect(refused({ expires_at: EXPIRES_AT })).toBe('schema: $.expires_at: member is not allowed here');
  });
});

describe('checkSeq', () => {
  it('accepts the first version and any greater seq, refuses the rest', () => {
    expect(() => checkSeq(undefined, 1)).not.toThrow();
    expect(() => checkSeq(3, 4)).not.toThrow();
    expect(codeOf(() => checkSeq(3, 3))).toEqual({ code: 'seq.rollback', path: '$.seq' });
    expect(codeOf(() => checkSeq(3, 2)).code).toBe('seq.rollback');
  });
});

describe('recordId', () => {
  it('hashes the whole document, signature included, independent of member order', () => {
    const signed = signDocument(contentManifest(), keys.creator, options);
    const reversed = Object.fromEntries(Object.entries(signed).reverse());
    expect(recordId(reversed)).toBe(recordId(signed));
    expect(recordId({ ...signed, signature: `${signed.signature.slice(0, -1)}A` })).not.toBe(recordId(signed));
  });
});
