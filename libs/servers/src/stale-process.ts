import { readFile, readlink, realpath, rm } from 'node:fs/promises';

/** True while a process with this pid exists (signal 0 only checks). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The pid recorded in `pidFile`, or undefined when there is none worth trusting. */
export async function readPidFile(pidFile: string): Promise<number | undefined> {
  try {
    const pid = Number((await readFile(pidFile, 'utf8')).trim());
    return Number.isSafeInteger(pid) && pid > 1 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** What /proc says of a process: its command line and working folder (Linux only). */
export async function describeProcess(pid: number): Promise<{ cmdline: string; cwd: string } | undefined> {
  try {
    const cmdline = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).replaceAll('\0', ' ');
    const cwd = await realpath(await readlink(`/proc/${pid}/cwd`));
    return { cmdline, cwd };
  } catch {
    return undefined;
  }
}

/**
 * Stops a server that an earlier run left behind (its parent was killed with SIGKILL,
 * or the machine lost power mid-shutdown), so that two servers never share one store:
 * nats-server 2.9 does not lock its store folder. Only a process that `belongs` (its
 * command line or folder says it is ours) is stopped; a recycled pid is left alone.
 * Returns the pid it stopped.
 */
export async function stopStaleServer(
  pidFile: string,
  belongs: (process: { cmdline: string; cwd: string }) => boolean,
  graceMs = 5_000,
): Promise<number | undefined> {
  const pid = await readPidFile(pidFile);
  if (pid === undefined || !isAlive(pid)) {
    await rm(pidFile, { force: true });
    return undefined;
  }
  const described = await describeProcess(pid);
  if (!described || !belongs(described)) return undefined;
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (isAlive(pid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  while (isAlive(pid)) await new Promise((resolve) => setTimeout(resolve, 20));
  await rm(pidFile, { force: true });
  return pid;
}
