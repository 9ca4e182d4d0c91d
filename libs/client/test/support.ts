/**
 * Test support: real HTTPS servers on loopback addresses with certificates from a
 * per-file test CA, and a node whose signed manifests a test can replace, tamper with
 * or withhold. No HTTP or crypto is mocked.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, beforeAll, expect } from 'vitest';
import { ClientError, createClient, type ClientOptions, type DmfClient } from '../src/mod.ts';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { createCertificateAuthority, issueServerCertificate, type TlsMaterial } from '@dmf/http';
import { generateSigningKey, signDocument, type SigningKey } from '@dmf/protocol';
import { sha256Hex } from '../src/domain/schema-digest.ts';

export interface TestTls {
  /** The CA certificate a client must trust (PEM). */
  ca: string;
  /** Server certificate for localhost, node.test, 127.0.0.1, 127.0.0.2 and ::1. */
  server: TlsMaterial;
}

export async function createTestTls(): Promise<TestTls> {
  const ca = await createCertificateAuthority({ commonName: 'DMF client test CA' });
  const server = await issueServerCertificate(ca, { hosts: ['localhost', 'node.test', '127.0.0.1', '127.0.0.2', '::1'], days: 1 });
  return { ca: ca.cert, server };
}

export type Handler = (request: IncomingMessage, response: ServerResponse, body: Buffer) => void;

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

export interface TestServer {
  /** `https://host:port` (IPv6 in brackets), no trailing slash. */
  url: string;
  port: number;
  /** Requests received, in order. */
  requests: RecordedRequest[];
  /** TCP connections accepted (a refused address must leave this at 0). */
  connections(): number;
  /** Replaces the handler of an exact path (query ignored); other paths answer 404. */
  route(path: string, handler: Handler): void;
  close(): Promise<void>;
}

