/**
 * The storage coordination adapter (spec 5.3.2, 7): thin routes over the intake (which
 * checks and publishes records) and the projections.
 *
 * | route | answer |
 * |---|---|
 * | `POST /assign_erasure_group` | 201: the signed erasure group and where to upload each shard; 200 for the same request again |
 * | `GET /chunk_status/:cid` | the chunk's group, condition and shards, and its repair job |
 * | `POST /repair_task` | 202: a signed repair task from an admitted node, accepted and queued (idempotent) |
 * | `POST /shard_report` | 202: a storage node's signed shard report, in the log (idempotent) |
 * | `GET /erasure_group/:id` | the signed erasure group record |
 * | `GET /repair_task/:id` | a repair task in the log, and its job here (state, outcome) |
 * | `GET /storage_nodes` | the admitted storage nodes, with free bytes and standing |
 */
import { Type, type Static } from '@sinclair/typebox';
import type { KV } from '@nats-io/kv';
import { PROBLEM_KINDS, ProblemError, rawBodyOf, type DmfHttpServer } from '@dmf/http';
import { CID_RAW_SHA256_PATTERN, ErasureSchemeSchema, MAX_CHUNK_BYTES, MAX_SHARDS, POPULARITY_TIERS, SHA256_HEX_PATTERN } from '@dmf/protocol';
import { chunkKey } from './chunk-checker.ts';
import type { ChunkStatus } from './domain/chunk-status.ts';
import { repairJobId } from './domain/repair-queue.ts';
import type { StorageCandidate } from './domain/storage-nodes.ts';
import { IntakeError, type StorageIntake } from './intake.ts';
import { executeJobId, type RepairQueue } from './repair-queue.ts';
import type { StorageProjection } from './storage-projection.ts';

export const STORAGE_ROUTES = Object.freeze({
  assign: '/assign_erasure_group',
  status: '/chunk_status/:cid',
  repairTask: '/repair_task',
  shardReport: '/shard_report',
  group: '/erasure_group/:id',
  task: '/repair_task/:id',
  nodes: '/storage_nodes',
});

const TAG = 'storage';
const Cid = Type.String({ pattern: CID_RAW_SHA256_PATTERN, maxLength: 59, description: 'CIDv1, raw codec, sha2-256, base32 (bafkrei...)' });
const Open = (description: string) => Type.Object({}, { additionalProperties: true, description });

const AssignBody = Type.Object(
  {
    chunk: Cid,
    size: Type.Integer({ minimum: 1, maximum: MAX_CHUNK_BYTES, description: 'chunk size in bytes (at most 4 MiB)' }),
    tier: Type.String({ enum: [...POPULARITY_TIERS], description: 'popularity tier: hot, warm or long_tail' }),
    scheme: Type.Optional(ErasureSchemeSchema),
    shards: Type.Array(Cid, { minItems: 1, maxItems: MAX_SHARDS, description: "each shard's CID as the uploader encoded it, shard 0 first" }),
  },
  { additionalProperties: false },
);

const HolderUrl = Type.Object({ shard: Type.Integer(), node: Type.String(), url: Type.Union([Type.String(), Type.Null()]) });

const AssignAnswer = Type.Object({
  group: Type.String({ description: 'record id of the erasure group' }),
  record: Open('the signed erasure_group record'),
  uploads: Type.Array(HolderUrl, { description: 'where each shard goes: PUT <url>/shards/<group>/<shard>' }),
});

const StatusAnswer = Type.Object({
  status: Open('chunk, group, coordinator, seq, size, tier, scheme, shard_bytes, condition, effective, repair_threshold, shards[{shard, cid, node, standing}]'),
  holders: Type.Array(HolderUrl),
  repair: Type.Union([Open('the repair job of the current group: id, state, attempts, failed_reason, outcome'), Type.Null()]),
  repairs: Type.Array(
    Type.Object({
      task: Type.String({ description: 'record id of the repair task' }),
      group: Type.String({ description: 'the group it repaired' }),
      coordinator: Type.String(),
      issued_at: Type.String(),
      read: Type.Array(Type.Object({ shard: Type.Integer(), node: Type.String() })),
      rebuild: Type.Array(Type.Object({ shard: Type.Integer(), node: Type.String() })),
      job: Type.Union([Open('its job in this node\'s repair queue, while kept: id, state, attempts, outcome'), Type.Null()]),
    }),
    { description: "the chunk's repair tasks in the log, oldest first" },
  ),
});

