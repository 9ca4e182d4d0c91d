import { statSync } from 'node:fs';
import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { createAddressPolicy } from '@dmf/client';
import { REGION_PATTERN, isDidKey, isHttpsUrl } from '@dmf/protocol';
import { headCacheBytes } from '@dmf/metadata';
import { DefinitionError, validateDomain, validateOperator } from '@dmf/streams';
import { CliError, EXIT } from '../exit-codes.ts';

/**
 * Everything `dmf up` is configured with. Read once from the environment and the
 * command line (flags win), validated here, then passed down: nothing below reads
 * process.env.
 */
export interface UpConfig {
  /** Data folder: keys, TLS material, embedded servers' stores. DMF_DATA_DIR, --data. Default `./.dmf`. */
  dataDir: string;
  /** HTTPS interface. DMF_HOST, --host. Default 127.0.0.1. */
  host: string;
  /** HTTPS port. DMF_PORT, --port. Default 8443. */
  port: number;
  /** The https URL clients use to reach this node (service manifests' entrypoints). DMF_PUBLIC_URL, --public-url. Default: https://<host>:<port> (localhost for a wildcard host). */
  publicUrl: string;
  /** This operator's token: subjects, stream names, msg-ids. DMF_OPERATOR, --operator. Default `local`. */
  operator: string;
  /** This operator's JetStream domain. DMF_DOMAIN, --domain. Default: the operator token. */
  domain: string;
  /** Region reported in the node manifest's capabilities. DMF_REGION, --region. Default `unspecified`. */
  region: string;
  /** External NATS; unset = launch nats-server embedded. DMF_NATS_URL, --nats-url. */
  natsUrl: string | undefined;
  /** External Redis; unset = launch redis-server embedded. DMF_REDIS_URL, --redis-url. */
  redisUrl: string | undefined;
  /** Federation hubs the embedded nats-server joins as a leaf. DMF_LEAF_REMOTES (comma-separated), --leaf-remote. */
  leafRemotes: string[];
  /** Peers whose ORIGIN streams FEDERATED sources: `op` or `op@domain`. DMF_PEERS (comma-separated), --peer. */
  peers: { operator: string; domain: string }[];
  /** Operator TLS certificate and key (PEM files); unset = self-signed under the data folder. DMF_TLS_CERT, DMF_TLS_KEY. */
  tlsCertFile: string | undefined;
  tlsKeyFile: string | undefined;
  /** pino level. DMF_LOG_LEVEL, --log-level. Default info. */
  logLevel: string;
  /** Seconds between categorisation snapshots; 0 = on request only. DMF_SNAPSHOT_INTERVAL, --snapshot-interval. Default 3600. */
  snapshotIntervalSeconds: number;
  /** Memory for the metadata head view, bytes (0 = off). DMF_METADATA_HEAD_CACHE_MB. Default min(2 GiB, a quarter of RAM). */
  metadataHeadCacheBytes: number;
  /** A key file (dmf keygen) of the operator, who then signs the node manifest (`operator`). DMF_OPERATOR_KEY, --operator-key. */
  operatorKeyFile: string | undefined;
  /** Requests per 10 s from one client subnet before 429 (libs/http rate limit). DMF_RATE_LIMIT. Default 1200. */
  rateLimitPerTenSeconds: number;
  /** Federation (spec 4.2): who to join through, what the prober may reach, and how it probes. */
  federation: FederationConfig;
  /** Storage coordination (spec 7): repair timing and limits. */
  storage: StorageConfig;
}

export interface StorageConfig {
  /** Seconds a holder may be unreachable before its shards are rebuilt elsewhere. DMF_STORAGE_DOWN_TO_OUT. Default 1800. */
  downToOutSeconds: number;
  /** Seconds between two passes of the chunk checker. DMF_STORAGE_CHECK_INTERVAL. Default 5. */
  checkIntervalSeconds: number;
  /** Repair traffic each storage node may carry per hour, MiB. DMF_STORAGE_REPAIR_MB_PER_HOUR. Default 10240. */
  repairMibPerHour: number;
}

