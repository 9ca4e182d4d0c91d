import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

// A copy that `nobody` can read: the clone itself may sit in a folder only root may enter.
const copyDir = mkdtempSync(join(tmpdir(), 'dmf-prereqs-'));
chmodSync(copyDir, 0o755);
const prereqs = join(copyDir, 'prereqs.sh');
copyFileSync(fileURLToPath(new URL('../ops/lib/prereqs.sh', import.meta.url)), prereqs);
chmodSync(prereqs, 0o644);
afterAll(() => rmSync(copyDir, { recursive: true, force: true }));

/** Runs a snippet with ops/lib/prereqs.sh loaded, as an unprivileged user where we can. */
function withPrereqs(snippet: string): { status: number | null; stderr: string } {
  const script = `cd / && . ${JSON.stringify(prereqs)} && ${snippet}`;
  // As root the script would install packages; drop to `nobody` so it must print instead.
  const asRoot = process.getuid?.() === 0;
  const command = asRoot ? 'setpriv' : 'bash';
  const args = asRoot
    ? ['--reuid=65534', '--regid=65534', '--clear-groups', 'bash', '-c', script]
    : ['-c', script];
  const result = spawnSync(command, args, { encoding: 'utf8', env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } });
  return { status: result.status, stderr: result.stderr };
}

describe('ops/lib/prereqs.sh (what npm start and npm test run first)', () => {
  it('finds nats-server even where /usr/sbin is not on PATH', () => {
    const result = withPrereqs('dmf_require_servers nats-server redis-server');
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  });

  // Runs wherever the script may not install: as root (dropped to nobody above) or as a
  // user without password-less sudo. A developer with password-less sudo would install.
  it.runIf(process.getuid?.() === 0 || spawnSync('sudo', ['-n', 'true']).status !== 0)(
    'prints the exact install command when it may not install, and fails',
    () => {
      const result = withPrereqs('dmf_require_servers nats-server dmf-no-such-server');
      expect(result.status).toBe(1);
      expect(result.stderr).toBe(
        'dmf: missing dmf-no-such-server; install them with: ' +
          'sudo apt-get update && sudo apt-get install -y --no-install-recommends dmf-no-such-server\n',
      );
    },
  );
});