const Accepted = Type.Object({ id: Type.String({ description: 'record id' }), job: Type.Optional(Type.String()) });
const CidParams = Type.Object({ cid: Type.String({ maxLength: 128 }) });
const IdParams = Type.Object({ id: Type.String({ maxLength: 128 }) });

const NodesAnswer = Type.Object({
  nodes: Type.Array(
    Type.Object({
      node: Type.String(),
      url: Type.String(),
      region: Type.String(),
      capacity_bytes: Type.Integer(),
      free_bytes: Type.Integer(),
      uptime_ppm: Type.Integer(),
      standing: Type.String({ enum: ['up', 'down'] }),
      down_since: Type.Union([Type.String(), Type.Null()]),
    }),
  ),
});

export interface StorageRoutesOptions {
  intake: StorageIntake;
  projection: StorageProjection;
  kv: KV;
  queue: RepairQueue;
  nodes: () => StorageCandidate[];
}

function invalid(path: string, reason: string): ProblemError {
  return new ProblemError({ ...PROBLEM_KINDS.validationFailed, detail: `${path}: ${reason}`, errors: [{ path, reason }] });
}

function notFound(path: string, reason: string): ProblemError {
  return new ProblemError({ ...PROBLEM_KINDS.notFound, detail: `${path}: ${reason}`, errors: [{ path, reason }] });
}

/** An IntakeError as a problem (its code is the slug, as for protocol codes). */
export function intakeProblem(error: IntakeError): ProblemError {
  return new ProblemError({ slug: error.code, status: error.status, title: error.title, detail: `${error.path}: ${error.reason}`, errors: [{ path: error.path, reason: error.reason }] });
}

async function mapIntake<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof IntakeError) throw intakeProblem(error);
    throw error; // ProtocolError: libs/http maps it to its 4xx
  }
}

