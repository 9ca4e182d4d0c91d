import { describe, expect, it } from 'vitest';
import { canonicalBytes, declaredSigner, generateSigningKey, signDocument } from '@dmf/protocol';

describe('declaredSigner', () => {
  it('reads the kid of a signed document without verifying it', () => {
    const key = generateSigningKey();
    const signed = signDocument({ kind: 'node_report', reporter: key.did, subject: generateSigningKey().did, reason: 'unavailable', evidence: ['a'.repeat(64)] }, key);
    expect(declaredSigner(canonicalBytes(signed))).toBe(key.did);
    // A tampered member does not change what the signature claims (verification will refuse it).
    const tampered = canonicalBytes({ ...signed, reason: 'manifest_churn' });
    expect(declaredSigner(tampered)).toBe(key.did);
  });

  it('is undefined when there is no well-formed signature to read', () => {
    expect(declaredSigner(new TextEncoder().encode('not json'))).toBeUndefined();
    expect(declaredSigner(new TextEncoder().encode('{"kind":"node_report"}'))).toBeUndefined();
    expect(declaredSigner(new TextEncoder().encode('{"signature":"abc..def"}'))).toBeUndefined();
  });
});

describe('verifyBytes with reportCanonical', () => {
  it('says whether the bytes are exactly the canonical form, and nothing without the option', async () => {
    const { verifyBytes } = await import('@dmf/protocol');
    const key = generateSigningKey();
    const signed = signDocument({ kind: 'node_report', reporter: key.did, subject: generateSigningKey().did, reason: 'unavailable', evidence: ['a'.repeat(64)] }, key);
    const canonical = canonicalBytes(signed);
    expect(verifyBytes(canonical, { reportCanonical: true }).canonical).toBe(true);
    const reordered = new TextEncoder().encode(JSON.stringify(Object.fromEntries(Object.entries(signed).reverse())));
    expect(verifyBytes(reordered, { reportCanonical: true })).toMatchObject({ canonical: false, id: verifyBytes(canonical).id });
    const spaced = new TextEncoder().encode(JSON.stringify(signed, null, 1));
    expect(verifyBytes(spaced, { reportCanonical: true }).canonical).toBe(false);
    expect(verifyBytes(canonical).canonical).toBeUndefined();
  });
});
