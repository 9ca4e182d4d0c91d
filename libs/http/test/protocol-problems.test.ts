import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { LightMyRequestResponse } from 'fastify';
import { KeyFileError, PROTOCOL_ERROR_CODES, ProtocolError, parseJson } from '@dmf/protocol';
import { INTERNAL_ERROR_DETAIL, pointerToPath, problemFromError } from '../src/error-mapping.ts';
import { problemType } from '../src/problem.ts';
import { PROTOCOL_PROBLEM_GROUPS, isProtocolError } from '../src/protocol-problems.ts';
import { rawBodyOf } from '../src/raw-body.ts';
import { creator, documentRoutes, signedManifest, stranger } from './documents.ts';
import { capturedLogger, useTestServer } from './helpers.ts';

const logs = capturedLogger();
const server = useTestServer({ logger: logs.logger, rateLimit: { max: 1_000_000 } }, (app) => {
  documentRoutes(app);
  app.post('/echo-bytes', { config: { rawBody: true } }, async (request) => ({
    sha256: createHash('sha256').update(rawBodyOf(request)).digest('hex'),
  }));
  app.post('/forgot-the-flag', async (request) => ({ length: rawBodyOf(request).length }));
});

const post = (payload: string | Buffer, url = '/documents', headers: Record<string, string> = { 'content-type': 'application/json' }) =>
  server.app.inject({ method: 'POST', url, payload, headers });

/** The problem body, after checking the response is one; never a 5xx. */
function problemOf(response: LightMyRequestResponse, status: number): Record<string, unknown> {
  expect(response.statusCode, response.body).toBe(status);
  expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
  const body = response.json<Record<string, unknown>>();
  expect(body['status']).toBe(status);
  return body;
}

