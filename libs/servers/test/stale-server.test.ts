import { writeFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { NatsServer, RedisServer, isAlive, readPidFile } from '@dmf/servers';
import { makeTempDir, removeDir } from '@dmf/testing';

// A run that died by SIGKILL leaves its servers running (they have process groups of
// their own). The next run on the same folder must stop them before starting, or two
// nats-servers would share one JetStream store.
describe('a server left behind by a dead run', () => {
  it('is stopped when nats-server starts again on the same folder', async () => {
    const dir = await makeTempDir('stale-nats');
    const orphan = NatsServer.create({ dir, name: 'stale' });
    const next = NatsServer.create({ dir, name: 'stale' });
    try {
      await orphan.start();
      const orphanPid = await readPidFile(orphan.pidFile);
      expect(orphanPid).toBeDefined();
      expect(isAlive(orphanPid!)).toBe(true);

      await next.start(); // as a new process would, knowing nothing of `orphan`
      expect(isAlive(orphanPid!)).toBe(false);
      const nextPid = await readPidFile(next.pidFile);
      expect(nextPid).not.toBe(orphanPid);
      expect(next.running).toBe(true);
    } finally {
      await next.stop();
      await orphan.stop();
      await removeDir(dir);
    }
  });

  it('is stopped when redis-server starts again on the same folder', async () => {
    const dir = await makeTempDir('stale-redis');
    const orphan = RedisServer.create({ dir });
    const next = RedisServer.create({ dir });
    try {
      await orphan.start();
      const orphanPid = await readPidFile(orphan.pidFile);
      expect(isAlive(orphanPid!)).toBe(true);
      await next.start();
      expect(isAlive(orphanPid!)).toBe(false);
      expect(next.running).toBe(true);
    } finally {
      await next.stop();
      await orphan.stop();
      await removeDir(dir);
    }
  });

  it('leaves alone a live process that is not ours, even if a pid file names it', async () => {
    const dir = await makeTempDir('stale-foreign');
    const server = NatsServer.create({ dir, name: 'foreign' });
    try {
      await writeFile(server.pidFile, String(process.pid)); // this test process: alive, not a nats-server of ours
      await server.start();
      expect(isAlive(process.pid)).toBe(true);
      expect(server.running).toBe(true);
    } finally {
      await server.stop();
      await removeDir(dir);
    }
  });
});
