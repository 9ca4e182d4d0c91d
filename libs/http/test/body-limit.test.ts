import { describe, expect, it } from 'vitest';
import { MAX_DOCUMENT_BYTES } from '@dmf/protocol';
import { DEFAULT_BODY_LIMIT } from '../src/server.ts';
import { problemType } from '../src/problem.ts';
import { documentRoutes, largestContentManifest, signedManifest } from './documents.ts';
import { useTestServer } from './helpers.ts';

// The default body limit: no bodyLimit option.
const server = useTestServer({ rateLimit: { max: 1_000_000 } }, documentRoutes);

const post = (payload: string) =>
  server.app.inject({ method: 'POST', url: '/documents', payload, headers: { 'content-type': 'application/json' } });

/** `document` as JSON padded with spaces (insignificant to JSON and the signature) to `bytes` bytes. */
function paddedTo(document: Record<string, unknown>, bytes: number): string {
  const text = JSON.stringify(document);
  const padding = bytes - Buffer.byteLength(text);
  expect(padding).toBeGreaterThanOrEqual(0);
  return `${text.slice(0, -1)}${' '.repeat(padding)}}`;
}

describe('the default body limit fits every document the protocol accepts', () => {
  it('is at least the protocol document limit', () => {
    expect(DEFAULT_BODY_LIMIT).toBeGreaterThanOrEqual(MAX_DOCUMENT_BYTES);
    expect(DEFAULT_BODY_LIMIT).toBe(576 * 1024);
  });

  it('accepts the largest content manifest the schema allows (over the old 256 KiB limit)', async () => {
    const text = JSON.stringify(largestContentManifest());
    expect(Buffer.byteLength(text)).toBeGreaterThan(256 * 1024);
    const response = await post(text);
    expect(response.statusCode, response.body).toBe(201);
  });

  it('accepts a document of exactly MAX_DOCUMENT_BYTES; one byte more is json.too_large (413)', async () => {
    const document = signedManifest();
    const atLimit = await post(paddedTo(document, MAX_DOCUMENT_BYTES));
    expect(atLimit.statusCode, atLimit.body).toBe(201);
    expect(atLimit.json()).toMatchObject({ bytes: MAX_DOCUMENT_BYTES });

    const over = await post(paddedTo(document, MAX_DOCUMENT_BYTES + 1));
    expect(over.statusCode).toBe(413);
    expect(over.json()).toMatchObject({ type: problemType('json.too_large'), title: 'Document too large' });
  });

  it('passes a body of exactly the limit to the route; one byte more is refused before it (413)', async () => {
    const document = signedManifest();
    const atLimit = await post(paddedTo(document, DEFAULT_BODY_LIMIT));
    expect(atLimit.statusCode).toBe(413);
    expect(atLimit.json()).toMatchObject({ type: problemType('json.too_large') }); // the route's verdict

    const over = await post(paddedTo(document, DEFAULT_BODY_LIMIT + 1));
    expect(over.statusCode).toBe(413);
    expect(over.json()).toMatchObject({
      type: problemType('payload-too-large'),
      detail: `body: exceeds the limit of ${DEFAULT_BODY_LIMIT} bytes`,
    });
  });
});
