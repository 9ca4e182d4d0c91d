import { describe, expect, it } from 'vitest';
import { countRecord, isFingerprintRefusal, NO_SIGNALS } from '@dmf/metadata';
import { decodeSignals, encodeSignals } from '../src/domain/origin-signals.ts';

describe('origin signals', () => {
  it('counts records, invalid ones and bad fingerprints, each sequence once', () => {
    let s = countRecord(NO_SIGNALS, 1, 'valid');
    s = countRecord(s, 2, 'invalid');
    s = countRecord(s, 3, 'bad_fingerprint');
    expect(s).toEqual({ records: 3, invalid: 1, badFingerprint: 1, seq: 3 });
    // A batch applied again after a crash: sequences already counted change nothing.
    expect(countRecord(s, 3, 'invalid')).toBe(s);
    expect(countRecord(s, 2, 'valid')).toBe(s);
  });

  it('treats every fingerprint refusal as a bad fingerprint submission, and nothing else', () => {
    expect(['fingerprint.malformed', 'fingerprint.inconsistent', 'fingerprint.duplicate_upload'].every(isFingerprintRefusal)).toBe(true);
    expect(['seq.rollback', 'manifest.owned', 'spam.tags'].some(isFingerprintRefusal)).toBe(false);
  });

  it('stores and reads back the same numbers, and reads damage as zero', () => {
    const s = { records: 7, invalid: 2, badFingerprint: 1, seq: 42 };
    expect(decodeSignals(JSON.parse(JSON.stringify(encodeSignals(s))))).toEqual(s);
    expect(decodeSignals({ records: -1, invalid: 'x' })).toEqual(NO_SIGNALS);
  });
});