/** An HTTPS server (TLS 1.3, like DMF adapters) on `host`, port chosen by the OS. */
export async function startServer(tls: TestTls, host = '127.0.0.1'): Promise<TestServer> {
  const routes = new Map<string, Handler>();
  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();
  let connections = 0;
  const server: Server = createServer({ key: tls.server.key, cert: tls.server.cert, minVersion: 'TLSv1.3' }, (request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks);
      const path = (request.url ?? '/').split('?')[0] ?? '/';
      requests.push({ method: request.method ?? '', path: request.url ?? '', headers: request.headers, body });
      const handler = routes.get(path);
      if (handler === undefined) {
        response.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
        return;
      }
      handler(request, response, body);
    });
  });
  server.on('connection', (socket: Socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const port = (server.address() as AddressInfo).port;
  const shown = host.includes(':') ? `[${host}]` : host;
  return {
    url: `https://${shown}:${port}`,
    port,
    requests,
    connections: () => connections,
    route: (path, handler) => void routes.set(path, handler),
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A handler answering `status` with `body` (JSON text, bytes or a value to stringify). */
export function answer(status: number, body: string | Uint8Array | object, headers: Record<string, string> = {}): Handler {
  const bytes = typeof body === 'string' || body instanceof Uint8Array ? Buffer.from(body) : Buffer.from(JSON.stringify(body));
  return (_request, response) => {
    response.writeHead(status, { 'content-type': 'application/json', 'content-length': String(bytes.byteLength), ...headers }).end(bytes);
  };
}

/** A handler redirecting to `location`. */
export function redirect(location: string, status = 302): Handler {
  return (_request, response) => {
    response.writeHead(status, { location }).end();
  };
}

/** A URL nothing listens on: a server's port after it closed. */
export async function deadUrl(tls: TestTls): Promise<string> {
  const server = await startServer(tls);
  await server.close();
  return server.url;
}

const MINUTE = 60_000;
const DAY = 86_400_000;

export interface NodeManifestFields {
  seq?: number;
  mirrors?: string[];
  version?: string;
  /** Validity window; default issued a minute ago, expiring in a day. */
  issuedAt?: Date;
  expiresAt?: Date;
  /** Sign as this operator (the manifest gets `operator`). */
  operator?: SigningKey;
  /** node_id claimed; default the node's own key. */
  nodeId?: string;
}

export interface ServiceManifestFields {
  seq?: number;
  type?: string;
  entrypoints?: string[];
  schemaUrl?: string;
  schemaSha256?: string;
  /** Default: the node key (the node manifest's public_key). */
  key?: SigningKey;
  nodeId?: string;
  serviceId?: string;
  issuedAt?: Date;
  expiresAt?: Date;
}

/**
 * A DMF node for tests: one HTTPS server serving its node manifest, service manifests,
 * OpenAPI document and a `/api/...` echo service. Starts with a valid chain: one
 * `federation` service whose entrypoint is `<url>/api`.
 */
export class TestNode {
  readonly key = generateSigningKey();
  readonly serviceId = randomUUID();
  readonly schemaBytes = Buffer.from('{"openapi":"3.1.0","info":{"title":"test","version":"0.1.0"},"paths":{}}');
  nodeBody: Buffer = Buffer.alloc(0);
  servicesBody: Buffer = Buffer.alloc(0);

  private constructor(readonly server: TestServer) {}

  get url(): string {
    return this.server.url;
  }

  static async start(tls: TestTls, host = '127.0.0.1'): Promise<TestNode> {
    const node = new TestNode(await startServer(tls, host));
    node.server.route('/.well-known/dmf/node', (_q, response) => void response.writeHead(200, { 'content-type': 'application/json' }).end(node.nodeBody));
    node.server.route('/.well-known/dmf/services', (_q, response) =>
      void response.writeHead(200, { 'content-type': 'application/json' }).end(node.servicesBody),
    );
    node.server.route('/openapi.json', answer(200, node.schemaBytes));
    node.api('/api/echo', echo);
    node.serveNode(node.nodeManifest());
    node.serveServices([node.serviceManifest()]);
    return node;
  }

  /** Routes `path` of this node's server to `handler`. */
  api(path: string, handler: Handler): void {
    this.server.route(path, handler);
  }

  nodeManifest(fields: NodeManifestFields = {}): Record<string, unknown> {
    const issuedAt = fields.issuedAt ?? new Date(Date.now() - MINUTE);
    const expiresAt = fields.expiresAt ?? new Date(issuedAt.getTime() + DAY);
    const document = {
      kind: 'node_manifest',
      node_id: fields.nodeId ?? this.key.did,
      ...(fields.operator === undefined ? {} : { operator: fields.operator.did }),
      services: ['federation'],
      capabilities: { region: 'eu-west', jetstream_domain: 'test' },
      public_key: this.key.did,
      mirrors: fields.mirrors ?? [],
      version: fields.version ?? '0.1.0',
      seq: fields.seq ?? 1,
      issued_at: issuedAt.toISOString(),
      expires_at: expiresAt.toISOString(),
    };
    return signDocument(document, fields.operator ?? this.key, { now: new Date(issuedAt.getTime() + 1000) });
  }

  serviceManifest(fields: ServiceManifestFields = {}): Record<string, unknown> {
    const issuedAt = fields.issuedAt ?? new Date(Date.now() - MINUTE);
    const expiresAt = fields.expiresAt ?? new Date(issuedAt.getTime() + DAY);
    const document = {
      kind: 'service_manifest',
      service_id: fields.serviceId ?? this.serviceId,
      node_id: fields.nodeId ?? this.key.did,
      type: fields.type ?? 'federation',
      entrypoints: fields.entrypoints ?? [`${this.url}/api`],
      schema: { url: fields.schemaUrl ?? `${this.url}/openapi.json`, sha256: fields.schemaSha256 ?? sha256Hex(this.schemaBytes) },
      version: '0.1.0',
      seq: fields.seq ?? 1,
      issued_at: issuedAt.toISOString(),
      expires_at: expiresAt.toISOString(),
    };
    const key = fields.key ?? this.key;
    return signDocument(document, key, { now: new Date(issuedAt.getTime() + 1000), nodePublicKey: () => key.did });
  }

  serveNode(document: Record<string, unknown> | Buffer): void {
    this.nodeBody = Buffer.isBuffer(document) ? document : Buffer.from(JSON.stringify(document));
  }

  serveServices(documents: Record<string, unknown>[] | Buffer): void {
    this.servicesBody = Buffer.isBuffer(documents) ? documents : Buffer.from(JSON.stringify(documents));
  }

  close(): Promise<void> {
    return this.server.close();
  }
}

/** Answers 200 with `{ method, path, body }` of the request. */
export const echo: Handler = (request, response, body) => {
  response
    .writeHead(200, { 'content-type': 'application/json' })
    .end(JSON.stringify({ method: request.method, path: request.url, body: body.toString('utf8') }));
};

/**
 * The per-file bench of the client tests: a test CA made once, and servers, nodes and
 * clients that are closed after each test. Call at the top of a test file.
 */
export function useBench(clientDefaults: ClientOptions = {}) {
  let tls: TestTls | undefined;
  const open: { close(): Promise<void> }[] = [];
  beforeAll(async () => {
    tls = await createTestTls();
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((thing) => thing.close()));
  });
  const bench = {
    get tls(): TestTls {
      if (!tls) throw new Error('useBench: the CA is made in beforeAll');
      return tls;
    },
    async startNode(host = '127.0.0.1'): Promise<TestNode> {
      const node = await TestNode.start(bench.tls, host);
      open.push(node);
      return node;
    },
    async server(host = '127.0.0.1'): Promise<TestServer> {
      const started = await startServer(bench.tls, host);
      open.push(started);
      return started;
    },
    client(options: ClientOptions = {}): DmfClient {
      const created = createClient({ ca: bench.tls.ca, ...clientDefaults, ...options });
      open.push(created);
      return created;
    },
  };
  return bench;
}

/** The ClientError a promise rejects with (fails the test if it resolves). */
export async function refusal(promise: Promise<unknown>): Promise<ClientError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ClientError);
  return error as ClientError;
}
