import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const DMF_BIN = fileURLToPath(new URL('../bin/dmf.mjs', import.meta.url));

export interface DmfResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the real `dmf` command as a user would, feeding `input` to its stdin. */
export function runDmf(args: readonly string[], options: { input?: string; cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<DmfResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [DMF_BIN, ...args], {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.input ?? '');
  });
}
