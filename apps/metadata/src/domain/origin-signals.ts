/**
 * What each operator's ORIGIN carried into this FEDERATED stream, for the federation's
 * sybil signals (spec 9.1 "bad fingerprint submissions", "serving invalid metadata")
 * and its reputation (spec 9.2 "metadata correctness"). Counted by the metadata
 * projection as it applies the log, so any node recomputes the same numbers from the
 * same log, and kept in its bucket (`sig.<origin>`) with the last stream sequence
 * counted: a batch applied again after a crash counts nothing twice. Pure.
 */

export interface OriginSignals {
  /** Content manifests and snapshots the origin carried. */
  records: number;
  /** Of them, failed transport or protocol checks (invalid metadata served). */
  invalid: number;
  /** Of them, refused for their fingerprint: malformed, inconsistent with the chunks, or someone else's. */
  badFingerprint: number;
  /** Last FEDERATED sequence counted. */
  seq: number;
}

export const NO_SIGNALS: Readonly<OriginSignals> = Object.freeze({ records: 0, invalid: 0, badFingerprint: 0, seq: 0 });

/** What one record tells about its origin. */
export type CarriedRecord = 'valid' | 'invalid' | 'bad_fingerprint';

/** Refusal codes that count as a bad fingerprint submission. */
export function isFingerprintRefusal(code: string): boolean {
  return code.startsWith('fingerprint.');
}

/** The signals after record `seq`; unchanged when `seq` was counted already (a re-applied batch). */
export function countRecord(signals: OriginSignals, seq: number, record: CarriedRecord): OriginSignals {
  if (seq <= signals.seq) return signals;
  return {
    records: signals.records + 1,
    invalid: signals.invalid + (record === 'invalid' ? 1 : 0),
    badFingerprint: signals.badFingerprint + (record === 'bad_fingerprint' ? 1 : 0),
    seq,
  };
}

/** The stored form: snake_case members, as every other value of the bucket. */
export function encodeSignals(signals: OriginSignals): { records: number; invalid: number; bad_fingerprint: number; seq: number } {
  return { records: signals.records, invalid: signals.invalid, bad_fingerprint: signals.badFingerprint, seq: signals.seq };
}

export function decodeSignals(value: unknown): OriginSignals {
  const v = value as { records?: unknown; invalid?: unknown; bad_fingerprint?: unknown; seq?: unknown } | undefined;
  const n = (x: unknown) => (typeof x === 'number' && Number.isSafeInteger(x) && x >= 0 ? x : 0);
  return { records: n(v?.records), invalid: n(v?.invalid), badFingerprint: n(v?.bad_fingerprint), seq: n(v?.seq) };
}
