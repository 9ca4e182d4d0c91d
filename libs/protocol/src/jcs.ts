/**
 * JSON Canonicalization Scheme (RFC 8785).
 *
 * The general canonicaliser is the `canonicalize` package (maintained by RFC 8785's
 * authors). DMF values are a subset (integers only), checked first by canonicalBytes.
 */
import serialize from 'canonicalize';
import { ProtocolError } from './errors.ts';
import { assertProtocolValue } from './strict-json.ts';

/**
 * RFC 8785 canonical form of any JSON value, floats included (ES6 number
 * serialisation). For DMF documents use canonicalBytes, which applies the value rules.
 */
export function canonicalize(value: unknown): string {
  let text: string | undefined;
  try {
    text = serialize(value);
  } catch (cause) {
    throw new ProtocolError('json.unsupported_type', (cause as Error).message, { path: '$', cause });
  }
  if (text === undefined) throw new ProtocolError('json.unsupported_type', `${typeof value} is not a JSON value`, { path: '$' });
  return text;
}

/** UTF-8 bytes of the JCS form of a value that obeys the DMF value rules (checked). */
export function canonicalBytes(value: unknown): Uint8Array {
  assertProtocolValue(value);
  return Buffer.from(canonicalize(value), 'utf8');
}

/**
 * The two canonical texts a signed document needs, from one pass over its members:
 * `payload` without `signature` (what is signed) and `whole` with it (what the record
 * id hashes). JCS sorts members by UTF-16 code units, which is what Array#sort does.
 * The value must already have passed assertProtocolValue.
 */
export function canonicalizeSigned(document: Record<string, unknown>): { payload: string; whole: string } {
  const keys = Object.keys(document).sort();
  let payload = '{';
  let whole = '{';
  for (const key of keys) {
    const member = `${JSON.stringify(key)}:${serialize(document[key])!}`;
    whole += whole.length === 1 ? member : `,${member}`;
    if (key !== 'signature') payload += payload.length === 1 ? member : `,${member}`;
  }
  return { payload: `${payload}}`, whole: `${whole}}` };
}
