import { describe, expect, it } from 'vitest';
import { Type } from '@sinclair/typebox';
import { ProtocolError } from '@dmf/protocol';
import { defineErrorFamily } from '../src/error-families.ts';
import { INTERNAL_ERROR_DETAIL, problemFromError } from '../src/error-mapping.ts';
import { ProblemError, problemType } from '../src/problem.ts';
import { createHttpServer } from '../src/server.ts';
import { capturedLogger, silentLogger, testTls, useTestServer } from './helpers.ts';

/** A library's error family: one class, a stable code. */
class QuotaError extends Error {
  override readonly name = 'QuotaError';
  constructor(
    readonly code: 'quota.exceeded' | 'quota.unknown_plan',
    readonly field: string,
  ) {
    super(`${code}: ${field}`);
  }
}

const quotaFamily = defineErrorFamily({
  name: 'quota',
  match: (error): error is QuotaError => error instanceof QuotaError,
  toProblem: (error) =>
    new ProblemError({
      slug: error.code,
      status: error.code === 'quota.exceeded' ? 409 : 400,
      title: 'Quota',
      detail: `${error.field}: ${error.code === 'quota.exceeded' ? 'would exceed the quota' : 'names no plan'}`,
      cause: error,
    }),
});

/** An app that answers every protocol error its own way, ahead of the built-in family. */
const overrideProtocol = defineErrorFamily({
  name: 'strict-protocol',
  match: (error): error is ProtocolError => error instanceof ProtocolError && error.code.startsWith('signature.'),
  toProblem: (error) => new ProblemError({ slug: 'forged', status: 403, title: 'Forged', detail: `${error.path ?? '$'}: forged`, cause: error }),
});

const broken = defineErrorFamily({
  name: 'broken',
  match: (error): error is Error => error instanceof Error && error.message === 'trip the broken family',
  toProblem: () => {
    throw new Error('bug in the mapping');
  },
});

const logs = capturedLogger();
const server = useTestServer({ logger: logs.logger, errorFamilies: [quotaFamily, overrideProtocol, broken] }, (app) => {
  app.get('/quota', async () => {
    throw new QuotaError('quota.exceeded', 'size');
  });
  app.get('/forged', async () => {
    throw new ProtocolError('signature.invalid', 'the signature does not verify', { path: '$.signature' });
  });
  app.get('/future', async () => {
    throw new ProtocolError('issued_at.future', 'too far ahead', { path: '$.issued_at' });
  });
  app.get('/broken', async () => {
    throw new Error('trip the broken family');
  });
});

describe('error families given to the server', () => {
  it('map their errors to the problems they define', async () => {
    const response = await server.app.inject({ url: '/quota' });
    expect(response.statusCode).toBe(409);
    expect(response.json()).toEqual({
      type: problemType('quota.exceeded'),
      title: 'Quota',
      status: 409,
      detail: 'size: would exceed the quota',
    });
  });

  it('are asked before the built-in protocol family, which still answers the rest', async () => {
    const forged = await server.app.inject({ url: '/forged' });
    expect(forged.statusCode).toBe(403);
    expect(forged.json()).toMatchObject({ type: problemType('forged'), detail: '$.signature: forged' });
    const future = await server.app.inject({ url: '/future' });
    expect(future.statusCode).toBe(422);
    expect(future.json()).toMatchObject({ type: problemType('issued_at.future') });
  });

  it('a family whose mapping throws gives a 500, and the log says which family failed', async () => {
    const response = await server.app.inject({ url: '/broken' });
    expect(response.statusCode).toBe(500);
    expect(response.json()).toMatchObject({ detail: INTERNAL_ERROR_DETAIL });
    const line = logs.records().find((r) => r['msg'] === 'request failed' && r['route'] === '/broken');
    expect(JSON.stringify(line)).toContain('error family \\"broken\\"');
    expect(JSON.stringify(line)).toContain('bug in the mapping');
  });

  it('a family that returns something other than a ProblemError is a 500 too', () => {
    const sloppy = defineErrorFamily({
      name: 'sloppy',
      match: (error): error is Error => error instanceof Error,
      toProblem: () => ({ status: 400 }) as unknown as ProblemError,
    });
    const { problem, internal } = problemFromError(new Error('x'), { families: [sloppy] });
    expect(internal).toBe(true);
    expect(problem.status).toBe(500);
    expect(String((problem.cause as Error).message)).toContain('did not return a ProblemError');
  });

  it('defineErrorFamily refuses a family without a name, match or toProblem', () => {
    const toProblem = (): ProblemError => new ProblemError({ slug: 'x', status: 400, title: 'x', detail: 'x' });
    const match = (error: unknown): error is Error => error instanceof Error;
    expect(() => defineErrorFamily({ name: '', match, toProblem })).toThrow(/name/);
    expect(() => defineErrorFamily({ name: 'x', match: undefined as never, toProblem })).toThrow(/match/);
    expect(() => defineErrorFamily({ name: 'x', match, toProblem: 'no' as never })).toThrow(/toProblem/);
  });
});

describe('config.rawBody', () => {
  it('cannot be combined with a body schema (the schema would judge a Buffer)', async () => {
    const { server: tls } = await testTls();
    const app = await createHttpServer({ tls, logger: silentLogger() });
    try {
      expect(() =>
        app.post('/x', { config: { rawBody: true }, schema: { body: Type.Object({ a: Type.String() }) } }, async () => ({})),
      ).toThrow(/rawBody and schema.body/);
    } finally {
      await app.close();
    }
  });
});