export function registerStorageRoutes(app: DmfHttpServer, o: StorageRoutesOptions): void {
  const urls = () => new Map(o.nodes().map((c) => [c.node.nodeId, c.url]));
  const uploads = (holders: readonly string[]) => {
    const byNode = urls();
    return holders.map((node, shard) => ({ shard, node, url: byNode.get(node) ?? null }));
  };

  app.post(
    STORAGE_ROUTES.assign,
    {
      schema: {
        summary: 'Assign the shards of a chunk to storage nodes and publish the signed erasure group (spec 5.3.2, 7.2)',
        description:
          'Placement is deterministic (weighted rendezvous over the admitted storage nodes, region and subnet diversity, capacity and uptime), ' +
          'so any node can check it. Without `scheme`, the tier decides (hot RS(8,8), warm RS(10,4), long_tail RS(17,3)). ' +
          'The same request again answers 200 with the group already assigned; a different one for the same chunk is a 409.',
        tags: [TAG],
        body: AssignBody,
        response: { 200: AssignAnswer, 201: AssignAnswer },
      },
    },
    async (request, reply) =>
      mapIntake(async () => {
        const body = request.body as Static<typeof AssignBody> & { tier: (typeof POPULARITY_TIERS)[number] };
        const { record, created } = await o.intake.assign(body);
        reply.code(created ? 201 : 200);
        return { group: record.id, record: record.document as unknown as Record<string, unknown>, uploads: uploads(record.document.holders) };
      }),
  );

  app.get(
    STORAGE_ROUTES.status,
    {
      schema: {
        summary: "A chunk's erasure group, health and repair (spec 5.3.2)",
        tags: [TAG],
        params: CidParams,
        response: { 200: StatusAnswer },
      },
    },
    async (request) => {
      const { cid } = request.params;
      if (!new RegExp(CID_RAW_SHA256_PATTERN).test(cid)) throw invalid('params.cid', 'not a CIDv1 raw sha2-256 (base32, bafkrei...)');
      const entry = await o.kv.get(chunkKey(cid));
      if (!entry || entry.length === 0) {
        if (o.projection.current(cid)) throw new ProblemError({ ...PROBLEM_KINDS.serviceUnavailable, detail: 'params.cid: the chunk was just assigned; its status is being computed', headers: { 'retry-after': '1' } });
        throw notFound('params.cid', 'no erasure group of this chunk is known here');
      }
      const status = entry.json<ChunkStatus>();
      const repair = await o.queue.view(repairJobId(cid, status.group));
      const repairs = await Promise.all(
        o.projection.tasksOfChunk(cid).map(async ({ id, document: t }) => {
          // A task this node planned ran in the group's plan job; one posted to it, in its own.
          const job = (await o.queue.view(executeJobId(id))) ?? (await o.queue.view(repairJobId(cid, t.group)));
          return { task: id, group: t.group, coordinator: t.coordinator, issued_at: t.issued_at, read: t.read, rebuild: t.rebuild, job: (job as Record<string, unknown> | undefined) ?? null };
        }),
      );
      return { status: status as unknown as Record<string, unknown>, holders: uploads(status.shards.map((s) => s.node)), repair: (repair as Record<string, unknown> | undefined) ?? null, repairs };
    },
  );

  app.post(
    STORAGE_ROUTES.repairTask,
    {
      config: { rawBody: true },
      schema: {
        summary: 'Submit a signed repair task for a chunk this node coordinates (spec 7.3)',
        description:
          'Body: a signed `repair_task` (chunk, erasure group, shards to read from where, shards to rebuild where). Accepted from any admitted node, ' +
          'for a current group this node coordinates, shards to read live, shards to rebuild not live, targets admitted storage nodes; then put in the log ' +
          'and queued for execution. The same task again answers the same and stores nothing new.',
        tags: [TAG],
        response: { 202: Accepted },
      },
    },
    async (request, reply) =>
      mapIntake(async () => {
        const answer = await o.intake.repairTask(rawBodyOf(request));
        reply.code(202);
        return answer;
      }),
  );

  app.post(
    STORAGE_ROUTES.shardReport,
    {
      config: { rawBody: true },
      schema: {
        summary: "A storage node's signed report about a shard it holds (stored, missing, corrupt)",
        description: 'Body: a signed `shard_report` by an admitted storage node, about a shard of a known erasure group with the CID the group names. Put in the log; the same report again stores nothing new.',
        tags: [TAG],
        response: { 202: Accepted },
      },
    },
    async (request, reply) =>
      mapIntake(async () => {
        const answer = await o.intake.shardReport(rawBodyOf(request));
        reply.code(202);
        return answer;
      }),
  );

  app.get(
    STORAGE_ROUTES.group,
    {
      schema: { summary: 'A signed erasure group record, by record id', tags: [TAG], params: IdParams, response: { 200: Open('the signed erasure_group record') } },
    },
    async (request) => {
      const { id } = request.params;
      if (!new RegExp(SHA256_HEX_PATTERN).test(id)) throw invalid('params.id', 'not a record id (lowercase hex SHA-256)');
      const group = o.projection.group(id);
      if (!group) throw notFound('params.id', 'no erasure group with this record id is known here');
      return group.document as unknown as Record<string, unknown>;
    },
  );

  app.get(
    STORAGE_ROUTES.task,
    {
      schema: {
        summary: 'A repair task in the log, and how its job here went (queued, active, completed with its outcome, failed with the reason)',
        tags: [TAG],
        params: IdParams,
        response: { 200: Type.Object({ record: Open('the signed repair_task record'), job: Type.Union([Open('id, state, attempts, failed_reason, outcome'), Type.Null()]) }) },
      },
    },
    async (request) => {
      const { id } = request.params;
      if (!new RegExp(SHA256_HEX_PATTERN).test(id)) throw invalid('params.id', 'not a record id (lowercase hex SHA-256)');
      const task = o.projection.task(id);
      if (!task) throw notFound('params.id', 'no repair task with this record id is known here');
      const job = (await o.queue.view(executeJobId(id))) ?? (await o.queue.view(repairJobId(task.document.chunk, task.document.group)));
      return { record: task.document as unknown as Record<string, unknown>, job: (job as Record<string, unknown> | undefined) ?? null };
    },
  );

  app.get(
    STORAGE_ROUTES.nodes,
    { schema: { summary: 'The admitted storage nodes shards may be placed on, with free bytes and standing', tags: [TAG], response: { 200: NodesAnswer } } },
    async () => ({
      nodes: o.nodes().map((c) => ({
        node: c.node.nodeId,
        url: c.url,
        region: c.node.region,
        capacity_bytes: c.capacityBytes,
        free_bytes: c.node.freeBytes,
        uptime_ppm: c.node.uptimePpm,
        standing: c.status.downSince === undefined ? ('up' as const) : ('down' as const),
        down_since: c.status.downSince === undefined ? null : new Date(c.status.downSince).toISOString(),
      })),
    }),
  );
}
