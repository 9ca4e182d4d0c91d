import { readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { startFederation } from '@dmf/testing';

/** Command lines of running processes that mention `needle`. */
async function processesMentioning(needle: string): Promise<string[]> {
  const found: string[] = [];
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const cmdline = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).replaceAll('\0', ' ');
      if (cmdline.includes(needle)) found.push(cmdline);
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

describe('startFederation', () => {
  it('closes every server that started when another fails to start, then rethrows', async () => {
    // 'leakprobe' starts; 'bad domain' is refused by the config renderer while it starts.
    const probe = 'leakprobe';
    await expect(startFederation({ operators: [probe, 'bad domain'] })).rejects.toThrow(/domain/);
    expect(await processesMentioning(`dmf-test-${probe}-`)).toEqual([]);
    expect((await readdir(tmpdir())).filter((name) => name.startsWith(`dmf-test-${probe}-`))).toEqual([]);
  });
});
