/**
 * The options `dmf nodes` and `dmf call` share: which CAs to trust, which non-public
 * addresses the verifying client may reach, how long to wait. Read once from flags and
 * environment (flags win) into @dmf/client's ClientOptions, validated before any
 * traffic so that a bad value is a usage error naming its flag.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { rootCertificates } from 'node:tls';
import type { Command } from 'commander';
import type { ClientOptions } from '@dmf/client';
import { CliError, EXIT } from '../exit-codes.ts';
import { collect } from '../options.ts';

export interface ClientFlags {
  ca?: string[];
  allowAddress?: string[];
  timeout?: string;
  verbose: boolean;
}

/** Where `npm start` (`dmf up` without --data) keeps its self-signed CA, relative to the working folder. */
const LOCAL_CA_FILE = ['.dmf', 'tls', 'ca.pem'] as const;
const MAX_TIMEOUT_MS = 600_000;

/** The allowance a local URL gets when none is configured: exactly its loopback address(es). */
const LOOPBACK_HOSTS: Readonly<Record<string, readonly string[]>> = {
  '127.0.0.1': ['127.0.0.1/32'],
  '[::1]': ['::1/128'],
  localhost: ['127.0.0.1/32', '::1/128'],
};

export function addClientOptions(command: Command): Command {
  return command
    .option('--ca <pem-file>', "CA certificate trusted for the node's HTTPS, besides the system roots, e.g. <data>/tls/ca.pem of a dmf up node; repeatable (env DMF_TRUST_CA, comma-separated)", collect)
    .option('--allow-address <cidr>', 'let the client reach this non-public range, e.g. 127.0.0.0/8; repeatable (env DMF_ALLOW_ADDRESSES, comma-separated)', collect)
    .option('--timeout <ms>', 'deadline of each request, in milliseconds (default 5000)')
    .option('--verbose', 'also print every URL tried and what it did, one line each on stderr', false)
    .addHelpText(
      'after',
      '\nThe node\'s manifest chain (its node manifest, then the service manifests it signed) is verified\n' +
        'before the service is called; nothing that fails verification is used. Loopback and private\n' +
        'addresses are refused unless allowed. Flags win over the environment.\n' +
        'A local node (npm start) works without flags: for a URL on 127.0.0.1, localhost or [::1] with no\n' +
        '--allow-address (nor DMF_ALLOW_ADDRESSES), exactly that loopback address is allowed; and with no\n' +
        '--ca (nor DMF_TRUST_CA), ./.dmf/tls/ca.pem, the CA of npm start, is trusted when it exists.\n' +
        'Exit status: 0 done, 1 verification or call failed (one line says why), 2 usage error.',
    );
}

/** The node URL as given, checked to be https (the client would refuse anything else). */
export function parseNodeUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new CliError(`<node-url>: ${JSON.stringify(raw)} is not a URL; give the node's https URL, e.g. https://127.0.0.1:8443`, EXIT.usage);
  }
  if (url.protocol !== 'https:') throw new CliError(`<node-url>: ${JSON.stringify(raw)} is not an https URL (DMF nodes serve HTTPS only)`, EXIT.usage);
  return url;
}

/** A repeatable flag's values, else the comma-separated variable's, with the name to blame for a bad value. */
function listSetting(flag: string[] | undefined, flagName: string, env: string | undefined, envName: string): { values: string[]; field: string } {
  if (flag?.length) return { values: flag, field: flagName };
  return { values: (env ?? '').split(',').map((v) => v.trim()).filter((v) => v !== ''), field: envName };
}

async function readCa(file: string, field: string): Promise<string> {
  let pem: string;
  try {
    pem = await readFile(file, 'utf8');
  } catch (cause) {
    throw new CliError(`${field}: cannot read ${file}: ${(cause as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (cause as Error).message}`, EXIT.usage, { cause });
  }
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new CliError(`${field}: ${file} holds no PEM certificate`, EXIT.usage);
  return pem;
}

function parseTimeout(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^[1-9][0-9]{0,6}$/.test(raw) || Number(raw) > MAX_TIMEOUT_MS) {
    throw new CliError(`--timeout: ${JSON.stringify(raw)} must be a whole number of milliseconds, 1 to ${MAX_TIMEOUT_MS}`, EXIT.usage);
  }
  return Number(raw);
}

/**
 * ClientOptions for calling the node at `url`: flags, else environment, else the local
 * defaults (a loopback URL gets its own address allowed and `npm start`'s CA trusted).
 */
export async function clientOptionsFor(url: URL, flags: ClientFlags, env: NodeJS.ProcessEnv, cwd: string): Promise<ClientOptions> {
  const timeoutMs = parseTimeout(flags.timeout);
  const loopback = LOOPBACK_HOSTS[url.hostname.toLowerCase()];

  const allowSetting = listSetting(flags.allowAddress, '--allow-address', env.DMF_ALLOW_ADDRESSES, 'DMF_ALLOW_ADDRESSES');
  const allow = allowSetting.values.length === 0 && loopback ? [...loopback] : allowSetting.values;
  const { createAddressPolicy } = await import('@dmf/client');
  try {
    createAddressPolicy(allow);
  } catch (error) {
    throw new CliError(`${allowSetting.field}: ${(error as Error).message.replace(/^allow\[\d+\]: /, '')}`, EXIT.usage, { cause: error });
  }

  const caSetting = listSetting(flags.ca, '--ca', env.DMF_TRUST_CA, 'DMF_TRUST_CA');
  const pems = await Promise.all(caSetting.values.map((file) => readCa(resolve(cwd, file), caSetting.field)));
  if (caSetting.values.length === 0 && loopback) {
    const localCa = await readFile(resolve(cwd, ...LOCAL_CA_FILE), 'utf8').catch(() => undefined);
    if (localCa?.includes('-----BEGIN CERTIFICATE-----')) pems.push(localCa);
  }

  // The operator's own quarantine list (as dmf up reads it): such nodes are refused.
  const quarantined = new Set(listSetting(undefined, '', env.DMF_QUARANTINE, 'DMF_QUARANTINE').values);
  return {
    allow,
    ...(quarantined.size > 0 ? { isQuarantined: (nodeId: string) => quarantined.has(nodeId) } : {}),
    // The client's `ca` replaces Node's roots; a node with a publicly issued
    // certificate must still verify when a private CA is added, so keep the roots.
    ...(pems.length === 0 ? {} : { ca: [...rootCertificates, ...pems] }),
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
  };
}
