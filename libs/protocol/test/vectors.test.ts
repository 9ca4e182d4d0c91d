/**
 * Runs every committed test vector; any unmet expectation fails the run.
 * Cryptographic expectations are checked twice: with node:crypto (what DMF uses)
 * and with @noble/curves / @noble/hashes (an independent implementation).
 */
import { createPrivateKey, createPublicKey, sign as nodeSign, verify as nodeVerify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ed25519 } from '@noble/curves/ed25519.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { describe, expect, it } from 'vitest';
import {
  canonicalBytes,
  canonicalize,
  checkSeq,
  decodeDidKey,
  encodeDidKey,
  parseJson,
  PROTOCOL_ERROR_CODES,
  ProtocolError,
  signDocument,
  signingKeyFromSeed,
  verifyBytes,
} from '../src/mod.ts';

function load<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(`./vectors/${name}`, import.meta.url), 'utf8')) as T;
}
const hex = (value: string): Buffer => Buffer.from(value, 'hex');
const PKCS8 = '302e020100300506032b657004220420';
const SPKI = '302a300506032b6570032100';

function expectProtocolError(run: () => unknown, code: string, path: string | null): void {
  let thrown: unknown;
  try {
    run();
  } catch (error) {
    thrown = error;
  }
  expect(thrown, `expected ${code}`).toBeInstanceOf(ProtocolError);
  expect({ code: (thrown as ProtocolError).code, path: (thrown as ProtocolError).path ?? null }).toEqual({ code, path });
}

describe('RFC 8032 Ed25519 vectors', () => {
  const { vectors } = load<{ vectors: { name: string; secret_key: string; public_key: string; message: string; signature: string }[] }>(
    'ed25519-rfc8032.json',
  );
  it('has the five section 7.1 vectors', () => {
    expect(vectors.map((v) => v.name)).toEqual(['TEST 1', 'TEST 2', 'TEST 3', 'TEST 1024', 'TEST SHA(abc)']);
    expect(hex(vectors[3]!.message)).toHaveLength(1023);
  });
  it.each(vectors.map((v) => [v.name, v] as const))('%s with node:crypto', (_name, v) => {
    const privateKey = createPrivateKey({ key: hex(PKCS8 + v.secret_key), format: 'der', type: 'pkcs8' });
    const publicKey = createPublicKey({ key: hex(SPKI + v.public_key), format: 'der', type: 'spki' });
    expect(Buffer.from(createPublicKey(privateKey).export({ format: 'jwk' }).x!, 'base64url').toString('hex')).toBe(v.public_key);
    expect(nodeSign(null, hex(v.message), privateKey).toString('hex')).toBe(v.signature);
    expect(nodeVerify(null, hex(v.message), publicKey, hex(v.signature))).toBe(true);
    const tampered = hex(v.signature);
    tampered[0]! ^= 1;
    expect(nodeVerify(null, hex(v.message), publicKey, tampered)).toBe(false);
  });
  it.each(vectors.map((v) => [v.name, v] as const))('%s with @noble/curves', (_name, v) => {
    expect(bytesToHex(ed25519.getPublicKey(hex(v.secret_key)))).toBe(v.public_key);
    expect(bytesToHex(ed25519.sign(hex(v.message), hex(v.secret_key)))).toBe(v.signature);
    expect(ed25519.verify(hex(v.signature), hex(v.message), hex(v.public_key))).toBe(true);
  });
  it.each(vectors.map((v) => [v.name, v] as const))('%s through SigningKey', (_name, v) => {
    const key = signingKeyFromSeed(hex(v.secret_key));
    expect(Buffer.from(key.publicKey).toString('hex')).toBe(v.public_key);
    expect(Buffer.from(key.sign(hex(v.message))).toString('hex')).toBe(v.signature);
  });
});

