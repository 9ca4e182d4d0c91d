import { afterAll, describe, expect, it } from 'vitest';
import { createVerifyPool, defaultVerifyThreads, signDocument, verifyBytes, type RecordToVerify } from '../src/mod.ts';
import { contentManifest, keys, NOW } from './fixtures.ts';

const encode = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

/** A mix: valid, tampered after signing, not JSON, issued after the `now` it is judged at. */
function records(): RecordToVerify[] {
  const signed = signDocument(contentManifest(), keys.creator, { now: NOW });
  const tampered = { ...signed, title: 'Another title' };
  const later = new Date(NOW.getTime() - 3_600_000);
  return [
    { bytes: encode(signed), now: NOW },
    { bytes: encode(tampered), now: NOW },
    { bytes: new TextEncoder().encode('{"kind": "content_manifest",'), now: NOW },
    { bytes: encode(signed), now: later },
    { bytes: encode(signDocument({ ...contentManifest(), title: 'Second' }, keys.creator, { now: NOW })), now: NOW },
  ];
}

describe('createVerifyPool', () => {
  const pool = createVerifyPool({ threads: 1 });
  const inline = createVerifyPool({ threads: 0 });
  afterAll(async () => {
    await pool.close();
    await inline.close();
  });

  it('gives on a worker thread the verdicts verifyBytes gives inline, in order', async () => {
    const input = records();
    const verdicts = await pool.verify(input);
    expect(verdicts).toHaveLength(input.length);
    expect(verdicts[0]).toEqual({ ok: true, record: verifyBytes(input[0]?.bytes as Uint8Array, { now: NOW, reportCanonical: true }) });
    expect(verdicts[1]).toMatchObject({ ok: false, code: 'signature.invalid' });
    expect(verdicts[2]).toMatchObject({ ok: false });
    expect(verdicts[3]).toMatchObject({ ok: false, code: 'issued_at.future' });
    expect(verdicts[4]).toMatchObject({ ok: true, record: { kind: 'content_manifest', document: { title: 'Second' } } });
    expect(await inline.verify(input)).toEqual(verdicts);
  });

  it('leaves the caller\'s buffers usable (the packed copy is what moves to the thread)', async () => {
    const input = records();
    const before = input.map((r) => Buffer.from(r.bytes).toString('hex'));
    await pool.verify(input);
    expect(input.map((r) => Buffer.from(r.bytes).toString('hex'))).toEqual(before);
  });

  it('splits a large call across its threads and gives every verdict in the order of the records', async () => {
    const two = createVerifyPool({ threads: 2 });
    try {
      // 5 x 13 = 65 records: two slices (33 and 32), each a mix of outcomes.
      const input = Array.from({ length: 13 }, () => records()).flat();
      const verdicts = await two.verify(input);
      expect(verdicts).toHaveLength(65);
      expect(verdicts).toEqual(await inline.verify(input));
      expect(verdicts.map((v) => v.ok)).toEqual(Array.from({ length: 13 }, () => [true, false, false, false, true]).flat());
    } finally {
      await two.close();
    }
  });

  it('answers an empty batch, and refuses a thread count that is not a whole number', async () => {
    expect(await pool.verify([])).toEqual([]);
    expect(() => createVerifyPool({ threads: -1 })).toThrow(/threads: must be a whole number/);
    expect(() => createVerifyPool({ threads: 1.5 })).toThrow(/threads/);
    expect(defaultVerifyThreads()).toBeGreaterThanOrEqual(0);
  });

  it('runs a check module on each verified record, on the verification thread, and returns its result', async () => {
    const check = new URL('./record-check-fixture.ts', import.meta.url);
    const threaded = createVerifyPool({ threads: 1, check });
    const here = createVerifyPool({ threads: 0, check });
    try {
      await threaded.ready();
      await here.ready();
      const input = records();
      const verdicts = await threaded.verify(input);
      const first = verdicts[0] as { ok: true; checked: { titleLength: number; threadId: number } };
      expect(first.checked.titleLength).toBe('A song about the sea'.length);
      expect(first.checked.threadId).not.toBe(0);
      expect(verdicts[1]).not.toHaveProperty('checked');
      expect(((await here.verify(input))[0] as typeof first).checked).toEqual({ titleLength: first.checked.titleLength, threadId: 0 });
    } finally {
      await threaded.close();
      await here.close();
    }
  });

  it('verifies after close() no more', async () => {
    const short = createVerifyPool({ threads: 1 });
    await short.close();
    await short.close();
    await expect(short.verify(records())).rejects.toThrow(/pool is closed/);
  });
});
