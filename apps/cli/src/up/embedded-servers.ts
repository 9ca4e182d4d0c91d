import { join } from 'node:path';
import { NatsServer, RedisServer } from '@dmf/servers';
import { leafDeniedImports } from '@dmf/streams';
import type { Lifecycle } from './lifecycle.ts';
import type { UpConfig } from './config.ts';
import { redactUrl } from '../redact-url.ts';

export interface BackingServices {
  natsUrl: string;
  redisUrl: string;
  /** Human lines describing where each runs, for the start-up banner. */
  summary: string[];
}

/**
 * The embedded default: launch nats-server and/or redis-server from the installed
 * binaries, each in a folder of its own under the data folder, unless a URL for it
 * was configured. Stores persist, so running `dmf up` again resumes with the same data.
 */
export async function startBackingServices(
  config: UpConfig,
  lifecycle: Lifecycle,
  onFatal: (description: string) => void,
): Promise<BackingServices> {
  const summary: string[] = [];
  let natsUrl = config.natsUrl;
  if (natsUrl === undefined) {
    const nats = NatsServer.create({
      dir: join(config.dataDir, 'nats'),
      name: config.operator,
      domain: config.domain,
      leafRemotes: config.leafRemotes,
      // No other server of the federation may publish into this operator's ORIGIN, nor
      // change its streams through its JetStream API.
      leafDenyImports: leafDeniedImports(config.operator, config.domain),
    });
    nats.onUnexpectedExit(onFatal);
    lifecycle.add('nats-server', () => nats.stop(), () => void nats.kill());
    await nats.start();
    natsUrl = nats.url;
    const leaf = config.leafRemotes.length > 0 ? `, leaf of ${config.leafRemotes.join(', ')}` : '';
    summary.push(`nats       ${nats.url} (embedded, JetStream domain ${config.domain}${leaf}; log ${nats.logFile})`);
  } else {
    summary.push(`nats       ${redactUrl(natsUrl)} (external)`);
  }
  let redisUrl = config.redisUrl;
  if (redisUrl === undefined) {
    const redis = RedisServer.create({ dir: join(config.dataDir, 'redis'), persistent: true });
    redis.onUnexpectedExit(onFatal);
    lifecycle.add('redis-server', () => redis.stop(), () => void redis.kill());
    await redis.start();
    redisUrl = redis.url;
    summary.push(`redis      ${redis.url} (embedded; log ${redis.logFile})`);
  } else {
    summary.push(`redis      ${redactUrl(redisUrl)} (external)`);
  }
  return { natsUrl, redisUrl, summary };
}
