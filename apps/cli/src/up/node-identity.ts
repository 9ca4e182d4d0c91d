import { createPrivateKey, X509Certificate } from 'node:crypto';
import { createSecureContext } from 'node:tls';
import { mkdir, readFile, writeFile, access } from 'node:fs/promises';
import { join } from 'node:path';
import { generateSigningKey, readKeyFile, writeKeyFile, type SigningKey } from '@dmf/protocol';
import { createCertificateAuthority, issueServerCertificate } from '@dmf/http';
import { CliError, EXIT } from '../exit-codes.ts';
import type { UpConfig } from './config.ts';

export interface NodeIdentity {
  /** The node key: its node_id; signs attestations, reports and snapshots. */
  key: SigningKey;
  keyFile: string;
  /** The service key (`public_key` of its manifest): `keys/service.key`, else the node key. */
  serviceKey: SigningKey;
  /** The operator's key when configured (DMF_OPERATOR_KEY): it signs the node manifest. */
  operatorKey: SigningKey | undefined;
  tls: { key: string; cert: string };
  /** The CA a client should trust for the self-signed certificate (absent for operator certificates). */
  caFile: string | undefined;
  /** True when this run created the key (first run). */
  created: boolean;
}

/** Reads an operator's PEM file and checks that `parse` accepts it; errors name the setting. */
async function readPem(setting: string, path: string, parse: (pem: string) => unknown): Promise<string> {
  let pem: string;
  try {
    pem = await readFile(path, 'utf8');
  } catch (cause) {
    const reason = (cause as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (cause as Error).message;
    throw new CliError(`${setting}: cannot read ${path}: ${reason}`, EXIT.usage, { cause });
  }
  try {
    parse(pem);
  } catch (cause) {
    throw new CliError(`${setting}: ${path} is not a PEM ${setting === 'DMF_TLS_CERT' ? 'certificate' : 'private key'}`, EXIT.usage, { cause });
  }
  return pem;
}

/** Where `dmf rotate-service-key` puts the key that signs the node's service manifests. */
export function serviceKeyFile(dataDir: string): string {
  return join(dataDir, 'keys', 'service.key');
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * The node's signing key and TLS material: loaded from the data folder, or created
 * there on first run (key mode 0600; a private CA plus a server certificate for
 * localhost and the configured host). Operator certificates, when configured, are
 * used as they are.
 */
/** The settings an identity is made from (`dmf up`'s, or a storage agent's). */
export type IdentityConfig = Pick<UpConfig, 'dataDir' | 'operator' | 'host' | 'operatorKeyFile' | 'tlsCertFile' | 'tlsKeyFile'>;

export async function loadOrCreateIdentity(config: IdentityConfig): Promise<NodeIdentity> {
  const keysDir = join(config.dataDir, 'keys');
  await mkdir(keysDir, { recursive: true, mode: 0o700 });
  const keyFile = join(keysDir, 'node.key');
  let created = false;
  let key: SigningKey;
  if (await exists(keyFile)) {
    key = await readKeyFile(keyFile);
  } else {
    key = generateSigningKey();
    await writeKeyFile(keyFile, key);
    created = true;
  }
  // Written by `dmf rotate-service-key`; until then the node key signs the services.
  const serviceKeyPath = serviceKeyFile(config.dataDir);
  const serviceKey = (await exists(serviceKeyPath)) ? await readKeyFile(serviceKeyPath) : key;
  let operatorKey: SigningKey | undefined;
  if (config.operatorKeyFile) {
    try {
      operatorKey = await readKeyFile(config.operatorKeyFile);
    } catch (cause) {
      throw new CliError(`--operator-key/DMF_OPERATOR_KEY: cannot use ${config.operatorKeyFile}: ${(cause as Error).message}`, EXIT.usage, { cause });
    }
  }
  const keys = { key, keyFile, serviceKey, operatorKey };

  if (config.tlsCertFile && config.tlsKeyFile) {
    const cert = await readPem('DMF_TLS_CERT', config.tlsCertFile, (pem) => new X509Certificate(pem));
    const tlsKey = await readPem('DMF_TLS_KEY', config.tlsKeyFile, (pem) => createPrivateKey(pem));
    try {
      createSecureContext({ cert, key: tlsKey });
    } catch (cause) {
      throw new CliError(`DMF_TLS_KEY: ${config.tlsKeyFile} is not the key of the certificate in ${config.tlsCertFile}`, EXIT.usage, { cause });
    }
    return { ...keys, tls: { key: tlsKey, cert }, caFile: undefined, created };
  }

  const tlsDir = join(config.dataDir, 'tls');
  const caFile = join(tlsDir, 'ca.pem');
  const certFile = join(tlsDir, 'server.pem');
  const tlsKeyFile = join(tlsDir, 'server.key');
  if (!(await exists(certFile)) || !(await exists(tlsKeyFile)) || !(await exists(caFile))) {
    await mkdir(tlsDir, { recursive: true, mode: 0o700 });
    const ca = await createCertificateAuthority({ commonName: `DMF local CA (${config.operator})` });
    const hosts = [...new Set(['localhost', '127.0.0.1', '::1', config.host].filter((h) => h !== '0.0.0.0' && h !== '::'))];
    const server = await issueServerCertificate(ca, { hosts });
    await writeFile(caFile, ca.cert, { mode: 0o644 });
    await writeFile(certFile, server.cert, { mode: 0o644 });
    await writeFile(tlsKeyFile, server.key, { mode: 0o600 });
  }
  const [cert, tlsKey] = await Promise.all([readFile(certFile, 'utf8'), readFile(tlsKeyFile, 'utf8')]);
  return { ...keys, tls: { key: tlsKey, cert }, caFile, created };
}
