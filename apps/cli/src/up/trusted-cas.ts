import { readFile } from 'node:fs/promises';
import { rootCertificates } from 'node:tls';
import { CliError, EXIT } from '../exit-codes.ts';

/** The federation peers' CAs this node trusts: the configured files, plus its own CA (a self-signed node probing a peer made the same way trusts Node's roots and these). */
export async function readTrustedCas(files: readonly string[], ownCaFile: string | undefined): Promise<string[]> {
  if (files.length === 0) return [];
  const pems: string[] = [...rootCertificates];
  for (const file of [...files, ...(ownCaFile ? [ownCaFile] : [])]) {
    try {
      const pem = await readFile(file, 'utf8');
      if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new Error('holds no PEM certificate');
      pems.push(pem);
    } catch (cause) {
      throw new CliError(`--trust-ca/DMF_TRUST_CA: cannot use ${file}: ${(cause as Error).message}`, EXIT.usage, { cause });
    }
  }
  return pems;
}

