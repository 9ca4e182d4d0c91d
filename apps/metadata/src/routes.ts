/**
 * The metadata node's HTTP adapter (spec 5.3.1): thin routes over the publisher
 * (./publish-manifest.ts) and the projection's reads (./store/metadata-store.ts).
 *
 * | route | answer |
 * |---|---|
 * | `POST /publish_manifest` | 201 (projected) or 202 (in the log, not projected yet) with `Location`; a problem otherwise |
 * | `GET /manifest/:id[?seq=]` | the current version, or an earlier accepted one, with its signed record |
 * | `GET /creator/:did[?limit=&cursor=]` | the creator's manifests, in order of first publication |
 * | `GET /category/:tag[?limit=&cursor=]` | manifests under a category or tag, in order of joining it |
 *
 * `GET /manifest/<id>` (current version) is served from the in-memory head view when
 * one is given (./store/head-view.ts); `?seq=` and the index pages read KV. A store
 * that does not answer in time is a 503 problem with `Retry-After` (./problems.ts).
 *
 * Every answer carries the signed record, so a client verifies it itself. Nothing here
 * reads a cookie or logs who asked (libs/http holds that for every route).
 */
import { PROBLEM_KINDS, ProblemError, rawBodyOf, type DmfHttpServer, type ProblemKind } from '@dmf/http';
import type { ManifestHead } from './domain/decide.ts';
import { normalizeLabel } from './domain/labels.ts';
import { asProblem } from './problems.ts';
import type { ManifestPublisher } from './publish-manifest.ts';
import {
  CategoryParams,
  CreatorParams,
  DEFAULT_PAGE_SIZE,
  IndexPageAnswer,
  ManifestAnswer,
  ManifestIdParams,
  ManifestQuery,
  pageQuery,
  PublishAnswer,
  type PageQuery,
} from './schemas.ts';
import { JSON_CONTENT_TYPE, type HeadView } from './store/head-view.ts';
import { decodeCursor, type IndexPage, type MetadataStore } from './store/metadata-store.ts';

export const METADATA_ROUTES = Object.freeze({
  publish: '/publish_manifest',
  manifest: '/manifest/:id',
  creator: '/creator/:did',
  category: '/category/:tag',
});

export interface MetadataRoutesOptions {
  publisher: ManifestPublisher;
  store: MetadataStore;
  /**
   * Current heads in memory (./store/head-view.ts): `GET /manifest/<id>` without `?seq`
   * is answered from it (the same bytes), a miss reads KV through it. Without it (or
   * with a disabled one), every read goes to KV.
   */
  view?: HeadView;
  /** Largest `limit` of an index page. Default 100. */
  maxPageSize?: number;
}

const TAG = 'metadata';

function fieldProblem(kind: ProblemKind, path: string, reason: string): ProblemError {
  return new ProblemError({ ...kind, detail: `${path}: ${reason}`, errors: [{ path, reason }] });
}

function noManifest(): ProblemError {
  return fieldProblem(PROBLEM_KINDS.notFound, 'params.id', 'no manifest with this id is known here');
}

function pageAnswer(page: IndexPage) {
  return {
    items: page.heads.map((h: ManifestHead) => ({ manifest_id: h.manifest_id, seq: h.seq, record_id: h.record_id, record: h.record })),
    next: page.next ?? null,
  };
}

/** The cursor and limit of a page query; an unknown cursor is a 400 naming it. */
function pageOf(query: PageQuery, maxPageSize: number): { cursor: number | undefined; limit: number } {
  const limit = query.limit ?? Math.min(DEFAULT_PAGE_SIZE, maxPageSize);
  if (query.cursor === undefined) return { cursor: undefined, limit };
  const cursor = decodeCursor(query.cursor);
  if (cursor === undefined) {
    throw fieldProblem(PROBLEM_KINDS.validationFailed, 'querystring.cursor', 'is not a cursor this node gave out (use `next` of the previous page)');
  }
  return { cursor, limit };
}

