import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { ServerProcessError } from './errors.ts';

/** The Debian/Ubuntu packages that provide the servers DMF launches itself. */
export const DEBIAN_PACKAGES = { 'nats-server': 'nats-server', 'redis-server': 'redis-server' } as const;

export type ServerBinary = keyof typeof DEBIAN_PACKAGES;

// Debian installs nats-server into /usr/sbin, which is not on a normal user's PATH.
const EXTRA_DIRS = ['/usr/sbin', '/usr/local/sbin', '/usr/local/bin', '/usr/bin'];

/** Absolute path of `name`, searching PATH and the sbin folders; undefined when absent. */
export function locateBinary(name: ServerBinary, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const dirs = [...(env.PATH ?? '').split(delimiter).filter(Boolean), ...EXTRA_DIRS];
  for (const dir of dirs) {
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here; keep looking
    }
  }
  return undefined;
}

/** The exact command that installs the missing servers on Debian/Ubuntu. */
export function installCommand(missing: readonly ServerBinary[]): string {
  return `sudo apt-get update && sudo apt-get install -y ${missing.map((m) => DEBIAN_PACKAGES[m]).join(' ')}`;
}

/** Like locateBinary, but throws an error that tells the user how to install it. */
export function requireBinary(name: ServerBinary, env: NodeJS.ProcessEnv = process.env): string {
  const found = locateBinary(name, env);
  if (found) return found;
  throw new ServerProcessError('binary.missing', `${name} is not installed; install it with: ${installCommand([name])}`);
}
