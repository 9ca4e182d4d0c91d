import { isIP } from 'node:net';
import { randomBytes, webcrypto } from 'node:crypto';
// Must precede @peculiar/x509: its DI container needs Reflect metadata at load time.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';

/**
 * TLS material for HTTPS adapters: a certificate authority and server certificates
 * issued by it (tests, a private federation), or one self-signed certificate (the
 * embedded `dmf up` first run). ECDSA P-256 with SHA-256 throughout. Everything is
 * returned as PEM text; writing it to disk is the caller's business.
 */

// @peculiar/x509 needs a WebCrypto implementation; Node's is complete.
x509.cryptoProvider.set(webcrypto);

/** A PEM private key (PKCS #8) and its PEM certificate. Pass both to `createHttpServer({ tls })`. */
export interface TlsMaterial {
  /** PKCS #8 private key, PEM. */
  key: string;
  /** X.509 certificate, PEM. */
  cert: string;
}

/** A certificate authority: clients trust `cert`; `key` signs server certificates. */
export type CertificateAuthority = TlsMaterial;

export interface CertificateAuthorityOptions {
  /** Subject common name of the CA. */
  commonName: string;
  /** Validity in days. Default 3650. */
  days?: number;
}

export interface ServerCertificateOptions {
  /** DNS names and IP addresses the certificate is valid for (IPs become IP SAN entries). Default `['localhost', '127.0.0.1', '::1']`. */
  hosts?: readonly string[];
  /** Validity in days. Default 365. */
  days?: number;
}

export const DEFAULT_CERTIFICATE_HOSTS: readonly string[] = Object.freeze(['localhost', '127.0.0.1', '::1']);

/** Thrown for unusable certificate options or CA material. */
export class TlsMaterialError extends Error {
  readonly code = 'ERR_TLS_MATERIAL';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TlsMaterialError';
  }
}

const EC_KEY: webcrypto.EcKeyGenParams = { name: 'ECDSA', namedCurve: 'P-256' };
const SIGNING: webcrypto.EcdsaParams = { name: 'ECDSA', hash: 'SHA-256' };
const DAY_MS = 86_400_000;
/** Certificates start a little in the past so that a peer whose clock lags accepts them. */
const BACKDATE_MS = 5 * 60_000;

/** A new CA: self-signed, may sign certificates but not further CAs (path length 0). */
export async function createCertificateAuthority(options: CertificateAuthorityOptions): Promise<CertificateAuthority> {
  const commonName = requireCommonName(options.commonName);
  const keys = await generateKeys();
  const name = distinguishedName(commonName);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    name,
    ...validity(options.days ?? 3650),
    keys,
    signingAlgorithm: SIGNING,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { key: await privateKeyPem(keys.privateKey), cert: cert.toString('pem') };
}

/** A server certificate for `hosts`, signed by `ca`. */
export async function issueServerCertificate(
  ca: CertificateAuthority,
  options: ServerCertificateOptions = {},
): Promise<TlsMaterial> {
  const hosts = requireHosts(options.hosts ?? DEFAULT_CERTIFICATE_HOSTS);
  const { caCert, caKey } = await loadAuthority(ca);
  const keys = await generateKeys();
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serialNumber(),
    subject: distinguishedName(hosts[0] ?? 'localhost'),
    issuer: caCert.subject,
    ...validity(options.days ?? 365),
    publicKey: keys.publicKey,
    signingKey: caKey,
    signingAlgorithm: SIGNING,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      ...(await serverExtensions(hosts, keys.publicKey)),
      await x509.AuthorityKeyIdentifierExtension.create(caCert.publicKey),
    ],
  });
  return { key: await privateKeyPem(keys.privateKey), cert: cert.toString('pem') };
}

/**
 * One self-signed server certificate for `hosts`: a client trusts exactly this
 * certificate (pass it as the client's `ca`). For a first run without an operator CA.
 */
export async function createSelfSignedCertificate(options: ServerCertificateOptions = {}): Promise<TlsMaterial> {
  const hosts = requireHosts(options.hosts ?? DEFAULT_CERTIFICATE_HOSTS);
  const keys = await generateKeys();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    name: distinguishedName(hosts[0] ?? 'localhost'),
    ...validity(options.days ?? 365),
    keys,
    signingAlgorithm: SIGNING,
    extensions: [new x509.BasicConstraintsExtension(false, undefined, true), ...(await serverExtensions(hosts, keys.publicKey))],
  });
  return { key: await privateKeyPem(keys.privateKey), cert: cert.toString('pem') };
}

async function serverExtensions(hosts: readonly string[], publicKey: webcrypto.CryptoKey): Promise<x509.Extension[]> {
  return [
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth], false),
    // IP addresses must be IP entries: Node's TLS client never matches an IP against a DNS name.
    new x509.SubjectAlternativeNameExtension(
      hosts.map((host) => ({ type: isIP(host) === 0 ? ('dns' as const) : ('ip' as const), value: host })),
      false,
    ),
    await x509.SubjectKeyIdentifierExtension.create(publicKey),
  ];
}

async function loadAuthority(ca: CertificateAuthority): Promise<{ caCert: x509.X509Certificate; caKey: webcrypto.CryptoKey }> {
  try {
    const caCert = new x509.X509Certificate(ca.cert);
    const der = x509.PemConverter.decode(ca.key)[0];
    if (der === undefined) throw new TlsMaterialError('ca.key: contains no PEM block');
    const caKey = await webcrypto.subtle.importKey('pkcs8', der, EC_KEY, false, ['sign']);
    return { caCert, caKey };
  } catch (error) {
    if (error instanceof TlsMaterialError) throw error;
    throw new TlsMaterialError('ca: is not a PEM certificate and PKCS #8 ECDSA P-256 key', { cause: error });
  }
}

async function generateKeys(): Promise<webcrypto.CryptoKeyPair> {
  return webcrypto.subtle.generateKey(EC_KEY, true, ['sign', 'verify']);
}

async function privateKeyPem(key: webcrypto.CryptoKey): Promise<string> {
  const der = await webcrypto.subtle.exportKey('pkcs8', key);
  return x509.PemConverter.encode(der, 'PRIVATE KEY');
}

function validity(days: number): { notBefore: Date; notAfter: Date } {
  if (!Number.isInteger(days) || days < 1) {
    throw new TlsMaterialError(`days: must be a positive integer, got ${String(days)}`);
  }
  const now = Date.now();
  return { notBefore: new Date(now - BACKDATE_MS), notAfter: new Date(now + days * DAY_MS) };
}

/** 16 random bytes with the top bit clear, so the DER integer stays positive (RFC 5280 4.1.2.2). */
function serialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] ?? 0) & 0x7f;
  return bytes.toString('hex');
}

function distinguishedName(commonName: string): string {
  // RFC 4514 escaping for the characters that would end or restructure the name.
  return `CN=${commonName.replace(/([,+"\\<>;=])/g, '\\$1')}`;
}

function requireCommonName(commonName: unknown): string {
  if (typeof commonName !== 'string' || commonName.trim() === '') {
    throw new TlsMaterialError('commonName: must be a non-empty string');
  }
  return commonName;
}

function requireHosts(hosts: readonly string[]): string[] {
  if (!Array.isArray(hosts) || hosts.length === 0) {
    throw new TlsMaterialError('hosts: must list at least one DNS name or IP address');
  }
  for (const host of hosts) {
    if (typeof host !== 'string' || host === '' || /[\s/]/.test(host)) {
      throw new TlsMaterialError(`hosts: ${JSON.stringify(host)} is not a DNS name or IP address`);
    }
  }
  return [...hosts];
}
