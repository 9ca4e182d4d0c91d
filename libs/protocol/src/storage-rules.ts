/**
 * Cross-field rules of the storage coordination kinds (issue 6), run after the schema:
 * an erasure group's lists fit its scheme and no node holds two of its shards; a
 * repair task neither lists a shard twice nor reads a shard it rebuilds.
 */
import { ProtocolError } from './errors.ts';
import { firstRepeated } from './schema-unique-items.ts';
import { MAX_SHARDS, type ErasureScheme } from './schemas/storage.ts';

/** Shards a scheme writes: rs k + m, lrc k + l + r, replication copies. */
export function schemeShardCount(scheme: ErasureScheme): number {
  switch (scheme.type) {
    case 'rs':
      return scheme.k + scheme.m;
    case 'lrc':
      return scheme.k + scheme.l + scheme.r;
    case 'replication':
      return scheme.copies;
  }
}

function describeScheme(scheme: ErasureScheme): string {
  switch (scheme.type) {
    case 'rs':
      return `rs k=${scheme.k} m=${scheme.m}`;
    case 'lrc':
      return `lrc k=${scheme.k} l=${scheme.l} r=${scheme.r}`;
    case 'replication':
      return `replication copies=${scheme.copies}`;
  }
}

/** group.lrc, then group.shards, then group.holders, on a schema-valid erasure group. */
export function checkErasureGroup(document: Record<string, unknown>): void {
  const scheme = document['scheme'] as ErasureScheme;
  if (scheme.type === 'lrc' && scheme.k % scheme.l !== 0) {
    throw new ProtocolError('group.lrc', `k (${scheme.k}) is not divisible by l (${scheme.l}): the local groups must be of equal size`, {
      path: '$.scheme.l',
    });
  }
  const count = schemeShardCount(scheme);
  if (count > MAX_SHARDS) {
    throw new ProtocolError('group.shards', `${describeScheme(scheme)} gives ${count} shards; at most ${MAX_SHARDS}`, { path: '$.scheme' });
  }
  for (const member of ['shards', 'holders'] as const) {
    const length = (document[member] as unknown[]).length;
    if (length !== count) {
      throw new ProtocolError('group.shards', `${length} items, but ${describeScheme(scheme)} gives ${count} shards`, { path: `$.${member}` });
    }
  }
  const holders = document['holders'] as string[];
  const repeated = firstRepeated(holders);
  if (repeated >= 0) {
    const first = holders.indexOf(holders[repeated]!);
    throw new ProtocolError('group.holders', `the node holding shard ${first} holds shard ${repeated} too: no node holds two shards of one group`, {
      path: `$.holders[${repeated}]`,
    });
  }
}

interface ShardAt {
  shard: number;
  node: string;
}

/** repair.duplicate (read, then rebuild), then repair.overlap, on a schema-valid repair task. */
export function checkRepairTask(document: Record<string, unknown>): void {
  const read = document['read'] as ShardAt[];
  const rebuild = document['rebuild'] as ShardAt[];
  for (const [member, list] of [['read', read], ['rebuild', rebuild]] as const) {
    const seen = new Map<number, number>();
    for (const [i, item] of list.entries()) {
      const earlier = seen.get(item.shard);
      if (earlier !== undefined) {
        throw new ProtocolError('repair.duplicate', `shard ${item.shard} is listed twice (also at $.${member}[${earlier}])`, {
          path: `$.${member}[${i}].shard`,
        });
      }
      seen.set(item.shard, i);
    }
  }
  const readAt = new Map(read.map((item, i) => [item.shard, i]));
  for (const [i, item] of rebuild.entries()) {
    const at = readAt.get(item.shard);
    if (at !== undefined) {
      throw new ProtocolError('repair.overlap', `shard ${item.shard} is also read (at $.read[${at}]): a shard is read or rebuilt, not both`, {
        path: `$.rebuild[${i}].shard`,
      });
    }
  }
}
