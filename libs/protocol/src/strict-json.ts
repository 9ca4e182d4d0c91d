/**
 * Strict JSON for signed documents (PROTOCOL.md section 2, value rules).
 *
 * JSON.parse does the parsing; it silently keeps the last of duplicate keys and turns
 * `1.0` or `1e2` into integers, so a small scanner over the raw text (which JSON.parse
 * has already proven well-formed) rejects those before anyone canonicalises the value.
 * assertProtocolValue checks values that never were text (built in code).
 */
import { ProtocolError } from './errors.ts';
import { formatPath, formatSegment, type PathSegment } from './json-path.ts';

/** Nesting deeper than this is refused; DMF documents are 3 levels deep. */
export const MAX_DEPTH = 32;

export interface ParseJsonOptions {
  /** Refuse inputs longer than this many bytes (UTF-8). Default: no limit. */
  maxBytes?: number;
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Parses JSON text or UTF-8 bytes and enforces the DMF value rules on the raw input:
 * unique keys, integer-only numbers (no fraction, no exponent), |n| <= 2^53 - 1,
 * no lone surrogates, nesting <= MAX_DEPTH. Throws ProtocolError (`json.*`).
 */
export function parseJson(input: string | Uint8Array, options: ParseJsonOptions = {}): unknown {
  let text: string;
  if (typeof input === 'string') {
    // UTF-8 needs at least one byte and at most three per UTF-16 unit: count only when in doubt.
    const max = options.maxBytes;
    if (max !== undefined && (input.length > max || (input.length * 3 > max && Buffer.byteLength(input) > max))) {
      throw tooLarge(max);
    }
    text = input;
  } else {
    if (options.maxBytes !== undefined && input.byteLength > options.maxBytes) throw tooLarge(options.maxBytes);
    try {
      text = utf8.decode(input);
    } catch (cause) {
      throw new ProtocolError('json.encoding', 'input is not valid UTF-8', { cause });
    }
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new ProtocolError('json.syntax', `not valid JSON (${(cause as Error).message})`, { cause });
  }
  scanRawJson(text);
  return value;
}

function tooLarge(maxBytes: number): ProtocolError {
  return new ProtocolError('json.too_large', `input is larger than ${maxBytes} bytes`);
}

interface Frame {
  /** Keys seen so far, for objects; undefined for arrays. */
  keys: Set<string> | undefined;
  /** Current member name (objects) or item index (arrays). */
  at: PathSegment;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * One pass over text that JSON.parse accepted. Tracks only what the rules need:
 * the keys of each open object, whether the next string is a key, and the path.
 */
function scanRawJson(text: string): void {
  const frames: Frame[] = [];
  let expectKey = false;
  // A quote never splits a surrogate pair, so in well-formed text without `\u` escapes
  // no string can hold a lone surrogate: most documents need no look at each string.
  const surrogatesPossible = !text.isWellFormed() || text.includes('\\u');
  const length = text.length;
  for (let i = 0; i < length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      const end = closingQuote(text, i);
      if (expectKey) {
        const frame = frames[frames.length - 1]!;
        const key = decodeKey(text, i, end);
        if (!key.isWellFormed()) {
          throw new ProtocolError('json.lone_surrogate', 'member name holds a lone UTF-16 surrogate', {
            path: pathOf(frames, key),
          });
        }
        if (frame.keys!.has(key)) {
          throw new ProtocolError('json.duplicate_key', `member ${JSON.stringify(key)} appears more than once`, {
            path: pathOf(frames, key),
          });
        }
        frame.keys!.add(key);
        frame.at = key;
        expectKey = false;
      } else if (surrogatesPossible && hasLoneSurrogate(text, i, end)) {
        throw new ProtocolError('json.lone_surrogate', 'string holds a lone UTF-16 surrogate', { path: pathOf(frames) });
      }
      i = end;
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (frames.length >= MAX_DEPTH) {
        throw new ProtocolError('json.too_deep', `nesting deeper than ${MAX_DEPTH}`, { path: pathOf(frames) });
      }
      const isObject = c === 0x7b;
      frames.push({ keys: isObject ? new Set() : undefined, at: isObject ? '' : 0 });
      expectKey = isObject;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      frames.pop();
      expectKey = false;
    } else if (c === 0x2c /* , */) {
      const frame = frames[frames.length - 1]!;
      if (frame.keys === undefined) frame.at = (frame.at as number) + 1;
      else expectKey = true;
    } else if (c === 0x2d /* - */ || (c >= 0x30 && c <= 0x39)) {
      let end = i + 1;
      let integral = true;
      for (; end < length; end++) {
        const d = text.charCodeAt(end);
        if (d >= 0x30 && d <= 0x39) continue;
        if (d === 0x2e /* . */ || d === 0x65 /* e */ || d === 0x45 /* E */ || d === 0x2b /* + */ || d === 0x2d) {
          integral = false;
          continue;
        }
        break;
      }
      const token = text.slice(i, end);
      if (!integral) {
        throw new ProtocolError('json.non_integer', `number ${token} is not an integer (no fraction or exponent allowed)`, {
          path: pathOf(frames),
        });
      }
      const digits = c === 0x2d ? token.slice(1) : token;
      if (digits.length > 16 || (digits.length === 16 && digits > '9007199254740991')) {
        throw new ProtocolError('json.unsafe_integer', `integer ${token} is outside ±(2^53 - 1)`, { path: pathOf(frames) });
      }
      i = end - 1;
    }
    // Whitespace, ':' and the letters of true/false/null need no attention.
  }
}

/** Index of the quote that closes the string opening at `start`. */
function closingQuote(text: string, start: number): number {
  let end = text.indexOf('"', start + 1);
  for (;;) {
    let backslashes = 0;
    for (let j = end - 1; text.charCodeAt(j) === BACKSLASH; j--) backslashes++;
    if (backslashes % 2 === 0) return end;
    end = text.indexOf('"', end + 1);
  }
}

function decodeKey(text: string, open: number, close: number): string {
  const raw = text.slice(open + 1, close);
  // Escapes must be resolved so that "a" and "\u0061" count as the same key.
  return raw.includes('\\') ? (JSON.parse(text.slice(open, close + 1)) as string) : raw;
}

/** A raw string can hold a lone surrogate as text or as a `\uD8xx` escape. */
function hasLoneSurrogate(text: string, open: number, close: number): boolean {
  const raw = text.slice(open + 1, close);
  if (!raw.isWellFormed()) return true;
  if (!raw.includes('\\u')) return false;
  return !(JSON.parse(text.slice(open, close + 1)) as string).isWellFormed();
}

/**
 * Path of the current position; with `key`, the path of that member of the
 * innermost object instead of its current member.
 */
function pathOf(frames: readonly Frame[], key?: string): string {
  const own = key === undefined ? frames.length : frames.length - 1;
  let out = '$';
  for (let i = 0; i < own; i++) out += formatSegment(frames[i]!.at);
  if (key !== undefined) out += formatSegment(key);
  return out;
}

/**
 * Checks an already-parsed value against the DMF value rules: only null, booleans,
 * strings without lone surrogates, safe integers, arrays and plain objects; nesting
 * <= MAX_DEPTH. Throws ProtocolError naming the path.
 */
export function assertProtocolValue(value: unknown): void {
  checkValue(value, [], 0);
}

function checkValue(value: unknown, path: PathSegment[], depth: number): void {
  switch (typeof value) {
    case 'string':
      if (!value.isWellFormed()) {
        throw new ProtocolError('json.lone_surrogate', 'string holds a lone UTF-16 surrogate', { path: formatPath(path) });
      }
      return;
    case 'boolean':
      return;
    case 'number':
      if (Number.isSafeInteger(value)) return;
      if (!Number.isFinite(value)) {
        throw new ProtocolError('json.unsupported_type', `${value} is not a JSON value`, { path: formatPath(path) });
      }
      if (!Number.isInteger(value)) {
        throw new ProtocolError('json.non_integer', `number ${value} is not an integer`, { path: formatPath(path) });
      }
      throw new ProtocolError('json.unsafe_integer', `integer ${value} is outside ±(2^53 - 1)`, { path: formatPath(path) });
    case 'object': {
      if (value === null) return;
      if (depth >= MAX_DEPTH) {
        throw new ProtocolError('json.too_deep', `nesting deeper than ${MAX_DEPTH}`, { path: formatPath(path) });
      }
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) {
          path.push(i);
          checkValue(value[i], path, depth + 1);
          path.pop();
        }
        return;
      }
      const proto = Object.getPrototypeOf(value) as unknown;
      if (proto !== Object.prototype && proto !== null) {
        const name = (value as object).constructor?.name ?? 'object';
        throw new ProtocolError('json.unsupported_type', `${name} is not a plain JSON object`, { path: formatPath(path) });
      }
      for (const key of Object.keys(value)) {
        path.push(key);
        if (!key.isWellFormed()) {
          throw new ProtocolError('json.lone_surrogate', 'member name holds a lone UTF-16 surrogate', { path: formatPath(path) });
        }
        checkValue((value as Record<string, unknown>)[key], path, depth + 1);
        path.pop();
      }
      return;
    }
    default:
      throw new ProtocolError('json.unsupported_type', `${typeof value} is not a JSON value`, { path: formatPath(path) });
  }
}

declare global {
  interface String {
    /** ES2024; present in Node >= 20. */
    isWellFormed(): boolean;
  }
}
