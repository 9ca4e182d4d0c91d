/**
 * `dmf storage agent` settings: flags, else environment, else defaults; every mistake
 * is a one-line usage error naming the flag or variable.
 */
import { resolve } from 'node:path';
import { isHttpsUrl } from '@dmf/protocol';
import { defaultPublicUrl, fail, LOG_LEVELS, parseHost, parsePort, parseUrl, REGION } from '../up/config.ts';

export interface AgentConfig {
  /** Data folder: key, TLS material, shards, state. --data, DMF_AGENT_DATA_DIR. Default ./.dmf-agent. */
  dataDir: string;
  host: string;
  port: number;
  publicUrl: string;
  region: string;
  /** Bytes this agent offers (capabilities.storage.capacity_bytes). --capacity, DMF_AGENT_CAPACITY. */
  capacityBytes: number;
  /** Coordinators' https URLs. --coordinator (repeatable), DMF_AGENT_COORDINATORS. */
  coordinators: string[];
  allowAddresses: string[];
  trustCaFiles: string[];
  auditIntervalSeconds: number;
  logLevel: string;
  tlsCertFile: string | undefined;
  tlsKeyFile: string | undefined;
  /** The identity helpers name the self-signed CA after it. */
  operator: string;
  operatorKeyFile: undefined;
}

export interface AgentFlags {
  data?: string;
  host?: string;
  port?: string;
  publicUrl?: string;
  region?: string;
  capacity?: string;
  coordinator?: string[];
  allowAddress?: string[];
  trustCa?: string[];
  auditInterval?: string;
  logLevel?: string;
}

const UNITS: Record<string, number> = { '': 1, k: 1e3, m: 1e6, g: 1e9, t: 1e12, ki: 2 ** 10, mi: 2 ** 20, gi: 2 ** 30, ti: 2 ** 40 };

/** `500000000`, `500MB`, `10GiB`, `1.5TB` → bytes. */
export function parseBytes(field: string, raw: string): number {
  const match = /^([0-9]+(?:\.[0-9]+)?)\s*([kmgt]i?)?b?$/i.exec(raw.trim());
  const unit = UNITS[(match?.[2] ?? '').toLowerCase()];
  // Rounded, not floored: 4.1 × 10^6 is 4099999.999... in floating point.
  const exact = match && unit !== undefined ? Number(match[1]) * unit : Number.NaN;
  const bytes = Math.round(exact);
  if (!Number.isSafeInteger(bytes) || bytes < 1 || Math.abs(exact - bytes) > 1e-6 * Math.max(1, exact)) {
    fail(field, `${JSON.stringify(raw)} is not a whole number of bytes (e.g. 500000000, 500MB, 10GiB)`);
  }
  return bytes;
}

function list(value: string | undefined): string[] {
  return (value ?? '').split(',').map((s) => s.trim()).filter(Boolean);
}

export function loadAgentConfig(flags: AgentFlags, env: NodeJS.ProcessEnv, cwd: string): AgentConfig {
  const host = parseHost(flags.host !== undefined ? '--host' : 'DMF_AGENT_HOST', flags.host ?? env.DMF_AGENT_HOST ?? '127.0.0.1');
  const port = parsePort(flags.port !== undefined ? '--port' : 'DMF_AGENT_PORT', flags.port ?? env.DMF_AGENT_PORT ?? '9443');
  const publicRaw = flags.publicUrl ?? env.DMF_AGENT_PUBLIC_URL;
  const publicUrl = (publicRaw ?? defaultPublicUrl(host, port)).replace(/\/+$/, '');
  if (!isHttpsUrl(publicUrl)) fail(flags.publicUrl !== undefined ? '--public-url' : 'DMF_AGENT_PUBLIC_URL', `${JSON.stringify(publicRaw)} is not an https URL without credentials`);
  const region = flags.region ?? env.DMF_AGENT_REGION ?? 'unspecified';
  if (!REGION.test(region)) fail(flags.region !== undefined ? '--region' : 'DMF_AGENT_REGION', `${JSON.stringify(region)} must be 1-64 of A-Z, a-z, 0-9, '.', '_' and '-', starting with a letter or digit`);
  const capacityRaw = flags.capacity ?? env.DMF_AGENT_CAPACITY;
  if (capacityRaw === undefined) fail('--capacity', 'required: the bytes this agent offers for shards (e.g. 100GiB), or DMF_AGENT_CAPACITY');
  const capacityBytes = parseBytes(flags.capacity !== undefined ? '--capacity' : 'DMF_AGENT_CAPACITY', capacityRaw);
  const coordinatorField = flags.coordinator?.length ? '--coordinator' : 'DMF_AGENT_COORDINATORS';
  const coordinators = (flags.coordinator?.length ? flags.coordinator : list(env.DMF_AGENT_COORDINATORS)).map((u) => parseUrl(coordinatorField, u, ['https:']).replace(/\/+$/, ''));
  if (coordinators.length === 0) fail('--coordinator', 'required: the https URL of a DMF node coordinating storage (repeatable), or DMF_AGENT_COORDINATORS');
  const auditRaw = flags.auditInterval ?? env.DMF_AGENT_AUDIT_INTERVAL ?? '3600';
  if (!/^[0-9]{1,7}$/.test(auditRaw) || Number(auditRaw) < 1) fail(flags.auditInterval !== undefined ? '--audit-interval' : 'DMF_AGENT_AUDIT_INTERVAL', `${JSON.stringify(auditRaw)} must be a whole number of seconds, at least 1`);
  const level = flags.logLevel ?? env.DMF_LOG_LEVEL ?? 'info';
  if (!LOG_LEVELS.includes(level)) fail(flags.logLevel !== undefined ? '--log-level' : 'DMF_LOG_LEVEL', `${JSON.stringify(level)} is not one of ${LOG_LEVELS.join(', ')}`);
  const cert = env.DMF_TLS_CERT || undefined;
  const key = env.DMF_TLS_KEY || undefined;
  if ((cert === undefined) !== (key === undefined)) fail('DMF_TLS_CERT/DMF_TLS_KEY', 'set both or neither');
  return {
    dataDir: resolve(cwd, flags.data ?? env.DMF_AGENT_DATA_DIR ?? '.dmf-agent'),
    host,
    port,
    publicUrl,
    region,
    capacityBytes,
    coordinators,
    allowAddresses: flags.allowAddress?.length ? flags.allowAddress : list(env.DMF_ALLOW_ADDRESSES),
    trustCaFiles: (flags.trustCa?.length ? flags.trustCa : list(env.DMF_TRUST_CA)).map((f) => resolve(cwd, f)),
    auditIntervalSeconds: Number(auditRaw),
    logLevel: level,
    tlsCertFile: cert ? resolve(cwd, cert) : undefined,
    tlsKeyFile: key ? resolve(cwd, key) : undefined,
    operator: 'storage-agent',
    operatorKeyFile: undefined,
  };
}
