import { open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { describeProcess, isAlive, readPidFile } from '@dmf/servers';
import { CliError, EXIT } from '../exit-codes.ts';

/**
 * One `dmf up` per data folder: two would launch two nats-servers on one JetStream
 * store (nats-server 2.9 does not lock it). A lock left by a run that died is taken
 * over. Returns the release function.
 */
export async function lockDataDir(dataDir: string): Promise<() => Promise<void>> {
  const file = join(dataDir, 'dmf-up.pid');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(file, 'wx', 0o644);
      await handle.writeFile(String(process.pid));
      await handle.close();
      return async () => {
        if ((await readPidFile(file)) === process.pid) await rm(file, { force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = await readPidFile(file);
    if (holder !== undefined && holder !== process.pid && isAlive(holder)) {
      const described = await describeProcess(holder);
      // A live process that is not a dmf (a recycled pid) does not hold the folder.
      if (!described || described.cmdline.includes('dmf')) {
        throw new CliError(`another dmf up or storage agent (pid ${holder}) is using ${dataDir}; stop it first, or choose another --data folder`, EXIT.failed);
      }
    }
    await rm(file, { force: true }); // stale: its dmf is gone
  }
  throw new CliError(`cannot lock ${dataDir}: another dmf up or storage agent keeps taking it`, EXIT.failed);
}
