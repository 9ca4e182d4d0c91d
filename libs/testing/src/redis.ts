import { RedisServer } from '@dmf/servers';
import { makeTempDir, removeDir } from './temp-dir.ts';

/** A redis-server for one test: a free port, a temp folder, no persistence. */
export interface RedisHandle {
  readonly url: string;
  readonly port: number;
  /** Stops the server and deletes its folder. Safe to call twice. */
  stop(): Promise<void>;
}

export async function startRedis(): Promise<RedisHandle> {
  const dir = await makeTempDir('redis');
  const server = RedisServer.create({ dir });
  try {
    await server.start();
  } catch (error) {
    await removeDir(dir);
    throw error;
  }
  let stopped = false;
  return {
    url: server.url,
    port: server.port,
    async stop() {
      if (stopped) return;
      stopped = true;
      await server.stop();
      await removeDir(dir);
    },
  };
}
