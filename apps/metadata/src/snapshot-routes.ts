/**
 * `GET /category_snapshot`: the newest categorisation snapshot this node holds for a
 * node (itself by default, or `?node=<did:key>` for a peer whose records it projects),
 * every part as the signed record, so a client can verify it and recompute the roots.
 */
import { Type } from '@sinclair/typebox';
import { PROBLEM_KINDS, ProblemError, type DmfHttpServer } from '@dmf/http';
import { CategorySnapshotSchema, isDidKey } from '@dmf/protocol';
import { latestSnapshot } from './snapshot.ts';
import type { MetadataStore } from './store/metadata-store.ts';

export const CATEGORY_SNAPSHOT_PATH = '/category_snapshot';

const SnapshotAnswer = Type.Object(
  {
    node: Type.String(),
    stream: Type.String(),
    seq: Type.Integer(),
    last_seq: Type.Integer({ description: 'last stream sequence the snapshot covers' }),
    complete: Type.Boolean({ description: 'every part of this seq is held' }),
    parts: Type.Array(CategorySnapshotSchema, { description: 'the signed parts, in part order' }),
  },
  { additionalProperties: false },
);

export function registerSnapshotRoutes(app: DmfHttpServer, options: { store: MetadataStore; node: string }): void {
  app.get(
    CATEGORY_SNAPSHOT_PATH,
    {
      schema: {
        summary: 'The newest categorisation snapshot of a node (spec 3.1)',
        querystring: Type.Object(
          { node: Type.Optional(Type.String({ maxLength: 64, description: 'did:key of the node; default: this node' })) },
          { additionalProperties: false },
        ),
        response: { 200: SnapshotAnswer },
      },
    },
    async (request) => {
      const node = (request.query as { node?: string }).node ?? options.node;
      if (!isDidKey(node)) {
        throw new ProblemError({ ...PROBLEM_KINDS.validationFailed, detail: 'querystring.node: not an Ed25519 did:key', errors: [{ path: 'querystring.node', reason: 'not an Ed25519 did:key' }] });
      }
      const latest = await latestSnapshot(options.store, node);
      if (!latest) throw new ProblemError({ ...PROBLEM_KINDS.notFound, detail: `no categorisation snapshot of ${node} is known here yet` });
      return { node, stream: latest.stream, seq: latest.seq, last_seq: latest.last_seq, complete: latest.complete, parts: latest.parts.map((p) => p.record) };
    },
  );
}
