import { readFile, writeFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { declaredSigner, canonicalBytes, signDocument, verifyDocument, type SigningKey } from '@dmf/protocol';

/** How long a node manifest is valid, and when before expiry it is re-signed. */
export const NODE_MANIFEST_VALIDITY_MS = 7 * 86_400_000;
export const NODE_MANIFEST_RENEW_BEFORE_MS = 86_400_000;

export interface NodeManifestContent {
  services: string[];
  region: string;
  /** JetStream domain of a node that federates over NATS (a storage agent has none). */
  jetstreamDomain?: string;
  /** Operator token of this node's ORIGIN stream (capability `origin_operator`): what peers source. */
  originOperator?: string;
  /** More capabilities (e.g. a storage agent's `storage: { capacity_bytes }`). */
  capabilities?: Record<string, unknown>;
  mirrors: string[];
  version: string;
}

type Document = Record<string, unknown>;

/**
 * The keys behind a node's manifests (PROTOCOL.md 4): `node` is its identity (node_id,
 * signs attestations and reports); `manifest` signs its node manifests (the operator's
 * key when the operator signs, else the node key); `service` is the manifest's
 * `public_key` and signs its service manifests, so it can be rotated without changing
 * the node's identity.
 */
export interface NodeSigners {
  node: SigningKey;
  manifest: SigningKey;
  service: SigningKey;
}

/** The node manifest's members that are its content, i.e. all but the version bookkeeping. */
export function manifestBody(signers: NodeSigners, content: NodeManifestContent): Document {
  return {
    kind: 'node_manifest',
    node_id: signers.node.did,
    ...(signers.manifest.did !== signers.node.did ? { operator: signers.manifest.did } : {}),
    services: [...content.services],
    capabilities: {
      ...content.capabilities,
      region: content.region,
      ...(content.jetstreamDomain === undefined ? {} : { jetstream_domain: content.jetstreamDomain }),
      ...(content.originOperator === undefined ? {} : { origin_operator: content.originOperator }),
    },
    public_key: signers.service.did,
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
    // A rotated key re-signs even an unchanged body: what is served must be signed by the key in force.
    const sameSigner = declaredSigner(canonicalBytes(previous)) === key.did;
    if (fresh && sameSigner && isDeepStrictEqual(bodyOf(previous), body)) return previous;
  }
  const seq = typeof previous?.seq === 'number' ? previous.seq + 1 : 1;
  return signDocument(
    { ...body, seq, issued_at: now.toISOString(), expires_at: new Date(now.getTime() + NODE_MANIFEST_VALIDITY_MS).toISOString() },
    key,
    { now },
  ) as Document;
}

/**
 * A document of `kind` about node `nodeId` that verifies (as of its own issued_at), or
 * undefined. A service manifest is checked against the key it names: one signed by a
 * key since rotated is still this node's earlier version (its `service_id` and `seq` carry on).
 */
export function ownDocument(candidate: unknown, nodeId: string, kind: string): Document | undefined {
  try {
    const document = candidate as Document;
    verifyDocument(document, { now: new Date(Date.parse(String(document.issued_at))), nodePublicKey: () => declaredSigner(canonicalBytes(document)) });
    return document.kind === kind && document.node_id === nodeId ? document : undefined;
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
export function nextManifest(previous: Document | undefined, signers: NodeSigners, content: NodeManifestContent, now: Date): Document {
  return nextSignedVersion(previous, manifestBody(signers, content), signers.manifest, now);
}

export async function refreshNodeManifest(
  dataDir: string,
  signers: NodeSigners,
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
  const nodeId = signers.node.did;
  const candidates = [ownDocument(stored, nodeId, 'node_manifest'), ownDocument(published, nodeId, 'node_manifest')].filter((d): d is Document => d !== undefined);
  const previous = candidates.sort((a, b) => Number(b.seq) - Number(a.seq))[0];
  const manifest = nextManifest(previous, signers, content, now);
  if (manifest !== stored) await saveJson(file, manifest);
  return manifest;
}
