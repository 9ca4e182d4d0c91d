/**
 * TypeBox schemas of the storage coordination kinds (issue 6; spec 3.2, 5.3.2, 7):
 * erasure groups (which node holds which shard of a chunk), shard reports (what a
 * storage agent says of a shard it holds) and repair tasks. Objects are closed.
 */
import { Type, type Static } from '@sinclair/typebox';
import { DidKey, MAX_SAFE, RawCid, RecordId, Seq, Signature, Timestamp } from './common.ts';

const closed = { additionalProperties: false } as const;

/**
 * Popularity tiers of a chunk (spec 7.1, 7.2): hot content gets more shards spread
 * wider, long-tail content the cheapest durable code.
 */
export const POPULARITY_TIERS = ['hot', 'warm', 'long_tail'] as const;

/** Codes an erasure group may use: Reed–Solomon, locally repairable, plain copies. */
export const ERASURE_SCHEME_TYPES = ['rs', 'lrc', 'replication'] as const;

/** What a storage agent says of a shard it is assigned (spec 7.3). */
export const SHARD_STATES = ['stored', 'missing', 'corrupt'] as const;

/** Most shards one erasure group may have: codes over GF(2^8) give at most 255. */
export const MAX_SHARDS = 255;

/** A shard number: the index of the shard in its erasure group's `shards`. */
const ShardIndex = Type.Integer({ minimum: 0, maximum: MAX_SHARDS - 1, description: "shard number: index into the erasure group's shards" });

/**
 * The code of an erasure group, told apart by `type`. Each is a closed object;
 * cross-field rules: the shard count (rs: k + m, lrc: k + l + r, replication: copies)
 * is at most 255 (`group.shards`), and an LRC's k is divisible by l (`group.lrc`).
 */
export const ErasureSchemeSchema = Type.Union(
  [
    Type.Object(
      {
        type: Type.Literal('rs'),
        /** Data shards: any k of the k + m shards rebuild the chunk. */
        k: Type.Integer({ minimum: 1, maximum: MAX_SHARDS, description: 'data shards' }),
        /** Parity shards. */
        m: Type.Integer({ minimum: 0, maximum: MAX_SHARDS - 1, description: 'parity shards' }),
      },
      { ...closed, description: 'Reed–Solomon: k data shards and m parity shards, any k rebuild the chunk; k + m shards' },
    ),
    Type.Object(
      {
        type: Type.Literal('lrc'),
        /** Data shards, split evenly into l local groups. */
        k: Type.Integer({ minimum: 1, maximum: MAX_SHARDS, description: 'data shards, split evenly into l local groups (k divisible by l)' }),
        /** Local groups, one local parity shard each. */
        l: Type.Integer({ minimum: 1, maximum: MAX_SHARDS, description: 'local groups, one local parity shard each' }),
        /** Global parity shards. */
        r: Type.Integer({ minimum: 0, maximum: MAX_SHARDS - 1, description: 'global parity shards' }),
      },
      { ...closed, description: 'locally repairable code: k data shards in l local groups of k/l, one local parity per group, r global parities; k + l + r shards' },
    ),
    Type.Object(
      {
        type: Type.Literal('replication'),
        /** Whole copies of the chunk. */
        copies: Type.Integer({ minimum: 1, maximum: MAX_SHARDS, description: 'whole copies of the chunk' }),
      },
      { ...closed, description: 'replication: copies whole copies of the chunk; copies shards' },
    ),
  ],
  { description: 'the code: one of rs, lrc, replication, told apart by type' },
);

/**
 * Spec 3.2, 5.3.2, 7.2: a storage coordinator's assignment of one chunk's shards to
 * holders. Signed by `coordinator`; `seq` orders the versions of one (coordinator,
 * chunk): a repair that moves shards publishes the next. `shards[i]` is the CID of
 * shard i and `holders[i]` the node holding it; both have the scheme's shard count of
 * items, and no node holds two shards of one group (cross-field rules).
 */
