/**
 * Verifying a node's chain (spec 5.1 "All clients MUST verify service manifests
 * before interacting"): its node manifest, then its service manifests signed with the
 * manifest's `public_key`, then, when asked, the OpenAPI documents they pin. Each
 * document is also checked against what the client saw before (rollback,
 * equivocation) and the node against the caller's quarantine list.
 */
import type { NodeManifest, ServiceManifest } from '@dmf/protocol';
import { AttemptLog } from './attempts.ts';
import { checkNodeManifest, checkServiceManifests, type CheckedDocument } from './domain/manifest-checks.ts';
import { requestHeaders } from './domain/request-headers.ts';
import { NODE_MANIFEST_PATH, SERVICE_MANIFESTS_PATH, wellKnownUrl } from './domain/request-path.ts';
import { checkSchemaDigest } from './domain/schema-digest.ts';
import { checkTargetUrl } from './domain/target-url.ts';
import { judgeVersion, nodeVersionKey, serviceVersionKey } from './domain/version-judgement.ts';
import type { AddressPolicy } from './domain/address-policy.ts';
import { ClientError } from './errors.ts';
import { fetchWithRedirects, type FetcherOptions, type FetchResponse } from './fetcher.ts';
import type { KnownVersions } from './known-versions.ts';

export interface VerifiedService {
  manifest: ServiceManifest;
  /** Record id of the service manifest. */
  recordId: string;
}

/** A node whose node manifest and every service manifest verified. */
export interface VerifiedNode {
  /** The node URL the chain was fetched from (normalised). */
  url: string;
  manifest: NodeManifest;
  /** Record id of the node manifest. */
  recordId: string;
  /** did:key that signed the node manifest (`operator`, else `node_id`). */
  signer: string;
  /** The service manifests, in the order the node serves them. */
  services: VerifiedService[];
}

export interface ChainContext {
  fetcher: FetcherOptions;
  policy: AddressPolicy;
  knownVersions: KnownVersions;
  isQuarantined: (nodeId: string) => boolean | Promise<boolean>;
  now: () => Date;
  maxResponseBytes: number;
  userAgent: string;
}

/**
 * Fetches and verifies the chain of the node at `nodeUrl`, recording every request in
 * `log`. Throws ClientError (carrying the log) at the first thing that fails.
 */
export async function verifyChain(context: ChainContext, nodeUrl: string, checkSchemas: boolean, log: AttemptLog): Promise<VerifiedNode> {
  let base: URL;
  try {
    base = checkTargetUrl(nodeUrl, context.policy, 'node URL');
  } catch (error) {
    throw log.failed(nodeUrl, error);
  }

  // Each check runs inside the fetch it is about, so that the attempt of that URL
  // records the failure (not "answered" followed by a second entry).
  const nodeRecord = await getVerified(context, wellKnownUrl(base, NODE_MANIFEST_PATH), log, 'manifest.unavailable', async (response) => {
    const record = checkNodeManifest(response.body, documentOptions(context, response));
    const nodeId = record.document.node_id;
    if (await context.isQuarantined(nodeId)) {
      throw new ClientError('node.quarantined', response.url.href, `node ${nodeId} is quarantined or delisted`);
    }
    await checkVersion(context, nodeVersionKey(nodeId, record.signer), record, `node ${nodeId}`, response.url.href);
    return record;
  });
  const node = nodeRecord.document;

  const serviceRecords = await getVerified(context, wellKnownUrl(base, SERVICE_MANIFESTS_PATH), log, 'manifest.unavailable', async (response) => {
    const records = checkServiceManifests(response.body, node, documentOptions(context, response));
    for (const record of records) {
      const service = record.document;
      const key = serviceVersionKey(node.node_id, service.service_id, record.signer);
      await checkVersion(context, key, record, `service ${service.service_id}`, response.url.href);
    }
    return records;
  });

  if (checkSchemas) {
    for (const { document: service } of serviceRecords) await checkSchema(context, service, log);
  }
  return {
    url: base.href,
    manifest: node,
    recordId: nodeRecord.recordId,
    signer: nodeRecord.signer,
    services: serviceRecords.map((record) => ({ manifest: record.document, recordId: record.recordId })),
  };
}

/**
 * GETs `url` and runs `check` on a 200 answer. A 5xx is `unreachable` (the node may
 * be back soon), any other non-200 `unavailable` (it does not serve the document).
 */
async function getVerified<T>(
  context: ChainContext,
  url: URL,
  log: AttemptLog,
  unavailable: 'manifest.unavailable' | 'schema.unavailable',
  check: (response: FetchResponse) => T | Promise<T>,
  accept = 'application/json',
): Promise<T> {
  let response: FetchResponse;
  try {
    response = await fetchWithRedirects(
      { url, method: 'GET', headers: requestHeaders(context.userAgent, { accept }) },
      context.fetcher,
    );
  } catch (error) {
    throw log.failed(url.href, error);
  }
  if (response.status !== 200) {
    const code = response.status >= 500 ? 'unreachable' : unavailable;
    throw log.failed(url.href, new ClientError(code, response.url.href, `answered ${response.status}, expected 200`), response.status);
  }
  try {
    const result = await check(response);
    log.answered(url.href, response.status);
    return result;
  } catch (error) {
    throw log.failed(url.href, error, response.status);
  }
}

function documentOptions(context: ChainContext, response: FetchResponse): { url: string; now: Date; maxBytes: number } {
  return { url: response.url.href, now: context.now(), maxBytes: context.maxResponseBytes };
}

/** Rollback and equivocation against the client's memory; remembers a first or newer version. */
async function checkVersion(
  context: ChainContext,
  key: string,
  record: CheckedDocument<{ seq: number }>,
  what: string,
  subject: string,
): Promise<void> {
  const incoming = { seq: record.document.seq, recordId: record.recordId };
  const known = await context.knownVersions.get(key);
  const judgement = judgeVersion(known, incoming);
  if (judgement === 'rollback') {
    throw new ClientError('manifest.rollback', subject, `${what}: seq ${incoming.seq} is lower than seq ${known?.seq} seen before`);
  }
  if (judgement === 'equivocation') {
    const reason = `${what}: seq ${incoming.seq} is record ${incoming.recordId}, but the same seq was record ${known?.recordId} before (two documents, one seq)`;
    throw new ClientError('manifest.equivocation', subject, reason);
  }
  if (judgement !== 'same') await context.knownVersions.remember(key, incoming);
}

/** Fetches a service's OpenAPI document and compares its SHA-256 with the manifest's. */
async function checkSchema(context: ChainContext, service: ServiceManifest, log: AttemptLog): Promise<void> {
  let url: URL;
  try {
    url = checkTargetUrl(service.schema.url, context.policy, `schema.url of service ${service.service_id}`);
  } catch (error) {
    throw log.failed(service.schema.url, error);
  }
  await getVerified(context, url, log, 'schema.unavailable', (response) => checkSchemaDigest(response.body, service.schema.sha256, response.url.href), '*/*');
}
