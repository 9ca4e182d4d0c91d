/**
 * TypeBox schemas of the metadata node's HTTP API (spec 5.3.1): path parameters, query
 * strings and answers. They drive validation (a bad parameter is a 400 problem naming
 * it), the response serialiser and the OpenAPI document at `/openapi.json`.
 *
 * Parameter patterns are taken from the content-manifest schema of @dmf/protocol, so a
 * path accepts exactly the ids and DIDs a manifest can hold. Only `pattern` and
 * `maxLength` are taken: the protocol's `format` names are registered with TypeBox, not
 * with the HTTP server's Ajv.
 */
import { Type, type Static } from '@sinclair/typebox';
import { ContentManifestSchema } from '@dmf/protocol';

const manifestId = ContentManifestSchema.properties.manifest_id;
const creator = ContentManifestSchema.properties.creator;

export const ManifestIdParams = Type.Object(
  {
    id: Type.String({
      pattern: manifestId.pattern,
      maxLength: manifestId.maxLength,
      description: 'manifest_id: a lowercase UUID',
    }),
  },
  { additionalProperties: false },
);
export type ManifestIdParams = Static<typeof ManifestIdParams>;

export const ManifestQuery = Type.Object(
  {
    seq: Type.Optional(
      Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description: 'an earlier accepted version (default: the current one)' }),
    ),
  },
  { additionalProperties: false },
);
export type ManifestQuery = Static<typeof ManifestQuery>;

export const CreatorParams = Type.Object(
  {
    did: Type.String({ pattern: creator.pattern, maxLength: creator.maxLength, description: "the creator's Ed25519 did:key" }),
  },
  { additionalProperties: false },
);
export type CreatorParams = Static<typeof CreatorParams>;

export const CategoryParams = Type.Object(
  {
    tag: Type.String({
      minLength: 1,
      description: 'a category or tag, URL-encoded; compared after normalising (NFC, spaces collapsed, trimmed, lower case)',
    }),
  },
  { additionalProperties: false },
);
export type CategoryParams = Static<typeof CategoryParams>;

/** Default number of entries in an index page. */
export const DEFAULT_PAGE_SIZE = 20;

/** Query of an index page; the largest `limit` is the adapter's setting. */
export function pageQuery(maxPageSize: number) {
  return Type.Object(
    {
      limit: Type.Optional(
        Type.Integer({ minimum: 1, maximum: maxPageSize, default: Math.min(DEFAULT_PAGE_SIZE, maxPageSize), description: 'entries per page' }),
      ),
      cursor: Type.Optional(
        Type.String({ minLength: 1, maxLength: 32, description: 'the `next` of the previous page, as given (opaque)' }),
      ),
    },
    { additionalProperties: false },
  );
}
export type PageQuery = Static<ReturnType<typeof pageQuery>>;

const RecordId = Type.String({ description: 'record id: lowercase hex SHA-256 of the JCS of the signed document' });

/** The signed content manifest, as its creator signed it: a client can verify it itself. */
const SignedManifest = ContentManifestSchema;

export const PublishAnswer = Type.Object(
  {
    id: RecordId,
    manifest_id: Type.String(),
    seq: Type.Integer(),
    status: Type.Union([Type.Literal('projected'), Type.Literal('accepted')], {
      description: '`projected`: readable at `location` now (201); `accepted`: stored in the log, not projected yet (202)',
    }),
    location: Type.String({ description: 'where to read this version: /manifest/<manifest_id>?seq=<seq>' }),
  },
  { additionalProperties: false },
);
export type PublishAnswer = Static<typeof PublishAnswer>;

export const ManifestAnswer = Type.Object(
  {
    manifest_id: Type.String(),
    creator: Type.String({ description: 'the owner: the creator of the first version' }),
    seq: Type.Integer({ description: 'the version answered' }),
    seqs: Type.Array(Type.Integer(), { description: 'every accepted seq, ascending; the current one last' }),
    record_id: RecordId,
    record: SignedManifest,
  },
  { additionalProperties: false },
);
export type ManifestAnswer = Static<typeof ManifestAnswer>;

export const IndexPageAnswer = Type.Object(
  {
    items: Type.Array(
      Type.Object(
        {
          manifest_id: Type.String(),
          seq: Type.Integer({ description: 'the current version' }),
          record_id: RecordId,
          record: SignedManifest,
        },
        { additionalProperties: false },
      ),
    ),
    next: Type.Union([Type.String(), Type.Null()], { description: 'cursor of the next page; null on the last page' }),
  },
  { additionalProperties: false },
);
export type IndexPageAnswer = Static<typeof IndexPageAnswer>;
