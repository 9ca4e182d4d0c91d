/**
 * The storage agent's adapter: shards in and out, and repair tasks.
 *
 * | route | answer |
 * |---|---|
 * | `PUT /shards/:group/:shard` | 201: the shard (raw bytes) is stored and reported; it must be the shard the group assigns to this node |
 * | `GET /shards/:cid` | the shard's bytes, checked against the CID on every read |
 * | `POST /repair_task` | 200: a signed repair task of a coordinator of this node, executed: what it rebuilt and stored |
 */
import { Type } from '@sinclair/typebox';
import { PROBLEM_KINDS, ProblemError, rawBodyOf, type DmfHttpServer } from '@dmf/http';
import { CID_RAW_SHA256_PATTERN, MAX_CHUNK_BYTES, MAX_SHARDS, SHA256_HEX_PATTERN } from '@dmf/protocol';
import type { AgentState } from './agent-state.ts';
import { CoordinatorError, type CoordinatorLink } from './coordinator-link.ts';
import { AgentRepair, MAX_TASK_BYTES, RepairRefused } from './repair.ts';
import type { Reporter } from './reporter.ts';
import { ShardStoreError, type ShardStore } from './shard-store.ts';

export const AGENT_ROUTES = Object.freeze({ put: '/shards/:group/:shard', get: '/shards/:cid', repair: '/repair_task' });

const TAG = 'storage';
const OCTETS = 'application/octet-stream';

function problem(slug: string, status: number, title: string, path: string, reason: string): ProblemError {
  return new ProblemError({ slug, status, title, detail: `${path}: ${reason}`, errors: [{ path, reason }] });
}

export interface AgentRoutesOptions {
  self: string;
  store: ShardStore;
  state: AgentState;
  link: CoordinatorLink;
  reporter: Reporter;
  repair: AgentRepair;
}

export function registerAgentRoutes(app: DmfHttpServer, o: AgentRoutesOptions): void {
  // Shards travel as raw bytes; a shard is at most one chunk (4 MiB).
  app.addContentTypeParser(OCTETS, { parseAs: 'buffer', bodyLimit: MAX_CHUNK_BYTES }, (_request, body, done) => done(null, body));

  app.put(
    AGENT_ROUTES.put,
    {
      bodyLimit: MAX_CHUNK_BYTES,
      schema: {
        summary: 'Store a shard this node is assigned (raw bytes, application/octet-stream)',
        description:
          'The erasure group comes from a coordinator of this node, signed; it must name this node as the holder of `shard`, and the bytes must be the ' +
          'shard_bytes long shard whose CID it names. Stored, then reported to the coordinators. The same shard again answers the same.',
        tags: [TAG],
        params: Type.Object({ group: Type.String({ pattern: SHA256_HEX_PATTERN, description: 'record id of the erasure group' }), shard: Type.Integer({ minimum: 0, maximum: MAX_SHARDS - 1 }) }),
        response: { 201: Type.Object({ cid: Type.String(), stored: Type.Boolean() }) },
      },
    },
    async (request, reply) => {
      const { group: groupId, shard } = request.params;
      const body = request.body;
      if (!(body instanceof Uint8Array)) throw problem('unsupported-media-type', 415, 'Unsupported media type', 'content-type', `send the shard's bytes as ${OCTETS}`);
      let group;
      try {
        group = await o.link.findGroup(groupId);
      } catch (error) {
        if (error instanceof CoordinatorError) throw problem('shard.unknown_group', 422, 'Shard refused', 'params.group', error.message);
        throw error;
      }
      if (shard >= group.shards.length) throw problem('shard.range', 422, 'Shard refused', 'params.shard', `the group has ${group.shards.length} shards`);
      if (group.holders[shard] !== o.self) throw problem('shard.not_assigned', 403, 'Shard refused', 'params.shard', `shard ${shard} of this group is assigned to ${group.holders[shard]}, not this node`);
      if (body.length !== group.shard_bytes) throw problem('shard.size', 422, 'Shard refused', 'body', `${body.length} bytes; the group's shards are ${group.shard_bytes}`);
      const cid = group.shards[shard] as string;
      try {
        await o.store.put(cid, body);
      } catch (error) {
        if (error instanceof ShardStoreError) throw problem(error.code, 422, 'Shard refused', 'body', error.message.replace(/^[\w.]+: /, ''));
        throw error;
      }
      const before = o.state.get(group.chunk, shard);
      const held = { chunk: group.chunk, shard, cid, group: groupId, ...(before?.cid === cid && before.reported ? { reported: before.reported } : {}) };
      await o.state.set(held);
      if (held.reported !== 'stored') await o.reporter.report(held, 'stored');
      reply.code(201);
      return { cid, stored: true };
    },
  );

  app.get(
    AGENT_ROUTES.get,
    {
      schema: {
        summary: "A shard's bytes by CID (checked against the CID on every read)",
        tags: [TAG],
        params: Type.Object({ cid: Type.String({ maxLength: 128 }) }),
      },
    },
    async (request, reply) => {
      const { cid } = request.params;
      if (!new RegExp(CID_RAW_SHA256_PATTERN).test(cid)) throw problem('validation-failed', 400, 'Request validation failed', 'params.cid', 'not a CIDv1 raw sha2-256 (base32, bafkrei...)');
      const read = await o.store.read(cid);
      if (read.state === 'stored') return reply.type(OCTETS).send(Buffer.from(read.bytes.buffer, read.bytes.byteOffset, read.bytes.byteLength));
      if (read.state === 'corrupt') {
        // Found by a read before the audit: tell the coordinators now.
        for (const held of o.state.shards()) if (held.cid === cid && held.reported !== 'corrupt') await o.reporter.report(held, 'corrupt');
        throw problem('shard.corrupt', 404, 'Not found', 'params.cid', 'the bytes held no longer match the CID; reported corrupt');
      }
      throw new ProblemError({ ...PROBLEM_KINDS.notFound, detail: 'params.cid: no shard with this CID is held here', errors: [{ path: 'params.cid', reason: 'no shard with this CID is held here' }] });
    },
  );

  app.post(
    AGENT_ROUTES.repair,
    {
      config: { rawBody: true },
      bodyLimit: MAX_TASK_BYTES,
      schema: {
        summary: 'Execute a signed repair task: fetch the shards to read, rebuild, check, store and report this node\'s shards (spec 7.3)',
        tags: [TAG],
        response: { 200: Type.Object({ task: Type.String(), stored: Type.Array(Type.Object({ shard: Type.Integer(), cid: Type.String() })) }) },
      },
    },
    async (request) => {
      try {
        return await o.repair.execute(rawBodyOf(request));
      } catch (error) {
        if (error instanceof RepairRefused) throw problem(error.code, error.status, error.status >= 500 ? 'Repair failed' : 'Repair refused', error.path, error.reason);
        if (error instanceof CoordinatorError) throw problem('repair.coordinator', 502, 'Coordinator not reached', '$.group', error.message);
        throw error;
      }
    },
  );
}
