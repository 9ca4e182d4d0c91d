/**
 * The `kid` a record's signature names, read before verification. A service manifest's
 * required signer is the key its node had in force when it was issued, which only a
 * projection holding the node's manifests knows (apps/federation domain/node-history.ts).
 * A projection without that history verifies the signature against the key it names
 * (`nodePublicKey: () => declaredSigner(bytes)`) and leaves the key's rightfulness to
 * the registry.
 */
import { parseDetachedSignature } from './jws.ts';

/** The signer did:key, or undefined when the bytes hold no well-formed signature (verification then says why). */
export function declaredSigner(bytes: Uint8Array): string | undefined {
  try {
    const document = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8')) as { signature?: unknown };
    return typeof document.signature === 'string' ? parseDetachedSignature(document.signature).kid : undefined;
  } catch {
    return undefined;
  }
}
