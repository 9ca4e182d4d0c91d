/**
 * Verifying many records at once, off the caller's thread: the records travel packed in
 * one buffer (one copy, transferred, instead of a structured clone per record) and come
 * back as plain verdicts. The same functions run inline when no thread is wanted, so
 * both ways give the same answers (verify-pool.ts; tests compare them).
 */
import { ProtocolError, type ProtocolErrorCode } from './errors.ts';
import { verifyBytes, type VerifiedRecord } from './verify.ts';

export interface RecordToVerify {
  bytes: Uint8Array;
  /** The time freshness is judged at (a projector passes the time the log stored the record). */
  now: Date;
}

/** Records laid end to end in one buffer. */
export interface PackedRecords {
  bytes: Uint8Array;
  /** End offset of each record in `bytes`. */
  ends: number[];
  /** `now` of each record, in ms since the epoch. */
  nowMs: number[];
}

/**
 * More checks of a verified record that need nothing but the record, run on the same
 * thread right after verification (a module's default export: see createVerifyPool).
 * Its result must survive a structured clone (plain data, no classes).
 */
export type RecordCheck = (record: VerifiedRecord) => unknown;

export type VerifyVerdict =
  | { ok: true; record: VerifiedRecord; checked?: unknown }
  | { ok: false; code: ProtocolErrorCode; path: string | undefined; reason: string; message: string };

export function packRecords(records: readonly RecordToVerify[]): PackedRecords {
  let total = 0;
  for (const r of records) total += r.bytes.length;
  // Its own ArrayBuffer (not a pooled slice), so it can be transferred without copying.
  const bytes = new Uint8Array(new ArrayBuffer(total));
  const ends: number[] = [];
  const nowMs: number[] = [];
  let offset = 0;
  for (const r of records) {
    bytes.set(r.bytes, offset);
    offset += r.bytes.length;
    ends.push(offset);
    nowMs.push(r.now.getTime());
  }
  return { bytes, ends, nowMs };
}

/**
 * `verifyBytes` of every packed record (then `check`, if given); a record that breaks a
 * protocol rule is a verdict, any other error throws. With `documents: false` a
 * verified record comes back without its document (see withDocuments).
 */
export function verifyPacked(packed: PackedRecords, check?: RecordCheck, options: { documents?: boolean } = {}): VerifyVerdict[] {
  const documents = options.documents ?? true;
  const verdicts: VerifyVerdict[] = [];
  let start = 0;
  for (let i = 0; i < packed.ends.length; i++) {
    const end = packed.ends[i] as number;
    const bytes = packed.bytes.subarray(start, end);
    start = end;
    try {
      // Records come from the bus here: whether they are in canonical bytes goes back too.
      const verified = verifyBytes(bytes, { now: new Date(packed.nowMs[i] as number), reportCanonical: true });
      const checked = check ? check(verified) : undefined;
      const record = documents ? verified : ({ kind: verified.kind, id: verified.id, signer: verified.signer, canonical: verified.canonical } as VerifiedRecord);
      verdicts.push(check ? { ok: true, record, checked } : { ok: true, record });
    } catch (error) {
      if (!(error instanceof ProtocolError)) throw error;
      verdicts.push({ ok: false, code: error.code, path: error.path, reason: error.reason, message: error.message });
    }
  }
  return verdicts;
}

/** Loads a RecordCheck module (its default export), once per URL. */
const checks = new Map<string, Promise<RecordCheck>>();
export function loadRecordCheck(url: string): Promise<RecordCheck> {
  let loaded = checks.get(url);
  if (!loaded) {
    loaded = import(url).then((module: { default?: unknown }) => {
      if (typeof module.default !== 'function') throw new TypeError(`${url}: its default export is not a function`);
      return module.default as RecordCheck;
    });
    checks.set(url, loaded);
  }
  return loaded;
}

const utf8 = new TextDecoder();

/**
 * Puts back the documents of verdicts made with `documents: false`, parsed here from the
 * records' bytes: JSON.parse of bytes the thread verified gives the very value the
 * thread's strict parse gave (that is JSON.parse plus checks), and costs this thread
 * less than receiving a structured clone of it (about 2.5 against 6 µs for a manifest),
 * while the verification thread saves cloning it (15 µs and more).
 */
export function withDocuments(verdicts: VerifyVerdict[], records: readonly RecordToVerify[]): VerifyVerdict[] {
  verdicts.forEach((verdict, i) => {
    if (verdict.ok) (verdict.record as { document: unknown }).document = JSON.parse(utf8.decode((records[i] as RecordToVerify).bytes));
  });
  return verdicts;
}

