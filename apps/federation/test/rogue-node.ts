/**
 * Test support for admission checks: "rogue" DMF nodes, real HTTPS servers in the test
 * process with their own Ed25519 keys, serving whatever signed documents a test wants
 * (the genuine ones, tampered bytes, stale versions, a wrong OpenAPI document) at
 * `/.well-known/dmf/node`, `/.well-known/dmf/services` and `/openapi.json`. Nothing is
 * mocked: the node under test probes them over TLS with its verifying client.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { createCertificateAuthority, issueServerCertificate, type TlsMaterial } from '@dmf/http';
import { generateSigningKey, signDocument, type SigningKey } from '@dmf/protocol';

const MINUTE = 60_000;
const DAY = 86_400_000;

export interface TestPki {
  /** The CA every party trusts (PEM). */
  ca: string;
  /** A server certificate for 127.0.0.1, ::1 and localhost, issued by that CA. */
  server: TlsMaterial;
}

export async function createTestPki(): Promise<TestPki> {
  const ca = await createCertificateAuthority({ commonName: 'DMF admission test CA' });
  const server = await issueServerCertificate(ca, { hosts: ['127.0.0.1', '::1', 'localhost'], days: 1 });
  return { ca: ca.cert, server };
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export interface NodeManifestFields {
  seq?: number;
  /** Default: a minute ago. */
  issuedAt?: Date;
  /** Default: a day after issuedAt. */
  expiresAt?: Date;
  region?: string;
  /** Sign with this key instead of the node key (the manifest then names no operator). */
  signer?: SigningKey;
  /** The key that signs the node's service manifests (did:key). Default: the node key's. */
  publicKey?: string;
}

export interface ServiceManifestFields {
  seq?: number;
  type?: string;
  /** Default: [`<url>/`]. */
  entrypoints?: string[];
  /** Default: `<url>/openapi.json`. */
  schemaUrl?: string;
  /** Default: SHA-256 of the OpenAPI bytes this node serves. */
  schemaSha256?: string;
  /** Default: the node key, which is the node manifest's public_key. */
  signer?: SigningKey;
  serviceId?: string;
  issuedAt?: Date;
}

/** A node of the test's making. `url` is `https://<host>:<port>` without a trailing slash. */
export class RogueNode {
  readonly key = generateSigningKey();
  readonly serviceId = randomUUID();
  readonly token: string;
  /** The OpenAPI document the service manifests pin (unless told otherwise). */
  readonly openapi: Buffer;
  nodeBody: Buffer = Buffer.alloc(0);
  servicesBody: Buffer = Buffer.from('[]');
  openapiBody: Buffer;
  /** Requests received, by path. */
  readonly requests: string[] = [];
  #connections = 0;
  readonly #sockets = new Set<Socket>();

  private constructor(
    readonly server: Server,
    readonly url: string,
    token: string,
  ) {
    this.token = token;
    this.openapi = Buffer.from(JSON.stringify({ openapi: '3.1.0', info: { title: `rogue ${token}`, version: '0.1.0' }, paths: {} }));
    this.openapiBody = this.openapi;
  }

  /** Starts the HTTPS server (TLS 1.3 only, like DMF nodes) on `host`, port chosen by the OS. */
  static async start(pki: TestPki, token: string, host = '127.0.0.1'): Promise<RogueNode> {
    let node: RogueNode | undefined;
    const server = createServer({ key: pki.server.key, cert: pki.server.cert, minVersion: 'TLSv1.3' }, (request, response) => {
      const path = (request.url ?? '/').split('?')[0] ?? '/';
      node?.requests.push(path);
      const body =
        path === '/.well-known/dmf/node' ? node?.nodeBody : path === '/.well-known/dmf/services' ? node?.servicesBody : path === '/openapi.json' ? node?.openapiBody : undefined;
      request.resume();
      if (body === undefined) {
        response.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
        return;
      }
      response.writeHead(200, { 'content-type': 'application/json', 'content-length': String(body.byteLength) }).end(body);
    });
    server.on('connection', (socket: Socket) => {
      const owner = node;
      if (owner === undefined) return;
      owner.#connections++;
      owner.#sockets.add(socket);
      socket.on('close', () => owner.#sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, host, () => resolve());
    });
    const port = (server.address() as AddressInfo).port;
    node = new RogueNode(server, `https://${host.includes(':') ? `[${host}]` : host}:${port}`, token);
    return node;
  }

  get did(): string {
    return this.key.did;
  }

  /** TCP connections accepted so far. */
  connections(): number {
    return this.#connections;
  }

  /** A signed node manifest with the capabilities a federating node declares. */
  nodeManifest(fields: NodeManifestFields = {}): Record<string, unknown> {
    const issuedAt = fields.issuedAt ?? new Date(Date.now() - MINUTE);
    const expiresAt = fields.expiresAt ?? new Date(issuedAt.getTime() + DAY);
    const document = {
      kind: 'node_manifest',
      node_id: this.key.did,
      services: ['federation'],
      capabilities: { region: fields.region ?? 'eu-west', jetstream_domain: this.token, origin_operator: this.token },
      public_key: fields.publicKey ?? this.key.did,
      mirrors: [],
      version: '0.1.0',
      seq: fields.seq ?? 1,
      issued_at: issuedAt.toISOString(),
      expires_at: expiresAt.toISOString(),
    };
    // Signed as valid at its issue time (an expired manifest can be made on purpose).
    return signDocument(document, fields.signer ?? this.key, { now: new Date(issuedAt.getTime() + 1000) });
  }

  /** A signed service manifest of this node (type `federation` by default) pointing at this server. */
  serviceManifest(fields: ServiceManifestFields = {}): Record<string, unknown> {
    const issuedAt = fields.issuedAt ?? new Date(Date.now() - MINUTE);
    const signer = fields.signer ?? this.key;
    const document = {
      kind: 'service_manifest',
      service_id: fields.serviceId ?? this.serviceId,
      node_id: this.key.did,
      type: fields.type ?? 'federation',
      entrypoints: fields.entrypoints ?? [`${this.url}/`],
      schema: { url: fields.schemaUrl ?? `${this.url}/openapi.json`, sha256: fields.schemaSha256 ?? sha256Hex(this.openapi) },
      version: '0.1.0',
      seq: fields.seq ?? 1,
      issued_at: issuedAt.toISOString(),
      expires_at: new Date(issuedAt.getTime() + DAY).toISOString(),
    };
    return signDocument(document, signer, { now: new Date(issuedAt.getTime() + 1000), nodePublicKey: () => signer.did });
  }

  /** What this server answers from now on; a Buffer is served as it is (tampered bytes). */
  serve(what: { node?: Record<string, unknown> | Buffer; services?: Record<string, unknown>[] | Buffer; openapi?: Buffer }): void {
    if (what.node !== undefined) this.nodeBody = Buffer.isBuffer(what.node) ? what.node : Buffer.from(JSON.stringify(what.node));
    if (what.services !== undefined) this.servicesBody = Buffer.isBuffer(what.services) ? what.services : Buffer.from(JSON.stringify(what.services));
    if (what.openapi !== undefined) this.openapiBody = what.openapi;
  }

  close(): Promise<void> {
    return new Promise<void>((resolve) => {
      for (const socket of this.#sockets) socket.destroy();
      this.server.close(() => resolve());
    });
  }
}

/** The body of `POST /nodes`. */
export function announcement(node: Record<string, unknown>, services: Record<string, unknown>[]): string {
  return JSON.stringify({ node_manifest: node, service_manifests: services });
}