export interface FederationConfig {
  /** Bootstrap peers' https URLs: verified, trusted as admitted, sourced, announced to. DMF_BOOTSTRAP (comma-separated), --bootstrap. */
  bootstrap: string[];
  /** CIDRs the verifying client may reach besides public addresses (e.g. 127.0.0.0/8 on one machine). DMF_ALLOW_ADDRESSES, --allow-address. Default none. */
  allowAddresses: string[];
  /** PEM files of CAs trusted for peers' HTTPS besides Node's built-in roots. DMF_TRUST_CA (comma-separated), --trust-ca. */
  trustCaFiles: string[];
  /** Node ids (did:key) this operator quarantines. DMF_QUARANTINE (comma-separated). */
  quarantined: string[];
  /** Seconds between two probes of one node. DMF_PROBE_INTERVAL, --probe-interval. Default 60. */
  probeIntervalSeconds: number;
  /** Seconds a node is observed before it is attested. DMF_PROBE_WINDOW, --probe-window. Default 600. */
  probeWindowSeconds: number;
  /** Spec 9.1 thresholds (environment only; defaults in apps/federation domain/records.ts and announce.ts). */
  thresholds: {
    /** Manifest versions of one node within an hour before it is quarantined. DMF_CHURN_LIMIT. Default 20. */
    churnLimit?: number;
    /** Refused fingerprints its ORIGIN may carry (and 5% of what it carried). DMF_BAD_FINGERPRINT_LIMIT. Default 20. */
    badFingerprintLimit?: number;
    /** Invalid records its ORIGIN may carry (and 5%). DMF_INVALID_METADATA_LIMIT. Default 20. */
    invalidMetadataLimit?: number;
    /** Operators whose attestations admit a node (spec 4.2: 2; 1 for a single-operator deployment). DMF_ATTESTERS_NEEDED. Default 2. */
    attestersNeeded?: number;
    /** Nodes never seen before that may be announced here, and probe windows opened, per hour. DMF_NEW_NODES_PER_HOUR. Default 20. */
    newNodesPerHour?: number;
  };
}

export interface UpFlags {
  data?: string;
  host?: string;
  port?: string;
  operator?: string;
  domain?: string;
  region?: string;
  natsUrl?: string;
  redisUrl?: string;
  publicUrl?: string;
  leafRemote?: string[];
  peer?: string[];
  logLevel?: string;
  snapshotInterval?: string;
  bootstrap?: string[];
  allowAddress?: string[];
  trustCa?: string[];
  probeInterval?: string;
  probeWindow?: string;
  operatorKey?: string;
}

// The node manifest's `capabilities.region`.
export const REGION = new RegExp(REGION_PATTERN);
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export function fail(field: string, reason: string): never {
  throw new CliError(`${field}: ${reason}`, EXIT.usage);
}

function list(value: string | undefined): string[] {
  return (value ?? '').split(',').map((s) => s.trim()).filter(Boolean);
}

export function parsePort(field: string, raw: string): number {
  const port = Number(raw);
  if (!/^\d+$/.test(raw) || port < 1 || port > 65535) fail(field, `${JSON.stringify(raw)} is not a TCP port (1-65535)`);
  return port;
}

const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/** An IP address, or a host name that is not a malformed dotted-decimal address. */
export function parseHost(field: string, raw: string): string {
  if (isIP(raw)) return raw;
  if (/^[\d.]+$/.test(raw) || !HOSTNAME.test(raw)) fail(field, `${JSON.stringify(raw)} is not an IP address or host name`);
  return raw;
}

export function defaultPublicUrl(host: string, port: number): string {
  const name = host === '0.0.0.0' || host === '::' ? 'localhost' : host.includes(':') ? `[${host}]` : host;
  return `https://${name}:${port}`;
}

export function parseUrl(field: string, raw: string, schemes: string[]): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    fail(field, `${JSON.stringify(raw)} is not a URL`);
  }
  if (!schemes.includes(url.protocol)) fail(field, `${JSON.stringify(raw)} must use ${schemes.join(' or ')}`);
  if (!url.hostname) fail(field, `${JSON.stringify(raw)} has no host`);
  return raw;
}

/** Runs one of @dmf/streams' name validators, turning its error into a usage error. */
function validName(validate: (value: string, field: string) => string, field: string, raw: string): string {
  try {
    return validate(raw, field);
  } catch (error) {
    if (error instanceof DefinitionError) throw new CliError(error.message, EXIT.usage, { cause: error });
    throw error;
  }
}

function parsePeer(field: string, raw: string): { operator: string; domain: string } {
  const [operator = '', domain = operator, extra] = raw.split('@');
  if (extra !== undefined) fail(field, `${JSON.stringify(raw)} must be OPERATOR or OPERATOR@DOMAIN`);
  return { operator: validName(validateOperator, field, operator), domain: validName(validateDomain, field, domain) };
}

/** A repeatable flag's values, else the comma-separated variable's; with the field name to blame. */
function listSetting(flag: string[] | undefined, flagName: string, env: string | undefined, envName: string): { values: string[]; field: string } {
  return flag?.length ? { values: flag, field: flagName } : { values: list(env), field: envName };
}

function seconds(flag: string | undefined, flagName: string, env: string | undefined, envName: string, fallback: string): number {
  const raw = flag ?? env ?? fallback;
  const field = flag !== undefined ? flagName : envName;
  if (!/^[0-9]{1,7}$/.test(raw) || Number(raw) < 1) fail(field, `${JSON.stringify(raw)} must be a whole number of seconds, at least 1`);
  return Number(raw);
}

