import { mkdir, readFile, writeFile, access } from 'node:fs/promises';
import { join } from 'node:path';
import { generateSigningKey, readKeyFile, writeKeyFile, type SigningKey } from '@dmf/protocol';
import { createCertificateAuthority, issueServerCertificate } from '@dmf/http';
import type { UpConfig } from './config.ts';

export interface NodeIdentity {
  key: SigningKey;
  keyFile: string;
  tls: { key: string; cert: string };
  /** The CA a client should trust for the self-signed certificate (absent for operator certificates). */
  caFile: string | undefined;
  /** True when this run created the key (first run). */
  created: boolean;
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
export async function loadOrCreateIdentity(config: UpConfig): Promise<NodeIdentity> {
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

  if (config.tlsCertFile && config.tlsKeyFile) {
    const [cert, tlsKey] = await Promise.all([readFile(config.tlsCertFile, 'utf8'), readFile(config.tlsKeyFile, 'utf8')]);
    return { key, keyFile, tls: { key: tlsKey, cert }, caFile: undefined, created };
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
  return { key, keyFile, tls: { key: tlsKey, cert }, caFile, created };
}
