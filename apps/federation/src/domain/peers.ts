/**
 * The peers `FEDERATED_<own>` sources (streams/definitions.ts federatedSources): the
 * operator's configured peers, plus the ORIGIN of every admitted node. Pure.
 */
import type { NodeOrigin } from './registry.ts';

export interface Peer {
  operator: string;
  domain: string;
}

/**
 * Configured peers first (the operator said so: they win a token both name), then the
 * admitted origins, once per token, never the operator's own; sorted by token.
 */
export function desiredPeers(configured: readonly Peer[], admitted: readonly NodeOrigin[], ownToken: string): Peer[] {
  const peers = new Map<string, Peer>();
  for (const p of configured) if (p.operator !== ownToken) peers.set(p.operator, { operator: p.operator, domain: p.domain });
  for (const o of admitted) if (o.operator !== ownToken && !peers.has(o.operator)) peers.set(o.operator, { operator: o.operator, domain: o.domain });
  return [...peers.values()].sort((a, b) => (a.operator < b.operator ? -1 : a.operator > b.operator ? 1 : 0));
}

/** One line naming what a change of peers adds and removes, for the log. */
export function describePeerChange(before: readonly Peer[], after: readonly Peer[]): { added: string[]; removed: string[] } {
  const key = (p: Peer) => `${p.operator}@${p.domain}`;
  const was = new Set(before.map(key));
  const now = new Set(after.map(key));
  return { added: [...now].filter((k) => !was.has(k)), removed: [...was].filter((k) => !now.has(k)) };
}
