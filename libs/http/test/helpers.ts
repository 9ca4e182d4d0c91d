import { request as httpsRequest } from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SecureVersion, TLSSocket } from 'node:tls';
import { afterAll, beforeAll } from 'vitest';
import { pino } from 'pino';
import type { Logger } from 'pino';
import { createCertificateAuthority, issueServerCertificate } from '../src/tls.ts';
import type { CertificateAuthority, TlsMaterial } from '../src/tls.ts';
import { createHttpServer } from '../src/server.ts';
import type { DmfHttpServer, HttpServerOptions } from '../src/server.ts';

/** One CA and server certificate per test file (generation takes a few milliseconds, but once is enough). */
let material: Promise<{ ca: CertificateAuthority; server: TlsMaterial }> | undefined;

export function testTls(): Promise<{ ca: CertificateAuthority; server: TlsMaterial }> {
  material ??= (async () => {
    const ca = await createCertificateAuthority({ commonName: 'DMF test CA' });
    const server = await issueServerCertificate(ca, { hosts: ['localhost', '127.0.0.1', '::1'], days: 1 });
    return { ca, server };
  })();
  return material;
}

/** A logger that drops everything, for tests that do not look at logs. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

/** A trace-level logger whose output the test can read. */
export function capturedLogger(): { logger: Logger; text: () => string; records: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const logger = pino({ level: 'trace' }, { write: (chunk: string) => void chunks.push(chunk) });
  return {
    logger,
    text: () => chunks.join(''),
    records: () =>
      chunks
        .join('')
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

/** Listens on 127.0.0.1, port chosen by the OS. */
export async function listen(app: DmfHttpServer): Promise<number> {
  await app.listen({ host: '127.0.0.1', port: 0 });
  return (app.server.address() as AddressInfo).port;
}

/** A listening test server: its app, port and the CA (PEM) a client must trust. */
export interface TestServer {
  readonly app: DmfHttpServer;
  readonly port: number;
  readonly ca: string;
  /** One HTTPS request to this server over a fresh TLS connection. */
  request(options: Omit<SocketRequest, 'port' | 'ca'>): Promise<SocketResponse>;
}

/**
 * The server of a test file: created in `beforeAll` with the shared test TLS material
 * and a silent logger (unless `options` say otherwise), given its routes by `routes`,
 * listening on 127.0.0.1; closed in `afterAll`. Read its fields inside tests only.
 */
export function useTestServer(
  options: Partial<HttpServerOptions> = {},
  routes: (app: DmfHttpServer) => void | Promise<void> = () => {},
): TestServer {
  let created: DmfHttpServer | undefined;
  let state: { app: DmfHttpServer; port: number; ca: string } | undefined;
  const current = (): { app: DmfHttpServer; port: number; ca: string } => {
    if (state === undefined) throw new Error('useTestServer: the server exists inside tests only (after beforeAll)');
    return state;
  };
  beforeAll(async () => {
    const material = await testTls();
    const app = await createHttpServer({ tls: material.server, logger: silentLogger(), ...options });
    created = app;
    await routes(app);
    state = { app, port: await listen(app), ca: material.ca.cert };
  });
  afterAll(async () => {
    await created?.close();
  });
  return {
    get app() {
      return current().app;
    },
    get port() {
      return current().port;
    },
    get ca() {
      return current().ca;
    },
    request: (options) => request({ ...options, port: current().port, ca: current().ca }),
  };
}

export interface SocketResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  /** Negotiated TLS version, e.g. `TLSv1.3`. */
  protocol: string | null;
}

export interface SocketRequest {
  port: number;
  path: string;
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  /** The CA the client trusts. */
  ca: string;
  /** Host to connect to. Default 127.0.0.1. */
  host?: string;
  /** Client source address, e.g. 127.0.0.2 (all of 127.0.0.0/8 is loopback on Linux). */
  localAddress?: string;
  minVersion?: SecureVersion;
  maxVersion?: SecureVersion;
}

/** One HTTPS request over a fresh TLS connection (no agent, so nothing is reused between requests). */
export function request(options: SocketRequest): Promise<SocketResponse> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      {
        host: options.host ?? '127.0.0.1',
        port: options.port,
        path: options.path,
        method: options.method ?? 'GET',
        headers: options.headers,
        ca: options.ca,
        localAddress: options.localAddress,
        minVersion: options.minVersion,
        maxVersion: options.maxVersion,
        agent: false,
      },
      (res) => {
        const protocol = (res.socket as TLSSocket).getProtocol();
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8'), protocol }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}
