/**
 * String formats of the wire format. Regular expressions are exported as JSON Schema
 * `pattern`s (portable to any validator); what needs code (decoding a did:key, a real
 * calendar date, URL parsing) is a TypeBox format, registered here under `dmf-*`.
 */
import { FormatRegistry } from '@sinclair/typebox';
import { isDidKey } from './did-key.ts';
import { isCachedDid } from './public-key-cache.ts';

/** RFC 3339 UTC with milliseconds and `Z`: `2026-11-28T17:00:00.000Z`. */
export const TIMESTAMP_PATTERN = '^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]\\.[0-9]{3}Z$';
/** Lowercase RFC 9562 UUID (versions 1-8, variant 10xx): one spelling per id. */
export const UUID_PATTERN = '^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$';
/** Semantic Versioning 2.0.0 (the regular expression suggested by semver.org). */
export const SEMVER_PATTERN =
  '^(0|[1-9][0-9]*)\\.(0|[1-9][0-9]*)\\.(0|[1-9][0-9]*)(?:-((?:0|[1-9][0-9]*|[0-9]*[a-zA-Z-][0-9a-zA-Z-]*)(?:\\.(?:0|[1-9][0-9]*|[0-9]*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\\+([0-9a-zA-Z-]+(?:\\.[0-9a-zA-Z-]+)*))?$';
/**
 * CIDv1, raw codec (0x55), sha2-256 multihash, in its canonical string form
 * (multibase base32 lower, prefix `b`). The bytes are 01 55 12 20 ‖ 32-byte digest,
 * so the text is exactly: `bafkrei`, a character carrying two zero bits of the
 * 0x20 length byte (a-h), 50 free characters, and a last character whose two unused
 * low bits are zero. A test checks this against multiformats' CID.parse.
 */
export const CID_RAW_SHA256_PATTERN = '^bafkrei[a-h][a-z2-7]{50}[aeimquy4]$';
/** Ed25519 did:key shape; the `dmf-did-key` format then decodes it. */
export const DID_KEY_PATTERN = '^did:key:z6Mk[1-9A-HJ-NP-Za-km-z]{44,45}$';
/**
 * The regular-expression part of `dmf-https-url`: `https://`, a first character that
 * starts a host (not `/`, `?`, `#` or `\`), and nowhere a control character, space,
 * DEL or backslash (spellings the WHATWG URL parser would silently rewrite).
 */
export const HTTPS_URL_PATTERN = '^https://[^/?#\\\\\\u0000-\\u0020\\u007f][^\\\\\\u0000-\\u0020\\u007f]*$';
/** Lowercase hex SHA-256, e.g. a record id. */
export const SHA256_HEX_PATTERN = '^[0-9a-f]{64}$';
/** Service and node-role names: `metadata_index`, `storage_coord`, ... */
export const TOKEN_PATTERN = '^[a-z][a-z0-9_]{1,31}$';
/** One line of text: no C0 control characters, no DEL. */
export const LINE_PATTERN = '^[^\\u0000-\\u001f\\u007f]*$';
/** Multi-line text: like LINE_PATTERN but tab and line feed are allowed. */
export const TEXT_PATTERN = '^[^\\u0000-\\u0008\\u000b-\\u001f\\u007f]*$';
/** BCP 47-ish language tag: `en`, `pt-BR`, `zh-Hant-TW`. */
export const LANGUAGE_PATTERN = '^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$';
/** Media type without parameters: `audio/ogg`. */
export const MIME_PATTERN = '^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$';
/** Region names: `eu-west`, `us-east-1`. */
export const REGION_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$';
/** JetStream domain names (no dots, no spaces). */
export const JETSTREAM_DOMAIN_PATTERN = '^[A-Za-z0-9_-]{1,64}$';

const timestampRe = new RegExp(TIMESTAMP_PATTERN);
const httpsUrlRe = new RegExp(HTTPS_URL_PATTERN);

/** A syntactically valid timestamp that is also a real calendar date (no 30 February). */
export function isTimestamp(value: string): boolean {
  // The pattern bounds every field (years 0000-9999, hours 00-23, ...): only the day can
  // be past the end of its month. Counting days is cheaper than a Date round trip, and
  // agrees with it (a test compares them over every year).
  if (!timestampRe.test(value)) return false;
  return digitsAt(value, 8, 2) <= daysInMonth(digitsAt(value, 0, 4), digitsAt(value, 5, 2));
}

/** The number that `length` ASCII digits at `start` spell. */
function digitsAt(text: string, start: number, length: number): number {
  let n = 0;
  for (let i = start; i < start + length; i++) n = n * 10 + text.charCodeAt(i) - 0x30;
  return n;
}

/** Days of a month (1-12) in the proleptic Gregorian calendar. */
function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** An absolute https URL without credentials and without characters the URL parser would drop. */
export function isHttpsUrl(value: string): boolean {
  // The WHATWG parser forgives a lot (`https:///host`, backslashes, tabs): refuse the
  // spellings it would rewrite, so the signed string is the URL that gets used.
  if (!httpsUrlRe.test(value)) return false;
  try {
    const url = new URL(value);
    return url.protocol === 'https:' && url.hostname !== '' && url.username === '' && url.password === '';
  } catch {
    return false;
  }
}

/**
 * What each `dmf-*` format checks, in words other implementations can follow; the
 * exported JSON Schema files carry these as `$comment`. Each format's value also has
 * to match the `pattern` beside it, which the text does not repeat.
 */
export const FORMAT_RULES: Readonly<Record<string, string>> = {
  'dmf-did-key':
    'format dmf-did-key: besides the pattern, base58btc-decoding (Bitcoin alphabet) the characters after "did:key:z" gives exactly 34 bytes, the first two 0xed 0x01 (multicodec ed25519-pub), the other 32 the Ed25519 public key. The key is not checked to be a valid curve point here; the signature check does that for the kid.',
  'dmf-timestamp':
    'format dmf-timestamp: besides the pattern (YYYY-MM-DDTHH:MM:SS.sssZ, UTC, exactly three fraction digits, uppercase T and Z, no leap second), the date exists in the proleptic Gregorian calendar: no 30 February, 29 February only in leap years.',
  'dmf-https-url':
    'format dmf-https-url: besides the pattern, the WHATWG URL parser (https://url.spec.whatwg.org/) parses the string with scheme https, a non-empty host, an empty username and an empty password. The string is not normalised: what is signed is what is used.',
};

/** Formats used by the schemas; register them with any validator that compiles the schemas. */
export const PROTOCOL_FORMATS: Readonly<Record<string, (value: string) => boolean>> = {
  'dmf-did-key': (value) => isCachedDid(value) || isDidKey(value),
  'dmf-timestamp': isTimestamp,
  'dmf-https-url': isHttpsUrl,
};

for (const [name, check] of Object.entries(PROTOCOL_FORMATS)) FormatRegistry.Set(name, check);

/** Milliseconds to the RFC 3339 form used on the wire. */
export function formatTimestamp(date: Date): string {
  return date.toISOString();
}
