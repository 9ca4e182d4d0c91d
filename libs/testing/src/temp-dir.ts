import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A fresh folder under the system temp dir, named so a leftover is recognisable. */
export async function makeTempDir(label: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `dmf-test-${label}-`));
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true, maxRetries: 3 });
}
