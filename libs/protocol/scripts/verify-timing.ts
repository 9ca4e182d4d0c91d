/**
 * Quick local timing check (not a test): full verification of a typical 1 KB
 * content manifest from bytes, against raw node:crypto Ed25519 verify of the same
 * signing input. Run: npx tsx libs/protocol/scripts/verify-timing.ts
 */
import { createPublicKey, verify } from 'node:crypto';
import { signDocument, verifyBytes } from '../src/mod.ts';
import { contentManifest, keys, NOW } from '../test/fixtures.ts';

const signed = signDocument(contentManifest(), keys.creator, { now: NOW });
const bytes = Buffer.from(JSON.stringify(signed), 'utf8');
const [header, , signature] = signed.signature.split('.');
const input = Buffer.from(`${header}.${Buffer.from(JSON.stringify(signed)).toString('base64url')}`);
const sigBytes = Buffer.from(signature!, 'base64url');
const publicKey = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(keys.creator.publicKey).toString('base64url') }, format: 'jwk' });

function rate(run: () => void, ms: number): number {
  const end = performance.now() + ms;
  let n = 0;
  const start = performance.now();
  while (performance.now() < end) {
    for (let i = 0; i < 100; i++) run();
    n += 100;
  }
  return (n / (performance.now() - start)) * 1000;
}

const options = { now: NOW };
rate(() => verifyBytes(bytes, options), 500);
rate(() => verify(null, input, publicKey, sigBytes), 500);
const results: number[] = [];
for (let round = 0; round < 3; round++) {
  const raw = rate(() => verify(null, input, publicKey, sigBytes), 1500);
  const full = rate(() => verifyBytes(bytes, options), 1500);
  results.push(full / raw);
  console.log(`document ${bytes.length} B: raw verify ${raw.toFixed(0)}/s, full verifyBytes ${full.toFixed(0)}/s, ratio ${(full / raw * 100).toFixed(1)}%`);
}
console.log(`median ratio ${(results.sort()[1]! * 100).toFixed(1)}%`);