describe('RFC 8785 JCS vectors', () => {
  const jcs = load<{
    objects: { name: string; input_json: string; canonical: string }[];
    numbers: { ieee754: string; canonical: string }[];
    numbers_not_serialisable: string[];
    strict_rejects: { name: string; input_json: string; code: string; path: string }[];
  }>('jcs-rfc8785.json');
  const double = (bits: string): number => hex(bits).readDoubleBE(0);

  it.each(jcs.objects.map((o) => [o.name, o] as const))('%s', (_name, o) => {
    expect(canonicalize(JSON.parse(o.input_json))).toBe(o.canonical);
  });
  it('serialises every Appendix B number', () => {
    expect(jcs.numbers).toHaveLength(24);
    for (const n of jcs.numbers) expect([n.ieee754, canonicalize(double(n.ieee754))]).toEqual([n.ieee754, n.canonical]);
  });
  it('refuses NaN and Infinity', () => {
    for (const bits of jcs.numbers_not_serialisable) expect(() => canonicalize(double(bits))).toThrow(ProtocolError);
  });
  it.each(jcs.strict_rejects.map((r) => [r.name, r] as const))('strict DMF rules: %s', (_name, r) => {
    expectProtocolError(() => parseJson(r.input_json), r.code, r.path);
  });
  it('strict canonicalBytes refuses the floats of the section 3.2.2 sample', () => {
    expectProtocolError(() => canonicalBytes(JSON.parse(jcs.objects[0]!.input_json)), 'json.non_integer', '$.numbers[0]');
  });
});

describe('did:key vectors', () => {
  const did = load<{ valid: { did: string; seed?: string; public_key: string }[]; invalid: { did: string; code: string }[] }>('did-key.json');
  it.each(did.valid.map((v) => [v.did, v] as const))('%s', (_name, v) => {
    expect(Buffer.from(decodeDidKey(v.did)).toString('hex')).toBe(v.public_key);
    expect(encodeDidKey(hex(v.public_key))).toBe(v.did);
    if (v.seed !== undefined) {
      expect(signingKeyFromSeed(hex(v.seed)).did).toBe(v.did);
      expect(bytesToHex(ed25519.getPublicKey(hex(v.seed)))).toBe(v.public_key);
    }
  });
  it.each(did.invalid.map((v) => [v.did, v] as const))('refuses %s', (_name, v) => {
    expectProtocolError(() => decodeDidKey(v.did), v.code, null);
  });
});

interface DmfVectors {
  keys: Record<string, { label: string; seed: string; did: string }>;
  valid: {
    name: string;
    note?: string;
    kind: string;
    now: string;
    node_public_keys: Record<string, string>;
    signer: string;
    document: Record<string, unknown> & { signature: string };
    payload_jcs: string;
    protected_header_jcs: string;
    signing_input: string;
    signature: string;
    whole_jcs: string;
    record_id: string;
  }[];
  invalid: {
    name: string;
    code: string;
    path: string | null;
    input?: string;
    input_hex?: string;
    now?: string;
    node_public_keys?: Record<string, string>;
    max_bytes?: number;
    current_seq?: number;
  }[];
}

