export { DEBIAN_PACKAGES, installCommand, locateBinary, requireBinary, type ServerBinary } from './binaries.ts';
export { ServerProcessError, type ServerProcessErrorCode } from './errors.ts';
export { freePort } from './free-port.ts';
export { renderNatsConfig, type NatsConfigOptions } from './nats-config.ts';
export { NatsServer, type NatsServerOptions } from './nats-server.ts';
export { RedisServer, type RedisServerOptions } from './redis-server.ts';
export { describeProcess, isAlive, readPidFile, stopStaleServer } from './stale-process.ts';
export { waitFor, type WaitOptions } from './wait.ts';