function rateLimit(raw: string | undefined): number {
  const value = raw ?? '1200';
  if (!/^[0-9]{1,10}$/.test(value) || Number(value) < 1) fail('DMF_RATE_LIMIT', `${JSON.stringify(value)} must be a whole number of requests per 10 seconds, at least 1`);
  return Number(value);
}

function loadFederationConfig(flags: UpFlags, env: NodeJS.ProcessEnv, cwd: string): FederationConfig {
  const bootstrap = listSetting(flags.bootstrap, '--bootstrap', env.DMF_BOOTSTRAP, 'DMF_BOOTSTRAP');
  const allow = listSetting(flags.allowAddress, '--allow-address', env.DMF_ALLOW_ADDRESSES, 'DMF_ALLOW_ADDRESSES');
  try {
    createAddressPolicy(allow.values);
  } catch (error) {
    fail(allow.field, (error as Error).message.replace(/^allow\[\d+\]: /, ''));
  }
  const trust = listSetting(flags.trustCa, '--trust-ca', env.DMF_TRUST_CA, 'DMF_TRUST_CA');
  const quarantined = list(env.DMF_QUARANTINE);
  for (const did of quarantined) if (!isDidKey(did)) fail('DMF_QUARANTINE', `${JSON.stringify(did)} is not an Ed25519 did:key`);
  const probeIntervalSeconds = seconds(flags.probeInterval, '--probe-interval', env.DMF_PROBE_INTERVAL, 'DMF_PROBE_INTERVAL', '60');
  const probeWindowSeconds = seconds(flags.probeWindow, '--probe-window', env.DMF_PROBE_WINDOW, 'DMF_PROBE_WINDOW', '600');
  if (probeWindowSeconds < probeIntervalSeconds) fail(flags.probeWindow !== undefined ? '--probe-window' : 'DMF_PROBE_WINDOW', `${probeWindowSeconds} s is shorter than the probe interval (${probeIntervalSeconds} s)`);
  const threshold = (name: string): number | undefined => {
    const raw = env[name];
    if (raw === undefined || raw === '') return undefined;
    if (!/^[0-9]{1,9}$/.test(raw) || Number(raw) < 1) fail(name, `${JSON.stringify(raw)} must be a whole number, at least 1`);
    return Number(raw);
  };
  const thresholds = {
    churnLimit: threshold('DMF_CHURN_LIMIT'),
    badFingerprintLimit: threshold('DMF_BAD_FINGERPRINT_LIMIT'),
    invalidMetadataLimit: threshold('DMF_INVALID_METADATA_LIMIT'),
    newNodesPerHour: threshold('DMF_NEW_NODES_PER_HOUR'),
    attestersNeeded: threshold('DMF_ATTESTERS_NEEDED'),
  };
  return {
    thresholds: Object.fromEntries(Object.entries(thresholds).filter(([, v]) => v !== undefined)),
    bootstrap: bootstrap.values.map((u) => {
      parseUrl(bootstrap.field, u, ['https:']);
      return u.replace(/\/+$/, '');
    }),
    allowAddresses: allow.values,
    trustCaFiles: trust.values.map((f) => resolve(cwd, f)),
    quarantined,
    probeIntervalSeconds,
    probeWindowSeconds,
  };
}

function loadStorageConfig(env: NodeJS.ProcessEnv): StorageConfig {
  const number = (name: string, fallback: number, min: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    if (!/^[0-9]{1,9}$/.test(raw) || Number(raw) < min) fail(name, `${JSON.stringify(raw)} must be a whole number, at least ${min}`);
    return Number(raw);
  };
  return {
    downToOutSeconds: number('DMF_STORAGE_DOWN_TO_OUT', 1800, 0),
    checkIntervalSeconds: number('DMF_STORAGE_CHECK_INTERVAL', 5, 1),
    repairMibPerHour: number('DMF_STORAGE_REPAIR_MB_PER_HOUR', 10_240, 1),
  };
}

