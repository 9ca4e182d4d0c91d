export { startFederation, type Federation, type StartFederationOptions } from './federation.ts';
export { leafConnections, startNatsServer, waitForLeaves, type NatsServerHandle, type StartNatsOptions } from './nats.ts';
export { startRedis, type RedisHandle } from './redis.ts';
export { makeTempDir, removeDir } from './temp-dir.ts';
export { waitFor, type WaitOptions } from '@dmf/servers';
