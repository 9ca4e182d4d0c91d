/**
 * `<data>/node.json`: what a running `dmf up` tells the other commands about itself (its
 * operator and the NATS server it uses), so that `dmf projections …` and `dmf snapshot`
 * find an embedded node without flags. Written when the node is ready, mode 0600 (the
 * URL may carry credentials), removed when it stops; a file left by a killed node is
 * recognised by its dead pid.
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface NodeInfo {
  pid: number;
  operator: string;
  domain: string;
  nats: string;
  url: string;
}

export function nodeInfoPath(dataDir: string): string {
  return join(dataDir, 'node.json');
}

export async function writeNodeInfo(dataDir: string, info: NodeInfo): Promise<() => Promise<void>> {
  const path = nodeInfoPath(dataDir);
  await writeFile(path, `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600 });
  return () => rm(path, { force: true });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The running node of a data folder, or undefined when none runs there. */
export async function readRunningNode(dataDir: string): Promise<NodeInfo | undefined> {
  let info: NodeInfo;
  try {
    info = JSON.parse(await readFile(nodeInfoPath(dataDir), 'utf8')) as NodeInfo;
  } catch {
    return undefined;
  }
  return Number.isInteger(info.pid) && typeof info.nats === 'string' && alive(info.pid) ? info : undefined;
}
