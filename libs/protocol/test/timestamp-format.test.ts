/**
 * isTimestamp counts the days of the month instead of a Date round trip (formats.ts);
 * these tests hold it to the round trip it replaced.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isTimestamp } from '../src/mod.ts';
import { TIMESTAMP_PATTERN } from '../src/formats.ts';

/** The check as it was: the pattern, then Date.parse and back. */
function isTimestampByDate(value: string): boolean {
  if (!new RegExp(TIMESTAMP_PATTERN).test(value)) return false;
  const ms = Date.parse(value);
  return !Number.isNaN(ms) && new Date(ms).toISOString() === value;
}

const pad = (n: number, width: number) => String(n).padStart(width, '0');

describe('isTimestamp', () => {
  it('agrees with the Date round trip on the last days of every month of every year', () => {
    const differences: string[] = [];
    for (let year = 0; year <= 9999; year++) {
      for (let month = 1; month <= 12; month++) {
        for (const day of [28, 29, 30, 31]) {
          const value = `${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)}T23:59:59.999Z`;
          if (isTimestamp(value) !== isTimestampByDate(value)) differences.push(value);
        }
      }
    }
    expect(differences).toEqual([]);
    expect(isTimestamp('2000-02-29T00:00:00.000Z')).toBe(true);
    expect(isTimestamp('1900-02-29T00:00:00.000Z')).toBe(false);
    expect(isTimestamp('2026-04-31T00:00:00.000Z')).toBe(false);
  });

  it('agrees with the Date round trip on any fields and on malformed strings', () => {
    const fields = fc.tuple(
      fc.integer({ min: 0, max: 9999 }),
      fc.integer({ min: 0, max: 13 }),
      fc.integer({ min: 0, max: 32 }),
      fc.integer({ min: 0, max: 24 }),
      fc.integer({ min: 0, max: 60 }),
      fc.integer({ min: 0, max: 60 }),
      fc.integer({ min: 0, max: 999 }),
    );
    const wellShaped = fields.map(([y, mo, d, h, mi, s, ms]) => `${pad(y, 4)}-${pad(mo, 2)}-${pad(d, 2)}T${pad(h, 2)}:${pad(mi, 2)}:${pad(s, 2)}.${pad(ms, 3)}Z`);
    fc.assert(
      fc.property(fc.oneof(wellShaped, fc.string({ maxLength: 30 })), (value) => {
        expect(isTimestamp(value)).toBe(isTimestampByDate(value));
      }),
      { numRuns: 5000 },
    );
  });
});
