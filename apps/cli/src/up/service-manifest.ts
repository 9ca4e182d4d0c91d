import { createHash, randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { SigningKey } from '@dmf/protocol';
import { nextSignedVersion, ownDocument, saveJson } from './node-manifest.ts';

type Document = Record<string, unknown>;

export interface ServiceDescription {
  /** Service type, e.g. `federation` (PROTOCOL.md 4: service_manifest.type). */
  type: string;
  /** Where clients reach it (https URLs). */
  entrypoints: string[];
  /** URL of the OpenAPI document and the exact bytes served there. */
  openapiUrl: string;
  openapiBytes: Uint8Array;
  version: string;
}

/**
 * The signed service manifest of one service of this node (spec 5.1), signed with the
 * service key (the node manifest's `public_key`; a rotation re-signs it). Its
 * `service_id` is created once and kept in the data folder; `schema.sha256` pins the
 * OpenAPI document clients get, so a changed API is a new version.
 */
export async function refreshServiceManifest(
  dataDir: string,
  key: SigningKey,
  nodeId: string,
  service: ServiceDescription,
  now = new Date(),
): Promise<Document> {
  const file = join(dataDir, `service-${service.type}.json`);
  let stored: unknown;
  try {
    stored = JSON.parse(await readFile(file, 'utf8'));
  } catch {
    stored = undefined;
  }
  const previous = ownDocument(stored, nodeId, 'service_manifest');
  const body: Document = {
    kind: 'service_manifest',
    service_id: typeof previous?.service_id === 'string' ? previous.service_id : randomUUID(),
    node_id: nodeId,
    type: service.type,
    entrypoints: [...service.entrypoints],
    schema: { url: service.openapiUrl, sha256: createHash('sha256').update(service.openapiBytes).digest('hex') },
    version: service.version,
  };
  const manifest = nextSignedVersion(previous, body, key, now);
  if (manifest !== stored) await saveJson(file, manifest);
  return manifest;
}
