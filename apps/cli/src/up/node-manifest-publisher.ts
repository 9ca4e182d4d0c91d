import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import { publishRecord } from '@dmf/bus';
import { canonicalBytes, recordId } from '@dmf/protocol';
import { originStreamName, originSubject } from '@dmf/streams';

/** The newest node manifest in this operator's ORIGIN stream, parsed, or undefined. */
export async function lastPublishedNodeManifest(jsm: JetStreamManager, operator: string): Promise<unknown> {
  const last = await jsm.streams.getMessage(originStreamName(operator), {
    last_by_subj: originSubject(operator, 'node_manifest'),
  });
  return last ? (JSON.parse(new TextDecoder().decode(last.data)) as unknown) : undefined;
}

/**
 * Publishes the node's manifest into its ORIGIN stream unless the newest node manifest
 * stored there is already this very record: a restart that serves the same signed
 * version must not append a copy each time (the duplicate window is only 2 minutes).
 * Returns true when it published.
 */
export async function publishNodeManifest(
  js: JetStreamClient,
  jsm: JetStreamManager,
  operator: string,
  manifest: Record<string, unknown>,
): Promise<boolean> {
  const bytes = canonicalBytes(manifest);
  const id = recordId(manifest);
  const last = await lastPublishedNodeManifest(jsm, operator);
  if (last !== undefined && recordId(last) === id) return false;
  await publishRecord(js, { operator, id, kind: 'node_manifest', bytes });
  return true;
}
