import { readFile, writeFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { signDocument, verifyDocument, type SigningKey } from '@dmf/protocol';

/** How long a node manifest is valid, and when before expiry it is re-signed. */
export const NODE_MANIFEST_VALIDITY_MS = 7 * 86_400_000;
export const NODE_MANIFEST_RENEW_BEFORE_MS = 86_400_000;

export interface NodeManifestContent {
  services: string[];
  region: string;
  jetstreamDomain: string;
  /** Operator token of this node's ORIGIN stream (capability `origin_operator`): what peers source. */
  originOperator: string;
  mirrors: string[];
  version: string;
}

type Document = Record<string, unknown>;

/** The node manifest's members that are its content, i.e. all but the version bookkeeping. */
export function manifestBody(key: SigningKey, content: NodeManifestContent): Document {
  return {
    kind: 'node_manifest',
    node_id: key.did,
    services: [...content.services],
    capabilities: { region: content.region, jetstream_domain: content.jetstreamDomain, origin_operator: content.originOperator },
    public_key: key.did,
    mirrors: [...content.mirrors],
    version: content.version,
  };
}

function bodyOf(manifest: Document): Document {
  const { seq: _seq, issued_at: _issued, expires_at: _expires, signature: _signature, ...body } = manifest;
  return body;
}

/**
 * Decides whether the previous version of a signed, expiring document can still be
 * served: same content (`body`), and not within the renewal window. Otherwise the next
 * version is signed with `seq` one higher, so peers never see a rollback. Pure.
 */
export function nextSignedVersion(previous: Document | undefined, body: Document, key: SigningKey, now: Date): Document {
  if (previous) {
    const expiresAt = Date.parse(String(previous.expires_at));
    const fresh = expiresAt - now.getTime() > NODE_MANIFEST_RENEW_BEFORE_MS;
    if (fresh && isDeepStrictEqual(bodyOf(previous), body)) return previous;
  }
  const seq = typeof previous?.seq === 'number' ? previous.seq + 1 : 1;
  return signDocument(
    { ...body, seq, issued_at: now.toISOString(), expires_at: new Date(now.getTime() + NODE_MANIFEST_VALIDITY_MS).toISOString() },
    key,
    { now },
  ) as Document;
}

/** A document of `kind` this node signed that verifies (as of its own issued_at), or undefined. */
export function ownDocument(candidate: unknown, key: SigningKey, kind: string): Document | undefined {
  try {
    const document = candidate as Document;
    verifyDocument(document, { now: new Date(Date.parse(String(document.issued_at))), nodePublicKey: () => key.did });
    return document.kind === kind && document.node_id === key.did ? document : undefined;
  } catch {
    return undefined;
  }
}

/** Writes a JSON file atomically (a crash leaves the old or the new one, never half). */
export async function saveJson(file: string, value: unknown): Promise<void> {
  await writeFile(`${file}.tmp`, `${JSON.stringify(value, null, 2)}\n`);
  await rename(`${file}.tmp`, file);
}

/**
 * Signs the next node manifest if needed and saves it. The previous version is the
 * newer of the copy saved in the data folder and `published` (the last one in this
 * operator's ORIGIN stream), so a lost or damaged file never makes `seq` go back.
 */
export function nextManifest(previous: Document | undefined, key: SigningKey, content: NodeManifestContent, now: Date): Document {
  return nextSignedVersion(previous, manifestBody(key, content), key, now);
}

export async function refreshNodeManifest(
  dataDir: string,
  key: SigningKey,
  content: NodeManifestContent,
  now = new Date(),
  published?: unknown,
): Promise<Document> {
  const file = join(dataDir, 'node-manifest.json');
  let stored: unknown;
  try {
    stored = JSON.parse(await readFile(file, 'utf8'));
  } catch {
    stored = undefined; // absent or damaged
  }
  const candidates = [ownDocument(stored, key, 'node_manifest'), ownDocument(published, key, 'node_manifest')].filter((d): d is Document => d !== undefined);
  const previous = candidates.sort((a, b) => Number(b.seq) - Number(a.seq))[0];
  const manifest = nextManifest(previous, key, content, now);
  if (manifest !== stored) await saveJson(file, manifest);
  return manifest;
}
