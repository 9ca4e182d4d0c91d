import { X509Certificate } from 'node:crypto';
import { connect } from 'node:tls';
import type { ConnectionOptions, TLSSocket } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { createHttpServer } from '../src/server.ts';
import {
  createCertificateAuthority,
  createSelfSignedCertificate,
  issueServerCertificate,
  TlsMaterialError,
} from '../src/tls.ts';
import { listen, request, silentLogger, useTestServer } from './helpers.ts';

/** Opens a TLS connection and reports how the handshake ended. */
function handshake(options: ConnectionOptions): Promise<{ ok: true; socket: TLSSocket } | { ok: false; error: Error & { code?: string } }> {
  return new Promise((resolve) => {
    const socket = connect(options, () => resolve({ ok: true, socket }));
    socket.once('error', (error) => resolve({ ok: false, error }));
  });
}

describe('TLS material', () => {
  it('issues a server certificate with DNS and IP SANs, signed by the CA', async () => {
    const ca = await createCertificateAuthority({ commonName: 'Unit CA' });
    const server = await issueServerCertificate(ca, { hosts: ['node.example', '127.0.0.1', '::1'], days: 2 });
    const caCert = new X509Certificate(ca.cert);
    const cert = new X509Certificate(server.cert);
    expect(caCert.ca).toBe(true);
    expect(cert.ca).toBe(false);
    expect(cert.verify(caCert.publicKey)).toBe(true);
    expect(cert.checkIssued(caCert)).toBe(true);
    expect(cert.subjectAltName).toBe('DNS:node.example, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1');
    expect(cert.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(cert.checkHost('node.example')).toBe('node.example');
    expect(cert.publicKey.asymmetricKeyType).toBe('ec');
    expect(cert.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    const lifetimeDays = (Date.parse(cert.validTo) - Date.parse(cert.validFrom)) / 86_400_000;
    expect(lifetimeDays).toBeGreaterThan(1.9);
    expect(lifetimeDays).toBeLessThan(2.1);
    expect(server.key).toMatch(/^-----BEGIN PRIVATE KEY-----/);
  });

  it('refuses bad options and bad CA material with a typed error', async () => {
    await expect(createCertificateAuthority({ commonName: ' ' })).rejects.toBeInstanceOf(TlsMaterialError);
    const ca = await createCertificateAuthority({ commonName: 'Unit CA' });
    await expect(issueServerCertificate(ca, { hosts: [] })).rejects.toThrow(/hosts/);
    await expect(issueServerCertificate(ca, { days: 0 })).rejects.toThrow(/days/);
    await expect(issueServerCertificate({ key: 'nope', cert: ca.cert })).rejects.toMatchObject({ code: 'ERR_TLS_MATERIAL' });
  });

  it('createHttpServer refuses to start without TLS material', async () => {
    await expect(createHttpServer({} as never)).rejects.toThrow(/tls/);
    await expect(createHttpServer({ tls: { key: 'x', cert: 'y' }, logger: silentLogger() })).rejects.toThrow(/tls.key/);
  });
});

describe('HTTPS over a real socket', () => {
  const server = useTestServer();

  it('serves TLS 1.3 with an AEAD suite and ephemeral key exchange', async () => {
    const result = await handshake({ host: '127.0.0.1', port: server.port, ca: server.ca });
    if (!result.ok) throw result.error;
    try {
      expect(result.socket.authorized).toBe(true);
      expect(result.socket.getProtocol()).toBe('TLSv1.3');
      expect(result.socket.getCipher().name).toMatch(/^TLS_(AES_(128|256)_GCM|CHACHA20_POLY1305)_SHA(256|384)$/);
      const ephemeral = result.socket.getEphemeralKeyInfo() as { type?: string } | null;
      expect(['ECDH', 'DH']).toContain(ephemeral?.type);
    } finally {
      result.socket.destroy();
    }
  });

  it('refuses a client limited to TLS 1.2', async () => {
    const result = await handshake({ host: '127.0.0.1', port: server.port, ca: server.ca, maxVersion: 'TLSv1.2' });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.code).toMatch(/PROTOCOL_VERSION|UNSUPPORTED_PROTOCOL|NO_PROTOCOLS/);
  });

  it('answers HTTPS requests at https://127.0.0.1 (IP SAN) with a client that verifies', async () => {
    const response = await server.request({ path: '/healthz' });
    expect(response.protocol).toBe('TLSv1.3');
    expect(response.status).toBe(200);
    expect(JSON.parse(response.body)).toEqual({ status: 'ok' });
  });

  it('is not trusted by a client with another CA', async () => {
    const other = await createCertificateAuthority({ commonName: 'Other CA' });
    const result = await handshake({ host: '127.0.0.1', port: server.port, ca: other.cert });
    expect(result.ok).toBe(false);
  });

  it('speaks no plain HTTP on its port', async () => {
    const { request: plainRequest } = await import('node:http');
    const outcome = await new Promise<string>((resolve) => {
      const req = plainRequest({ host: '127.0.0.1', port: server.port, path: '/healthz', agent: false }, (res) => resolve(`status ${res.statusCode}`));
      req.on('error', (error: Error & { code?: string }) => resolve(error.code ?? error.message));
      req.end();
    });
    expect(outcome).not.toBe('status 200');
  });
});

describe('self-signed certificate (dmf up first run)', () => {
  it('is trusted by a client that pins it, over TLS 1.3', async () => {
    const material = await createSelfSignedCertificate({ hosts: ['localhost', '127.0.0.1'] });
    const app = await createHttpServer({ tls: material, logger: silentLogger() });
    try {
      const port = await listen(app);
      const response = await request({ port, path: '/healthz', ca: material.cert });
      expect(response.status).toBe(200);
      expect(response.protocol).toBe('TLSv1.3');
      const byName = await request({ port, path: '/healthz', ca: material.cert, host: 'localhost' });
      expect(byName.status).toBe(200);
    } finally {
      await app.close();
      await app.close(); // safe twice
    }
  });
});