export function registerMetadataRoutes(app: DmfHttpServer, options: MetadataRoutesOptions): void {
  const { publisher, store } = options;
  const view = options.view?.enabled ? options.view : undefined;
  const maxPageSize = options.maxPageSize ?? 100;
  if (!Number.isSafeInteger(maxPageSize) || maxPageSize < 1) throw new RangeError(`maxPageSize: must be a positive integer, got ${maxPageSize}`);
  const PageQuery = pageQuery(maxPageSize);

  app.post(
    METADATA_ROUTES.publish,
    {
      // The body is the signed manifest's exact bytes: verifying it is its validation.
      config: { rawBody: true },
      schema: {
        summary: 'Publish a creator-signed content manifest (spec 3.1, 6.3)',
        description:
          'Body: a signed `content_manifest` (application/json). Refused, each with its own problem type: ' +
          'JSON and size, schema, signature and signer, issued_at (future or stale), seq rollback, ownership of manifest_id, ' +
          'fingerprint consistency, duplicate upload, metadata spam (per-creator rate with Retry-After, quotas, tags, text). ' +
          'The same record again gets the same answer and is stored once.',
        tags: [TAG],
        response: { 201: PublishAnswer, 202: PublishAnswer },
      },
    },
    async (request, reply) => {
      let result;
      try {
        result = await publisher.publish(rawBodyOf(request));
      } catch (error) {
        throw asProblem(error);
      }
      reply.code(result.status === 'projected' ? 201 : 202).header('location', result.location);
      return result;
    },
  );

  app.get(
    METADATA_ROUTES.manifest,
    {
      schema: {
        summary: 'A content manifest: the current version, or an earlier one with ?seq=',
        tags: [TAG],
        params: ManifestIdParams,
        querystring: ManifestQuery,
        response: { 200: ManifestAnswer },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      try {
        if (view && request.query.seq === undefined) {
          // The answer's bytes as the serialiser below would make them, ready to send.
          const bytes = view.get(id) ?? (await view.answer(id));
          if (!bytes) throw noManifest();
          // Bytes go out as they are (Fastify serialises objects only); the type provider
          // knows only the schema's object type, hence the cast.
          return reply.type(JSON_CONTENT_TYPE).send(bytes as unknown as ManifestAnswer);
        }
        const head = await store.head(id);
        if (!head) throw noManifest();
        const seq = request.query.seq ?? head.seq;
        const base = { manifest_id: head.manifest_id, creator: head.creator, seq, seqs: head.seqs };
        if (seq === head.seq) return { ...base, record_id: head.record_id, record: head.record };
        const version = head.seqs.includes(seq) ? await store.version(id, seq) : undefined;
        if (!version) throw fieldProblem(PROBLEM_KINDS.notFound, 'querystring.seq', `no accepted version ${seq} (accepted: ${head.seqs.join(', ')})`);
        return { ...base, record_id: version.record_id, record: version.record };
      } catch (error) {
        throw asProblem(error);
      }
    },
  );

  app.get(
    METADATA_ROUTES.creator,
    {
      schema: {
        summary: "A creator's manifests, in the order they first published them, paginated",
        tags: [TAG],
        params: CreatorParams,
        querystring: PageQuery,
        response: { 200: IndexPageAnswer },
      },
    },
    async (request) => {
      const { cursor, limit } = pageOf(request.query, maxPageSize);
      try {
        return pageAnswer(await store.listCreator(request.params.did, cursor, limit));
      } catch (error) {
        throw asProblem(error);
      }
    },
  );

  app.get(
    METADATA_ROUTES.category,
    {
      schema: {
        summary: 'Manifests under a category or tag, in the order they joined it, paginated',
        tags: [TAG],
        params: CategoryParams,
        querystring: PageQuery,
        response: { 200: IndexPageAnswer },
      },
    },
    async (request) => {
      const label = normalizeLabel(request.params.tag);
      if (label === '') throw fieldProblem(PROBLEM_KINDS.validationFailed, 'params.tag', 'is blank after normalising');
      const { cursor, limit } = pageOf(request.query, maxPageSize);
      try {
        return pageAnswer(await store.listLabel(label, cursor, limit));
      } catch (error) {
        throw asProblem(error);
      }
    },
  );
}