describe('DMF document vectors', () => {
  const dmf = load<DmfVectors>('dmf-documents.json');
  const DEFAULT_NOW = dmf.valid[0]!.now;

  it('key seeds are SHA-256 of their labels and match their DIDs', () => {
    for (const entry of Object.values(dmf.keys)) {
      expect(bytesToHex(sha256(Buffer.from(entry.label, 'utf8')))).toBe(entry.seed);
      expect(encodeDidKey(ed25519.getPublicKey(hex(entry.seed)))).toBe(entry.did);
    }
  });

  it('has a valid vector for every kind', () => {
    expect([...new Set(dmf.valid.map((v) => v.kind))].sort()).toEqual(
      [
        'category_snapshot',
        'content_manifest',
        'erasure_group',
        'governance_report',
        'node_attestation',
        'node_manifest',
        'node_report',
        'repair_task',
        'service_manifest',
        'shard_report',
      ],
    );
  });

  it('the Unicode category snapshot is in UTF-8 byte order, which is not UTF-16 order', () => {
    const v = dmf.valid.find((x) => x.name === 'valid category_snapshot: categories in UTF-8 byte order')!;
    const names = (v.document['categories'] as { category: string }[]).map((c) => c.category);
    const byUtf8 = [...names].sort((a, b) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')));
    expect(names).toEqual(byUtf8);
    expect(new Set(names).size).toBe(names.length);
    expect([...names].sort()).not.toEqual(names);
  });

  it.each(dmf.valid.map((v) => [v.name, v] as const))('%s', (_name, v) => {
    const seed = Object.values(dmf.keys).find((k) => k.did === v.signer)!.seed;
    const { signature, ...unsigned } = v.document;
    // Canonical forms, independently of our canonicaliser's signed-document path.
    expect(canonicalize(unsigned)).toBe(v.payload_jcs);
    expect(canonicalize(v.document)).toBe(v.whole_jcs);
    expect(v.protected_header_jcs).toBe(`{"alg":"EdDSA","kid":"${v.signer}"}`);
    const b64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64url');
    expect(v.signing_input).toBe(`${b64(v.protected_header_jcs)}.${b64(v.payload_jcs)}`);
    // Ed25519 is deterministic: the same key and payload give the same signature.
    const sig = ed25519.sign(Buffer.from(v.signing_input, 'latin1'), hex(seed));
    expect(`${b64(v.protected_header_jcs)}..${Buffer.from(sig).toString('base64url')}`).toBe(v.signature);
    expect(signature).toBe(v.signature);
    expect(bytesToHex(sha256(Buffer.from(v.whole_jcs, 'utf8')))).toBe(v.record_id);
    // Our implementation agrees end to end.
    const options = { now: new Date(v.now), nodePublicKey: (id: string) => v.node_public_keys[id] };
    const record = verifyBytes(JSON.stringify(v.document), options);
    expect({ kind: record.kind, id: record.id, signer: record.signer }).toEqual({ kind: v.kind, id: v.record_id, signer: v.signer });
    const resigned = signDocument(v.document, signingKeyFromSeed(hex(seed)), options);
    expect(resigned.signature).toBe(v.signature);
  });

  it.each(dmf.invalid.map((v) => [v.name, v] as const))('refuses: %s', (_name, v) => {
    const raw = v.input_hex !== undefined ? hex(v.input_hex) : v.input!;
    const options = {
      now: new Date(v.now ?? DEFAULT_NOW),
      nodePublicKey: (id: string) => (v.node_public_keys ?? {})[id],
      ...(v.max_bytes === undefined ? {} : { maxBytes: v.max_bytes }),
    };
    expectProtocolError(() => {
      const record = verifyBytes(raw, options);
      // Rollback vectors are valid documents refused against a known current seq.
      if (v.current_seq !== undefined) checkSeq(v.current_seq, (record.document as { seq: number }).seq);
    }, v.code, v.path);
  });

  it('covers every error code that bytes can reach', () => {
    const covered = new Set(dmf.invalid.map((v) => v.code));
    // json.unsupported_type needs a non-JSON value (undefined, a function): API-only.
    const reachable = PROTOCOL_ERROR_CODES.filter((code) => code !== 'json.unsupported_type');
    expect(reachable.filter((code) => !covered.has(code))).toEqual([]);
    expect([...covered].filter((code) => !(PROTOCOL_ERROR_CODES as readonly string[]).includes(code))).toEqual([]);
  });
});

/**
 * The two valid vectors that tell RFC 8785 from serialisers that look like it. Their
 * canonical bytes are checked against hand-written fragments and a small serialiser
 * written here from the RFC's text (not our canonicaliser), and each look-alike
 * serialiser is shown to produce other bytes, on which the signature fails.
 */
describe('JCS look-alikes fail the Unicode vectors', () => {
  const dmf = load<DmfVectors>('dmf-documents.json');
  const text = dmf.valid.find((v) => v.name === 'valid content_manifest: text JCS copies as is')!;
  const caps = dmf.valid.find((v) => v.name === 'valid node_manifest: capabilities in UTF-16 order, control characters escaped')!;
  const utf8 = (s: string): string => Buffer.from(s, 'utf8').toString('hex');

  it('the text vector keeps HTML characters, "/", non-ASCII and U+2028/U+2029 as they are', () => {
    const title = String.raw`"title":"Tom & Jerry <live> \"quoted\" back\\slash / café 東京 🎵` + '\u2028next\u2029para"';
    const description =
      String.raw`"description":"Line one\tcolumn two\nLine two: <b>&amp;</b> \"q\" \\ é 東京 🎵` + '\u2028sep\u2029para\u0085nel / end"';
    expect(text.payload_jcs).toContain(title);
    expect(text.payload_jcs).toContain(description);
    // The same characters as UTF-8 bytes, written out by hand: é, 東, 京, 🎵 (one 4-byte sequence), U+2028, U+2029, U+0085.
    const bytes = utf8(text.payload_jcs);
    for (const piece of ['c3a9', 'e69db1', 'e4baac', 'f09f8eb5', 'e280a8', 'e280a9', 'c285']) expect(bytes).toContain(piece);
    expect(bytes).not.toContain('eda0bd'); // no CESU-8 surrogate halves
    // 32 emoji: 64 UTF-16 code units, the tag limit.
    expect(text.document['tags']).toContain('\u{1F3B5}'.repeat(32));
    expect(('\u{1F3B5}'.repeat(32)).length).toBe(64);
  });

  it('the capabilities vector orders names by UTF-16 code units and escapes control characters as RFC 8785 says', () => {
    // Hand-reasoned order of the capability names by UTF-16 code units:
    // "Zone" (5A) < "controls" (63) < "jetstream_domain" (6A) < "limits" (6C) < "region" (72)
    // < "é" (E9) < "😀" (D83D DE00) < U+E000 (E000) < U+FF61 (FF61).
    // By code points (or UTF-8 bytes) U+1F600 would come last instead.
    const order = ['Zone', 'controls', 'jetstream_domain', 'limits', 'region', '\u00e9', '\u{1F600}', '\ue000', '\uff61'];
    const positions = order.map((name) => caps.payload_jcs.indexOf(`"${name}":`));
    expect(positions.every((at) => at > 0)).toBe(true);
    expect(positions).toEqual([...positions].sort((a, b) => a - b));
    expect(caps.payload_jcs).toContain(
      String.raw`"limits":{"largest":9007199254740991,"max_chunks":4096,"max_upload_bytes":10485760,"smallest":-9007199254740991}`,
    );
    expect(caps.payload_jcs).toContain(String.raw`"controls":"\u0000\b\f\r\u000b\u001f` + '\u007f"');
  });

  // A JSON serialiser written from RFC 8785 section 3.2.2.2 and 3.2.3, with the knobs
  // look-alike serialisers turn differently.
  interface Style {
    /** How member names are ordered. */
    order: 'utf16' | 'codepoint' | 'caseless';
    /** A different spelling for one character, or undefined for the RFC's. */
    escape?: (ch: string) => string | undefined;
  }
  const SHORT: Record<number, string> = { 0x08: '\\b', 0x09: '\\t', 0x0a: '\\n', 0x0c: '\\f', 0x0d: '\\r' };
  const u = (code: number, upper = false): string => {
    const digits = code.toString(16).padStart(4, '0');
    return `\\u${upper ? digits.toUpperCase() : digits}`;
  };
  function quote(s: string, style: Style): string {
    let out = '"';
    for (const ch of s) {
      const own = style.escape?.(ch);
      const code = ch.codePointAt(0)!;
      if (own !== undefined) out += own;
      else if (ch === '"' || ch === '\\') out += `\\${ch}`;
      else if (SHORT[code] !== undefined) out += SHORT[code];
      else if (code < 0x20) out += u(code);
      else out += ch;
    }
    return `${out}"`;
  }
  function compareUtf16(a: string, b: string): number {
    for (let i = 0; i < Math.min(a.length, b.length); i++) {
      if (a.charCodeAt(i) !== b.charCodeAt(i)) return a.charCodeAt(i) - b.charCodeAt(i);
    }
    return a.length - b.length;
  }
  function compareCodePoints(a: string, b: string): number {
    const x = [...a].map((c) => c.codePointAt(0)!);
    const y = [...b].map((c) => c.codePointAt(0)!);
    for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
    return x.length - y.length;
  }
  function serialise(value: unknown, style: Style): string {
    if (typeof value === 'string') return quote(value, style);
    if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
    if (Array.isArray(value)) return `[${value.map((item) => serialise(item, style)).join(',')}]`;
    const object = value as Record<string, unknown>;
    const compare = { utf16: compareUtf16, codepoint: compareCodePoints, caseless: (a: string, b: string) => compareUtf16(a.toLowerCase(), b.toLowerCase()) };
    const names = Object.keys(object).sort(compare[style.order]);
    return `{${names.map((name) => `${quote(name, style)}:${serialise(object[name], style)}`).join(',')}}`;
  }
  const payloadOf = (v: DmfVectors['valid'][number], style: Style): string => {
    const { signature: _signature, ...unsigned } = v.document;
    return serialise(unsigned, style);
  };
  const verifiesWith = (v: DmfVectors['valid'][number], payload: string): boolean => {
    const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64url');
    const input = Buffer.from(`${b64(v.protected_header_jcs)}.${b64(payload)}`, 'latin1');
    const signature = Buffer.from(v.signature.split('..')[1]!, 'base64url');
    return ed25519.verify(signature, input, decodeDidKey(v.signer));
  };

  it('the serialiser written from the RFC gives the vectors\' bytes, and they verify with @noble/curves', () => {
    for (const v of dmf.valid) {
      const payload = payloadOf(v, { order: 'utf16' });
      expect([v.name, payload === v.payload_jcs, verifiesWith(v, payload)]).toEqual([v.name, true, true]);
    }
  });

  const htmlSafe: Record<string, string> = { '&': '\\u0026', '<': '\\u003c', '>': '\\u003e', '\u2028': '\\u2028', '\u2029': '\\u2029' };
  const lookAlikes: [string, Style, typeof text][] = [
    ['HTML-escaping (Go json.Marshal)', { order: 'utf16', escape: (ch) => htmlSafe[ch] }, text],
    [
      'ASCII-only (Python ensure_ascii)',
      { order: 'utf16', escape: (ch) => (ch.codePointAt(0)! > 0x7e ? [...ch].map((_, i) => u(ch.charCodeAt(i))).join('') : undefined) },
      text,
    ],
    ['"/" escaped as "\\/" (PHP json_encode)', { order: 'utf16', escape: (ch) => (ch === '/' ? '\\/' : undefined) }, text],
    ['member names in code-point (or UTF-8 byte) order', { order: 'codepoint' }, caps],
    ['member names sorted ignoring case', { order: 'caseless' }, caps],
    ['uppercase hex in \\u escapes', { order: 'utf16', escape: (ch) => (ch.codePointAt(0)! < 0x20 && SHORT[ch.codePointAt(0)!] === undefined ? u(ch.codePointAt(0)!, true) : undefined) }, caps],
    ['\\u0008 and \\u000c instead of \\b and \\f', { order: 'utf16', escape: (ch) => (ch === '\b' || ch === '\f' ? u(ch.charCodeAt(0)) : undefined) }, caps],
    ['DEL escaped as \\u007f', { order: 'utf16', escape: (ch) => (ch === '\u007f' ? u(0x7f) : undefined) }, caps],
  ];
  it.each(lookAlikes)('%s gives other bytes, and the signature fails on them', (_name, style, v) => {
    const payload = payloadOf(v, style);
    expect(payload).not.toBe(v.payload_jcs);
    expect(verifiesWith(v, payload)).toBe(false);
  });
});
