import { existsSync } from 'node:fs';
import { createConnection } from 'node:net';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { NatsServer, installCommand, locateBinary } from '@dmf/servers';
import { leafConnections, makeTempDir, removeDir, startFederation, startNatsServer, startRedis } from '@dmf/testing';

describe('startNatsServer', () => {
  it('runs a JetStream server on free ports and resumes its store after a restart', async () => {
    const server = await startNatsServer({ name: 'single', domain: 'solo' });
    try {
      const nc = await connect({ servers: server.url, reconnectTimeWait: 100, maxReconnectAttempts: -1 });
      const jsm = await jetstreamManager(nc);
      await jsm.streams.add({ name: 'KEEP', subjects: ['keep.>'] });
      await nc.close();
      const urlBefore = server.url;

      await server.stop();
      expect(server.running).toBe(false);
      await server.start();
      expect(server.url).toBe(urlBefore);

      const again = await connect({ servers: server.url });
      const info = await (await jetstreamManager(again)).streams.info('KEEP');
      expect(info.config.subjects).toEqual(['keep.>']);
      await again.close();
    } finally {
      await server.close();
    }
    expect(existsSync(server.storeDir)).toBe(false);
  });

  it('gives two servers different ports', async () => {
    const [a, b] = await Promise.all([startNatsServer({ name: 'a' }), startNatsServer({ name: 'b' })]);
    try {
      expect(a.url).not.toBe(b.url);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('reports a server that exits while starting, pointing at its log', async () => {
    const dir = await makeTempDir('broken');
    // `false` exits at once with status 1: the harness must not wait for readiness forever.
    const server = NatsServer.create({ dir, binary: '/bin/false', startTimeoutMs: 5_000 });
    try {
      await expect(server.start()).rejects.toThrow(/exited with code 1 while starting; see .*nats-server\.log/);
    } finally {
      await removeDir(dir);
    }
  });
});

describe('startFederation', () => {
  it('connects every operator leaf to the hub, each with its own JetStream domain', async () => {
    const federation = await startFederation({ operators: ['opa', 'opb'] });
    try {
      expect(await leafConnections(federation.hub)).toBe(2);
      const nc = await connect({ servers: federation.operators.opb!.url });
      // The hub's JetStream API is reachable from a leaf through its domain.
      const hubJsm = await jetstreamManager(nc, { domain: 'hub' });
      const account = await hubJsm.getAccountInfo();
      expect(account.domain).toBe('hub');
      const own = await (await jetstreamManager(nc)).getAccountInfo();
      expect(own.domain).toBe('opb');
      await nc.close();
    } finally {
      await federation.close();
    }
  });
});

describe('startRedis', () => {
  it('runs redis-server on a free port and removes it on stop', async () => {
    const redis = await startRedis();
    const client = new Redis(redis.url, { maxRetriesPerRequest: 1, lazyConnect: true });
    try {
      await client.connect();
      await client.set('k', 'v');
      expect(await client.get('k')).toBe('v');
    } finally {
      client.disconnect();
      await redis.stop();
      await redis.stop();
    }
    const refused = await new Promise<string>((resolve) => {
      const socket = createConnection({ host: '127.0.0.1', port: redis.port });
      socket.once('connect', () => { socket.destroy(); resolve('connected'); });
      socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
    });
    expect(refused).toBe('ECONNREFUSED');
  });
});

describe('binaries', () => {
  it('finds the installed servers and names the Debian install command for missing ones', () => {
    expect(locateBinary('nats-server')).toMatch(/nats-server$/);
    expect(installCommand(['nats-server', 'redis-server'])).toBe(
      'sudo apt-get update && sudo apt-get install -y nats-server redis-server',
    );
  });
});