describe('a route that verifies the raw bytes answers bad documents with the rule they break', () => {
  it('accepts a valid signed document', async () => {
    const response = await post(JSON.stringify(signedManifest()));
    expect(response.statusCode, response.body).toBe(201);
    expect(response.json()).toMatchObject({ kind: 'content_manifest', id: expect.stringMatching(/^[0-9a-f]{64}$/) });
  });

  it('tampered after signing: 422 signature.invalid', async () => {
    const tampered = { ...signedManifest(), title: 'Another song' };
    const body = problemOf(await post(JSON.stringify(tampered)), 422);
    expect(body['type']).toBe('https://dmf.cwe/problems/signature.invalid');
    expect(body['title']).toBe(PROTOCOL_PROBLEM_GROUPS.refused.title);
    expect(body['detail']).toMatch(/^\$\.signature: /);
    expect(body['errors']).toEqual([{ path: '$.signature', reason: String(body['detail']).slice('$.signature: '.length) }]);
  });

  it('a duplicate key, invisible after JSON.parse: 400 json.duplicate_key', async () => {
    const text = JSON.stringify(signedManifest()).replace('{', '{"title":"Someone else\'s song",');
    expect((JSON.parse(text) as { title: string }).title).toBe('A song about the sea'); // the last one wins in JSON.parse
    const body = problemOf(await post(text), 400);
    expect(body['type']).toBe(problemType('json.duplicate_key'));
    expect(body['title']).toBe('Malformed document');
    expect(body['detail']).toBe('$.title: member "title" appears more than once');
    expect(body['errors']).toEqual([{ path: '$.title', reason: 'member "title" appears more than once' }]);
  });

  it('a schema error: 400 schema, naming the member', async () => {
    const body = problemOf(await post(JSON.stringify({ ...signedManifest(), chunks: [] })), 400);
    expect(body['type']).toBe(problemType('schema'));
    expect(String(body['detail'])).toMatch(/^\$\.chunks: /);
  });

  it('issued in the future: 422 issued_at.future', async () => {
    const future = signedManifest({}, new Date(Date.now() + 3_600_000));
    const body = problemOf(await post(JSON.stringify(future)), 422);
    expect(body['type']).toBe(problemType('issued_at.future'));
    expect(String(body['detail'])).toMatch(/^\$\.issued_at: /);
  });

  it('signed by someone other than the creator: 422 signature.wrong_signer', async () => {
    const body = problemOf(await post(JSON.stringify({ ...signedManifest(), creator: stranger.did })), 422);
    expect(body['type']).toBe(problemType('signature.wrong_signer'));
    expect(String(body['detail'])).toContain(creator.did);
  });

  it('a seq not above the stored one: 409 seq.rollback', async () => {
    const body = problemOf(await post(JSON.stringify(signedManifest({ seq: 5 })), '/documents/after-seq-5'), 409);
    expect(body['type']).toBe(problemType('seq.rollback'));
    expect(body['detail']).toBe('$.seq: seq 5 is not greater than the current 5');
    expect((await post(JSON.stringify(signedManifest({ seq: 6 })), '/documents/after-seq-5')).statusCode).toBe(201);
  });

  it('not a document at all: 400 with the rule named', async () => {
    expect(problemOf(await post('[1,2]'), 400)['type']).toBe(problemType('document.not_object'));
    expect(problemOf(await post('{"kind":"recipe"}'), 400)['type']).toBe(problemType('kind.unknown'));
    expect(problemOf(await post('{"a":1,}'), 400)['type']).toBe(problemType('json.syntax'));
    // Bytes that are not UTF-8 reach verifyBytes as they are: JSON.parse would have replaced them.
    const latin1 = Buffer.concat([Buffer.from('{"title":"'), Buffer.from([0xe9]), Buffer.from('"}')]);
    expect(problemOf(await post(latin1), 400)['type']).toBe(problemType('json.encoding'));
  });

  it('the handler gets exactly the bytes sent', async () => {
    const bytes = Buffer.from('\n  { "b" : 1,\t"a":[ ] }  \n', 'utf8');
    const response = await post(bytes, '/echo-bytes');
    expect(response.json()).toEqual({ sha256: createHash('sha256').update(bytes).digest('hex') });
  });

  it('a raw route still refuses what every route refuses, as problems', async () => {
    expect(problemOf(await post(''), 400)['type']).toBe(problemType('malformed-json'));
    expect(problemOf(await post('{}', '/documents', { 'content-type': 'text/plain' }), 415)['type']).toBe(
      problemType('unsupported-media-type'),
    );
    const noBody = problemOf(await server.app.inject({ method: 'POST', url: '/documents' }), 400);
    expect(noBody['detail']).toBe('body: is required (an application/json document)');
  });

  it('rawBodyOf on a route without config.rawBody is a programming error (500, logged)', async () => {
    const body = problemOf(await post('{"a":1}', '/forgot-the-flag'), 500);
    expect(body['detail']).toBe(INTERNAL_ERROR_DETAIL);
    expect(logs.text()).toContain('has no config.rawBody: true');
  });

  it('no corruption of a signed document is answered with a 5xx (property)', async () => {
    const text = JSON.stringify(signedManifest());
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.nat({ max: text.length - 1 }), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
        fc.nat({ max: text.length }),
        async (edits, keep) => {
          const bytes = Buffer.from(text, 'utf8');
          for (const [at, value] of edits) bytes[at] = value;
          const response = await post(bytes.subarray(0, Math.max(keep, 1)));
          expect(response.statusCode).toBeGreaterThanOrEqual(400);
          expect(response.statusCode).toBeLessThan(500);
          const type = String(response.json<Record<string, unknown>>()['type']);
          expect(type.startsWith('https://dmf.cwe/problems/')).toBe(true);
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('the protocol error family', () => {
  /** The status each protocol code is answered with: 400 form, 413 size, 409 stale seq, 422 rule. */
  const EXPECTED_STATUS: Record<(typeof PROTOCOL_ERROR_CODES)[number], number> = {
    'json.syntax': 400,
    'json.encoding': 400,
    'json.too_large': 413,
    'json.too_deep': 400,
    'json.duplicate_key': 400,
    'json.non_integer': 400,
    'json.unsafe_integer': 400,
    'json.lone_surrogate': 400,
    'json.unsupported_type': 400,
    'document.not_object': 400,
    'kind.missing': 400,
    'kind.unknown': 400,
    schema: 400,
    'attestation.self': 422,
    'attestation.window': 422,
    'report.self': 422,
    'snapshot.part': 422,
    'snapshot.order': 422,
    'governance.self': 422,
    'group.lrc': 422,
    'group.shards': 422,
    'group.holders': 422,
    'repair.duplicate': 422,
    'repair.overlap': 422,
    'issued_at.future': 422,
    'expires_at.expired': 422,
    'expires_at.before_issued': 422,
    'expires_at.too_far': 422,
    'seq.rollback': 409,
    'did.bad_prefix': 400,
    'did.bad_multibase': 400,
    'did.bad_base58': 400,
    'did.bad_multicodec': 400,
    'did.bad_length': 400,
    'signature.malformed': 400,
    'signature.bad_header': 400,
    'signature.invalid': 422,
    'signature.wrong_signer': 422,
    'signer.unresolved': 422,
  };

  it('maps every protocol code to a 4xx problem whose type is the code', () => {
    for (const code of PROTOCOL_ERROR_CODES) {
      const { problem, internal } = problemFromError(new ProtocolError(code, 'the reason', { path: '$.chunks[1]' }));
      expect(internal, code).toBe(false);
      expect(problem.status, code).toBe(EXPECTED_STATUS[code]);
      expect(problem.type).toBe(`https://dmf.cwe/problems/${code}`);
      expect(problem.toProblem()).toMatchObject({
        detail: '$.chunks[1]: the reason',
        errors: [{ path: '$.chunks[1]', reason: 'the reason' }],
      });
    }
  });

  it('names the whole document as $ when the error has no path, and keeps the error as cause', () => {
    const error = new ProtocolError('json.syntax', 'unexpected end of input');
    const { problem } = problemFromError(error);
    expect(problem.detail).toBe('$: unexpected end of input');
    expect(problem.cause).toBe(error);
  });

  it('matches by shape, so a code added later is a 422 and another copy of the class still matches', () => {
    class ProtocolErrorCopy extends Error {
      override readonly name = 'ProtocolError';
      constructor(
        readonly code: string,
        readonly reason: string,
      ) {
        super(`${code}: ${reason}`);
      }
    }
    const { problem } = problemFromError(new ProtocolErrorCopy('storage.replicas', 'too few replicas'));
    expect(problem.status).toBe(422);
    expect(problem.type).toBe(problemType('storage.replicas'));
  });

  it('does not claim look-alikes: they stay unexpected 500s', () => {
    const plainObject = { name: 'ProtocolError', code: 'schema', reason: 'x', message: 'schema: x' };
    const noReason = Object.assign(new Error('schema: x'), { name: 'ProtocolError', code: 'schema' });
    const oddCode = Object.assign(new Error('x'), { name: 'ProtocolError', code: 'Bad Code/../', reason: 'x' });
    const keyFile = new KeyFileError('keyfile.permissions', '/keys/node.key', 'mode 644 lets others read it');
    for (const error of [plainObject, noReason, oddCode, keyFile]) {
      expect(isProtocolError(error)).toBe(false);
      expect(problemFromError(error).problem.status).toBe(500);
    }
  });
});

describe('field paths read as the protocol writes them', () => {
  it('pointerToPath formats a member exactly as @dmf/protocol does (property)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40, unit: 'grapheme' }), (key) => {
        // An all-digit token is an index to Ajv's pointers (they carry no value); the protocol knows better.
        fc.pre(!/^(0|[1-9][0-9]*)$/.test(key));
        let protocolPath: string | undefined;
        try {
          parseJson(`{${JSON.stringify(key)}:1,${JSON.stringify(key)}:2}`);
        } catch (error) {
          protocolPath = (error as ProtocolError).path;
        }
        const pointer = `/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`;
        expect(`$${pointerToPath(pointer)}`).toBe(protocolPath);
      }),
      { numRuns: 500 },
    );
  });
});
