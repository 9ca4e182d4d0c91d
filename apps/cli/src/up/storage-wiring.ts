/**
 * What the storage coordination role needs from the federation role, as plain data:
 * the registry's nodes in the shape storage placement reads, and the call that posts a
 * repair task to a storage node through the verifying client.
 */
import type { DmfClient } from '@dmf/client';
import { canonicalBytes } from '@dmf/protocol';
import type { Registry } from '@dmf/federation';
import type { RegistryNodeLike, StorageCandidate } from '@dmf/storage-coordinator';

export function registryStorageNodes(registry: Registry): RegistryNodeLike[] {
  return [...registry.nodes.values()].map((view) => {
    const manifest = view.history.current?.document;
    return {
      nodeId: view.nodeId,
      state: view.state,
      manifest: manifest ? { services: manifest.services, capabilities: manifest.capabilities as Record<string, unknown> } : undefined,
      services: view.history.services.map((s) => ({ type: s.document.type, entrypoints: s.document.entrypoints })),
      uptimePpm: view.attesters.filter((a) => a.counted).map((a) => a.uptimePpm),
    };
  });
}

/** Posts the task to the node's storage service; resolves when it answered 200, throws with its answer otherwise. */
export async function sendRepairTask(client: DmfClient, target: StorageCandidate, task: Record<string, unknown>): Promise<void> {
  const answer = await client.call({ node: target.url, serviceType: 'storage' }, { method: 'POST', path: '/repair_task', body: canonicalBytes(task) });
  if (answer.node.manifest.node_id !== target.node.nodeId) throw new Error(`${target.url} answered as ${answer.node.manifest.node_id}, not ${target.node.nodeId}`);
  if (answer.status !== 200) throw new Error(`POST /repair_task at ${target.node.nodeId}: ${answer.status} ${Buffer.from(answer.body).toString('utf8').slice(0, 300)}`);
}
