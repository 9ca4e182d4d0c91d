import { isTimestamp } from '@dmf/protocol';
import { CliError, EXIT } from './exit-codes.ts';

/** An RFC 3339 UTC time with milliseconds, as PROTOCOL.md section 3 requires. */
export function parseTimestamp(flag: string, raw: string): Date {
  if (!isTimestamp(raw)) {
    throw new CliError(`${flag}: ${JSON.stringify(raw)} is not an RFC 3339 UTC time with milliseconds, like 2026-11-28T17:00:00.000Z`, EXIT.usage);
  }
  return new Date(raw);
}

export function parseSeq(flag: string, raw: string): number {
  const value = Number(raw);
  if (!/^[1-9]\d*$/.test(raw) || !Number.isSafeInteger(value)) {
    throw new CliError(`${flag}: ${JSON.stringify(raw)} is not an integer >= 1`, EXIT.usage);
  }
  return value;
}

const UNITS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `90s`, `30m`, `12h`, `7d` → milliseconds. */
export function parseDuration(flag: string, raw: string): number {
  const match = /^([1-9]\d{0,5})([smhd])$/.exec(raw);
  if (!match) throw new CliError(`${flag}: ${JSON.stringify(raw)} is not a duration like 90s, 30m, 12h or 7d`, EXIT.usage);
  return Number(match[1]) * (UNITS[match[2] as string] as number);
}