export const ErasureGroupSchema = Type.Object(
  {
    kind: Type.Literal('erasure_group'),
    /** The node that assigned the shards. */
    coordinator: DidKey,
    /** The chunk's CID (one of a content manifest's `chunks`). */
    chunk: RawCid,
    /** The chunk's size in bytes. */
    size: Type.Integer({ minimum: 0, maximum: MAX_SAFE, description: 'chunk size in bytes' }),
    tier: Type.Union([Type.Literal('hot'), Type.Literal('warm'), Type.Literal('long_tail')]),
    scheme: ErasureSchemeSchema,
    /** Size of each shard in bytes. */
    shard_bytes: Type.Integer({ minimum: 0, maximum: MAX_SAFE, description: 'size of each shard in bytes' }),
    /** Each shard's CID; the index is the shard number. Repeats allowed (replication: every copy is the chunk). */
    shards: Type.Array(RawCid, {
      minItems: 1,
      maxItems: MAX_SHARDS,
      description: "each shard's CID, index = shard number; as many as the scheme's shard count (cross-field rule group.shards)",
    }),
    /** The node holding each shard, same length as `shards`, no node twice. */
    holders: Type.Array(DidKey, {
      minItems: 1,
      maxItems: MAX_SHARDS,
      description: 'the node holding each shard, same length as shards (group.shards); no node twice (group.holders)',
    }),
    seq: Seq,
    issued_at: Timestamp,
    signature: Signature,
  },
  {
    ...closed,
    description:
      "erasure group (spec 3.2, 5.3.2, 7.2): a coordinator's assignment of one chunk's shards to holders; signed by coordinator; seq orders (coordinator, chunk)",
  },
);

/**
 * Spec 5.3.2, 7.3: a storage agent's statement about one shard it is assigned: stored
 * (it holds bytes whose CID is `cid`), missing, or corrupt. Signed by `node`; `seq`
 * orders the reports of one (node, chunk, shard).
 */
export const ShardReportSchema = Type.Object(
  {
    kind: Type.Literal('shard_report'),
    /** The storage agent reporting: the shard's holder. */
    node: DidKey,
    /** Record id of the erasure_group record that assigned the shard. */
    group: RecordId,
    /** The chunk's CID. */
    chunk: RawCid,
    shard: ShardIndex,
    /** CID of the shard's bytes. */
    cid: RawCid,
    state: Type.Union([Type.Literal('stored'), Type.Literal('missing'), Type.Literal('corrupt')]),
    seq: Seq,
    issued_at: Timestamp,
    signature: Signature,
  },
  {
    ...closed,
    description: "shard report (spec 5.3.2, 7.3): a storage agent's statement about one shard it holds; signed by node; seq orders (node, chunk, shard)",
  },
);

/** One shard at one node: where a repair reads a shard, or where it stores a rebuilt one. */
const ShardAt = Type.Object(
  {
    shard: ShardIndex,
    node: DidKey,
  },
  { ...closed, description: 'a shard number and the node it is read from or stored at' },
);

/**
 * Spec 7.3: a signed repair task. The coordinator asks for shards of an erasure group
 * to be read from their holders (`read`) and the missing ones rebuilt and stored
 * (`rebuild`). Signed by `coordinator`; `seq` orders the tasks of one (coordinator,
 * group); stale after `expires_at`. No shard is read and rebuilt (`repair.overlap`),
 * none is listed twice in one list (`repair.duplicate`).
 */
export const RepairTaskSchema = Type.Object(
  {
    kind: Type.Literal('repair_task'),
    /** The node that planned the repair. */
    coordinator: DidKey,
    /** Record id of the erasure_group record being repaired. */
    group: RecordId,
    /** The chunk's CID. */
    chunk: RawCid,
    /** Which shards to read, and from where. */
    read: Type.Array(ShardAt, {
      minItems: 1,
      maxItems: MAX_SHARDS,
      description: 'which shards to read from where; no shard twice (repair.duplicate), none also rebuilt (repair.overlap)',
    }),
    /** Which shards to rebuild, and where to store them. */
    rebuild: Type.Array(ShardAt, {
      minItems: 1,
      maxItems: MAX_SHARDS,
      description: 'which shards to rebuild and where to store them; no shard twice (repair.duplicate)',
    }),
    seq: Seq,
    issued_at: Timestamp,
    expires_at: Timestamp,
    signature: Signature,
  },
  {
    ...closed,
    description: 'repair task (spec 7.3): which shards of an erasure group to read from where and which to rebuild where; signed by coordinator; seq orders (coordinator, group); stale after expires_at',
  },
);

export type ErasureGroup = Static<typeof ErasureGroupSchema>;
export type ShardReport = Static<typeof ShardReportSchema>;
export type RepairTask = Static<typeof RepairTaskSchema>;
export type ErasureScheme = Static<typeof ErasureSchemeSchema>;
export type PopularityTier = (typeof POPULARITY_TIERS)[number];
export type ErasureSchemeType = (typeof ERASURE_SCHEME_TYPES)[number];
export type ShardState = (typeof SHARD_STATES)[number];
