import { resolve } from 'node:path';
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
  /** This operator's token: subjects, stream names, msg-ids, JetStream domain. DMF_OPERATOR, --operator. Default `local`. */
  operator: string;
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
}

export interface UpFlags {
  data?: string;
  host?: string;
  port?: string;
  operator?: string;
  region?: string;
  natsUrl?: string;
  redisUrl?: string;
  leafRemote?: string[];
  peer?: string[];
  logLevel?: string;
}

const OPERATOR = /^[a-z][a-z0-9-]{0,31}$/;
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function fail(field: string, reason: string): never {
  throw new CliError(`${field}: ${reason}`, EXIT.usage);
}

function list(value: string | undefined): string[] {
  return (value ?? '').split(',').map((s) => s.trim()).filter(Boolean);
}

function parsePort(field: string, raw: string): number {
  const port = Number(raw);
  if (!/^\d+$/.test(raw) || port < 1 || port > 65535) fail(field, `${JSON.stringify(raw)} is not a TCP port (1-65535)`);
  return port;
}

function parseUrl(field: string, raw: string, schemes: string[]): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    fail(field, `${JSON.stringify(raw)} is not a URL`);
  }
  if (!schemes.includes(url.protocol)) fail(field, `${JSON.stringify(raw)} must use ${schemes.join(' or ')}`);
  return raw;
}

function parseOperator(field: string, raw: string): string {
  if (!OPERATOR.test(raw)) fail(field, `${JSON.stringify(raw)} must be 1-32 of a-z, 0-9 and -, starting with a letter`);
  return raw;
}

function parsePeer(field: string, raw: string): { operator: string; domain: string } {
  const [operator = '', domain = operator, extra] = raw.split('@');
  if (extra !== undefined) fail(field, `${JSON.stringify(raw)} must be OPERATOR or OPERATOR@DOMAIN`);
  return { operator: parseOperator(field, operator), domain: parseOperator(field, domain) };
}

export function loadUpConfig(flags: UpFlags, env: NodeJS.ProcessEnv, cwd: string): UpConfig {
  const operator = parseOperator(flags.operator ? '--operator' : 'DMF_OPERATOR', flags.operator ?? env.DMF_OPERATOR ?? 'local');
  const natsRaw = flags.natsUrl ?? env.DMF_NATS_URL;
  const redisRaw = flags.redisUrl ?? env.DMF_REDIS_URL;
  const level = flags.logLevel ?? env.DMF_LOG_LEVEL ?? 'info';
  if (!LOG_LEVELS.includes(level)) fail('log level', `${JSON.stringify(level)} is not one of ${LOG_LEVELS.join(', ')}`);
  const cert = env.DMF_TLS_CERT || undefined;
  const key = env.DMF_TLS_KEY || undefined;
  if ((cert === undefined) !== (key === undefined)) fail('DMF_TLS_CERT/DMF_TLS_KEY', 'set both or neither');
  const peers = (flags.peer && flags.peer.length > 0 ? flags.peer : list(env.DMF_PEERS)).map((p) =>
    parsePeer(flags.peer?.length ? '--peer' : 'DMF_PEERS', p),
  );
  if (peers.some((p) => p.operator === operator)) fail('peers', `this operator (${operator}) cannot be its own peer`);
  return {
    dataDir: resolve(cwd, flags.data ?? env.DMF_DATA_DIR ?? '.dmf'),
    host: flags.host ?? env.DMF_HOST ?? '127.0.0.1',
    port: parsePort(flags.port ? '--port' : 'DMF_PORT', flags.port ?? env.DMF_PORT ?? '8443'),
    operator,
    region: flags.region ?? env.DMF_REGION ?? 'unspecified',
    natsUrl: natsRaw ? parseUrl('NATS URL', natsRaw, ['nats:', 'tls:']) : undefined,
    redisUrl: redisRaw ? parseUrl('Redis URL', redisRaw, ['redis:', 'rediss:']) : undefined,
    leafRemotes: (flags.leafRemote?.length ? flags.leafRemote : list(env.DMF_LEAF_REMOTES)).map((u) =>
      parseUrl('leaf remote', u, ['nats-leaf:', 'nats:', 'tls:']),
    ),
    peers,
    tlsCertFile: cert ? resolve(cwd, cert) : undefined,
    tlsKeyFile: key ? resolve(cwd, key) : undefined,
    logLevel: level,
  };
}
