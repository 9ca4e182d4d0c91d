import { ServerProcessError } from './errors.ts';

/** What a nats-server launched by DMF is configured with. */
export interface NatsConfigOptions {
  /** server_name; required by JetStream in leaf set-ups. */
  name: string;
  /** Client port; -1 lets the server choose a free one. */
  port: number;
  /** Monitoring (HTTP) port; -1 lets the server choose. */
  httpPort: number;
  /** Interface to bind. Default 127.0.0.1. */
  host?: string;
  /** JetStream store folder; JetStream is off when absent. */
  storeDir?: string;
  /** JetStream domain of this server (one per operator; `hub` for a federation hub). */
  domain?: string;
  /** Accept leaf connections on this port (-1: server chooses). */
  leafListenPort?: number;
  /** Leaf remotes to connect to, as nats-leaf:// URLs. */
  leafRemotes?: readonly string[];
  /**
   * Subjects this server never accepts from its leaf remotes (`deny_imports`). An
   * operator lists its own record subjects here, so that no other server of the
   * federation can publish into its ORIGIN stream through the hub.
   */
  leafDenyImports?: readonly string[];
  /** Folder where the server writes its chosen ports (`<exe>_<pid>.ports`). */
  portsFileDir?: string;
  /** File where the server writes its pid. */
  pidFile?: string;
}

const NAME = /^[A-Za-z0-9_-]{1,64}$/;

/** Renders a nats-server configuration file. Pure; validates what it interpolates. */
export function renderNatsConfig(options: NatsConfigOptions): string {
  const host = options.host ?? '127.0.0.1';
  if (!NAME.test(options.name)) {
    throw new ServerProcessError('config.invalid', `name: ${JSON.stringify(options.name)} is not a valid server name`);
  }
  if (options.domain !== undefined && !NAME.test(options.domain)) {
    throw new ServerProcessError('config.invalid', `domain: ${JSON.stringify(options.domain)} is not a valid JetStream domain`);
  }
  const lines = [
    `server_name: ${options.name}`,
    `listen: ${JSON.stringify(`${host}:${options.port}`)}`,
    `http: ${JSON.stringify(`${host}:${options.httpPort}`)}`,
    // Records are small; 1 MiB leaves room for batches without inviting abuse.
    'max_payload: 1048576',
  ];
  if (options.portsFileDir) lines.push(`ports_file_dir: ${JSON.stringify(options.portsFileDir)}`);
  if (options.pidFile) lines.push(`pid_file: ${JSON.stringify(options.pidFile)}`);
  if (options.storeDir) {
    const domain = options.domain ? `, domain: ${options.domain}` : '';
    lines.push(`jetstream { store_dir: ${JSON.stringify(options.storeDir)}${domain} }`);
  }
  const leaf: string[] = [];
  if (options.leafListenPort !== undefined) leaf.push(`  listen: ${JSON.stringify(`${host}:${options.leafListenPort}`)}`);
  if (options.leafRemotes && options.leafRemotes.length > 0) {
    const deny = options.leafDenyImports?.length ? `, deny_imports: ${JSON.stringify(options.leafDenyImports)}` : '';
    const remotes = options.leafRemotes.map((url) => `{ url: ${JSON.stringify(url)}${deny} }`).join(', ');
    leaf.push(`  remotes: [ ${remotes} ]`);
  }
  if (leaf.length > 0) lines.push('leafnodes {', ...leaf, '}');
  return `${lines.join('\n')}\n`;
}
