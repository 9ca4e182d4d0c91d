/**
 * The document checks of the chain: a node manifest, then the list of service
 * manifests signed with that manifest's `public_key`. All protocol rules (value rules,
 * schema, signer, signature, issued_at skew, expiry) are @dmf/protocol's; this module
 * adds what only a client knows (which node it asked, what list it got) and turns
 * ProtocolError codes into the client's. Pure.
 */
import { MAX_DOCUMENT_BYTES, parseJson, ProtocolError, verifyBytes, verifyDocument, type NodeManifest, type ServiceManifest } from '@dmf/protocol';
import { ClientError, type ClientErrorCode } from '../errors.ts';

export interface CheckedDocument<D> {
  document: D;
  /** Record id: lowercase hex SHA-256 of the JCS of the whole document. */
  recordId: string;
  /** did:key that signed it. */
  signer: string;
}

export interface DocumentCheckOptions {
  /** URL the bytes came from, for messages. */
  url: string;
  /** Time freshness is judged at. */
  now: Date;
  /** Largest response accepted (a node manifest is also held to MAX_DOCUMENT_BYTES). */
  maxBytes: number;
}

/** Verifies the bytes of `GET /.well-known/dmf/node`. Throws ClientError `manifest.*`. */
export function checkNodeManifest(bytes: Uint8Array, options: DocumentCheckOptions): CheckedDocument<NodeManifest> {
  let record;
  try {
    // One document: the protocol's own size limit applies as well as the client's.
    record = verifyBytes(bytes, { now: options.now, maxBytes: Math.min(options.maxBytes, MAX_DOCUMENT_BYTES) });
  } catch (error) {
    throw fromProtocolError(error, options.url, '$');
  }
  if (record.kind !== 'node_manifest') {
    throw new ClientError('manifest.invalid', `${options.url} $.kind`, `is ${record.kind}, expected node_manifest`);
  }
  return { document: record.document, recordId: record.id, signer: record.signer };
}

/**
 * Verifies the bytes of `GET /.well-known/dmf/services`: a JSON array of service
 * manifests, each about `node` (same node_id) and signed by `node.public_key`.
 * One bad element fails the whole list: a node that serves a forged or stale
 * manifest is not one to talk to. Throws ClientError.
 */
export function checkServiceManifests(
  bytes: Uint8Array,
  node: NodeManifest,
  options: DocumentCheckOptions,
): CheckedDocument<ServiceManifest>[] {
  let list: unknown;
  try {
    list = parseJson(bytes, { maxBytes: options.maxBytes });
  } catch (error) {
    throw fromProtocolError(error, options.url, '$');
  }
  if (!Array.isArray(list)) throw new ClientError('manifest.invalid', `${options.url} $`, 'is not a JSON array of service manifests');
  return list.map((element, index) => checkServiceManifest(element, node, { ...options, at: `$[${index}]` }));
}

function checkServiceManifest(
  element: unknown,
  node: NodeManifest,
  options: DocumentCheckOptions & { at: string },
): CheckedDocument<ServiceManifest> {
  const claimed = (element as { node_id?: unknown } | null)?.node_id;
  if (typeof claimed === 'string' && claimed !== node.node_id) {
    throw new ClientError(
      'service.foreign_node',
      `${options.url} ${options.at}.node_id`,
      `is ${claimed}, but this node is ${node.node_id}`,
    );
  }
  let record;
  try {
    record = verifyDocument(element, {
      now: options.now,
      nodePublicKey: (nodeId) => (nodeId === node.node_id ? node.public_key : undefined),
    });
  } catch (error) {
    throw fromProtocolError(error, options.url, options.at, 'service.wrong_signer');
  }
  if (record.kind !== 'service_manifest') {
    throw new ClientError('manifest.invalid', `${options.url} ${options.at}.kind`, `is ${record.kind}, expected service_manifest`);
  }
  return { document: record.document, recordId: record.id, signer: record.signer };
}

/**
 * A ProtocolError as a ClientError: expiry is `manifest.expired`, a valid signature by
 * the wrong key `wrongSigner` (service manifests), anything else `manifest.invalid`.
 * `at` is the JSON path of the document within the response (`$` or `$[2]`).
 */
function fromProtocolError(error: unknown, url: string, at: string, wrongSigner: ClientErrorCode = 'manifest.invalid'): ClientError {
  if (!(error instanceof ProtocolError)) throw error;
  const path = error.path === undefined ? at : `${at}${error.path.slice(1)}`;
  const code: ClientErrorCode =
    error.code === 'expires_at.expired' ? 'manifest.expired' : error.code === 'signature.wrong_signer' ? wrongSigner : 'manifest.invalid';
  return new ClientError(code, `${url} ${path}`, `${error.reason} (${error.code})`, { cause: error });
}
