import { createPublicKey, sign as edSign, verify as edVerify, generateKeyPairSync } from 'node:crypto';
import { canonicalBytes, generateSigningKey, protectedHeader, signDocument, verifyBytes } from '@dmf/protocol';
import { typicalManifest } from './fixtures.ts';
import { median, rateOf } from './measure.ts';

export interface SignVerifyResult {
  documentBytes: number;
  /** Median rates over the rounds. */
  rawVerify: number;
  fullVerify: number;
  rawSign: number;
  fullSign: number;
  /** Medians of each round's full/raw: both halves of a round run back to back, so drift cancels. */
  verifyRatio: number;
  signRatio: number;
}

const b64url = (bytes: Uint8Array | string) => Buffer.from(bytes).toString('base64url');

/**
 * Per-core sign and verify throughput for a typical 1 KB content manifest, next to
 * raw node:crypto Ed25519 on the same signing input, in the same process. Rounds
 * alternate between the two so that drift (thermal, other load) hits both alike.
 */
export function benchSignVerify(options: { rounds: number; secondsPerRound: number }): SignVerifyResult {
  const key = generateSigningKey();
  const now = new Date();
  const signed = typicalManifest(key, 1, now);
  const wire = Buffer.from(JSON.stringify(signed)); // as it arrives over HTTP or the bus
  const { signature, ...unsigned } = signed as Record<string, unknown> & { signature: string };

  // The exact bytes the Ed25519 signature covers: base64url(H) "." base64url(P).
  const header = protectedHeader(key.did);
  const signingInput = Buffer.from(`${b64url(header)}.${b64url(canonicalBytes(unsigned))}`);
  const signatureBytes = Buffer.from(signature.split('..')[1] as string, 'base64url');
  const publicKey = createPublicKey({
    key: { kty: 'OKP', crv: 'Ed25519', x: b64url(key.publicKey) },
    format: 'jwk',
  });
  if (!edVerify(null, signingInput, publicKey, signatureBytes)) throw new Error('benchmark fixture does not verify');
  // Raw signing uses a key of its own: SigningKey never exposes its private half.
  const { privateKey } = generateKeyPairSync('ed25519');

  const samples = { rawVerify: [] as number[], fullVerify: [] as number[], rawSign: [] as number[], fullSign: [] as number[] };
  for (let round = 0; round < options.rounds; round++) {
    samples.rawVerify.push(rateOf(() => void edVerify(null, signingInput, publicKey, signatureBytes), options.secondsPerRound).perSecond);
    samples.fullVerify.push(rateOf(() => void verifyBytes(wire, { now }), options.secondsPerRound).perSecond);
    samples.rawSign.push(rateOf(() => void edSign(null, signingInput, privateKey), options.secondsPerRound).perSecond);
    samples.fullSign.push(rateOf(() => void signDocument(unsigned, key, { now }), options.secondsPerRound, 64).perSecond);
  }
  return {
    documentBytes: wire.length,
    rawVerify: median(samples.rawVerify),
    fullVerify: median(samples.fullVerify),
    rawSign: median(samples.rawSign),
    fullSign: median(samples.fullSign),
    verifyRatio: median(samples.fullVerify.map((f, i) => f / (samples.rawVerify[i] as number))),
    signRatio: median(samples.fullSign.map((f, i) => f / (samples.rawSign[i] as number))),
  };
}