export function loadUpConfig(flags: UpFlags, env: NodeJS.ProcessEnv, cwd: string): UpConfig {
  const operator = validName(validateOperator, flags.operator !== undefined ? '--operator' : 'DMF_OPERATOR', flags.operator ?? env.DMF_OPERATOR ?? 'local');
  const domainRaw = flags.domain ?? env.DMF_DOMAIN;
  const domain = domainRaw === undefined ? operator : validName(validateDomain, flags.domain !== undefined ? '--domain' : 'DMF_DOMAIN', domainRaw);
  const region = flags.region ?? env.DMF_REGION ?? 'unspecified';
  if (!REGION.test(region)) fail(flags.region !== undefined ? '--region' : 'DMF_REGION', `${JSON.stringify(region)} must be 1-64 of A-Z, a-z, 0-9, '.', '_' and '-', starting with a letter or digit`);
  const natsRaw = flags.natsUrl ?? env.DMF_NATS_URL;
  const redisRaw = flags.redisUrl ?? env.DMF_REDIS_URL;
  const level = flags.logLevel ?? env.DMF_LOG_LEVEL ?? 'info';
  if (!LOG_LEVELS.includes(level)) fail(flags.logLevel !== undefined ? '--log-level' : 'DMF_LOG_LEVEL', `${JSON.stringify(level)} is not one of ${LOG_LEVELS.join(', ')}`);
  const cert = env.DMF_TLS_CERT || undefined;
  const key = env.DMF_TLS_KEY || undefined;
  if ((cert === undefined) !== (key === undefined)) fail('DMF_TLS_CERT/DMF_TLS_KEY', 'set both or neither');
  const peers = (flags.peer && flags.peer.length > 0 ? flags.peer : list(env.DMF_PEERS)).map((p) =>
    parsePeer(flags.peer?.length ? '--peer' : 'DMF_PEERS', p),
  );
  if (peers.some((p) => p.operator === operator)) fail('peers', `this operator (${operator}) cannot be its own peer`);
  const dataDir = resolve(cwd, flags.data ?? env.DMF_DATA_DIR ?? '.dmf');
  const dataField = flags.data !== undefined ? '--data' : 'DMF_DATA_DIR';
  try {
    if (!statSync(dataDir).isDirectory()) fail(dataField, `${dataDir} exists and is not a folder`);
  } catch (error) {
    if (error instanceof CliError) throw error;
    // Absent is fine: dmf up creates it.
  }
  const host = parseHost(flags.host !== undefined ? '--host' : 'DMF_HOST', flags.host ?? env.DMF_HOST ?? '127.0.0.1');
  const port = parsePort(flags.port !== undefined ? '--port' : 'DMF_PORT', flags.port ?? env.DMF_PORT ?? '8443');
  const publicRaw = flags.publicUrl ?? env.DMF_PUBLIC_URL;
  const publicUrl = publicRaw === undefined ? defaultPublicUrl(host, port) : publicRaw.replace(/\/+$/, '');
  if (!isHttpsUrl(publicUrl)) fail(flags.publicUrl !== undefined ? '--public-url' : 'DMF_PUBLIC_URL', `${JSON.stringify(publicRaw)} is not an https URL without credentials`);
  const intervalField = flags.snapshotInterval !== undefined ? '--snapshot-interval' : 'DMF_SNAPSHOT_INTERVAL';
  const intervalRaw = flags.snapshotInterval ?? env.DMF_SNAPSHOT_INTERVAL ?? '3600';
  if (!/^[0-9]{1,7}$/.test(intervalRaw)) fail(intervalField, `${JSON.stringify(intervalRaw)} must be a whole number of seconds (0 = only on request)`);
  let metadataHeadCacheBytes: number;
  try {
    metadataHeadCacheBytes = headCacheBytes(undefined, env);
  } catch (error) {
    // Checked here, before any server starts; the message names the variable.
    throw new CliError((error as Error).message, EXIT.usage);
  }
  return {
    dataDir,
    host,
    port,
    publicUrl,
    operator,
    domain,
    region,
    natsUrl: natsRaw ? parseUrl(flags.natsUrl !== undefined ? '--nats-url' : 'DMF_NATS_URL', natsRaw, ['nats:', 'tls:']) : undefined,
    redisUrl: redisRaw ? parseUrl(flags.redisUrl !== undefined ? '--redis-url' : 'DMF_REDIS_URL', redisRaw, ['redis:', 'rediss:']) : undefined,
    leafRemotes: (flags.leafRemote?.length ? flags.leafRemote : list(env.DMF_LEAF_REMOTES)).map((u) =>
      parseUrl(flags.leafRemote?.length ? '--leaf-remote' : 'DMF_LEAF_REMOTES', u, ['nats-leaf:', 'nats:', 'tls:']),
    ),
    peers,
    tlsCertFile: cert ? resolve(cwd, cert) : undefined,
    tlsKeyFile: key ? resolve(cwd, key) : undefined,
    logLevel: level,
    snapshotIntervalSeconds: Number(intervalRaw),
    metadataHeadCacheBytes,
    rateLimitPerTenSeconds: rateLimit(env.DMF_RATE_LIMIT),
    operatorKeyFile: (flags.operatorKey ?? env.DMF_OPERATOR_KEY) ? resolve(cwd, (flags.operatorKey ?? env.DMF_OPERATOR_KEY) as string) : undefined,
    federation: loadFederationConfig(flags, env, cwd),
    storage: loadStorageConfig(env),
  };
}
