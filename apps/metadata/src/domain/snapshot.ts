/**
 * Categorisation snapshots (spec 3.1, "Publish categorization snapshots"): what a node
 * signs about its projection, computed the same way by every node so that two nodes
 * holding the same log sign the same categories, counts and roots.
 *
 * Per category (the normalised label of the current versions, labels.ts): `count`, the
 * number of current content-manifest versions in it, and `root`, the RFC 9162 Merkle
 * tree head (@dmf/merkle) over their record ids sorted ascending, each leaf being the
 * 32 bytes of an id. Categories are in UTF-8 byte order (compareCategoryNames), as the
 * `category_snapshot` kind requires. Pure: no I/O, no clock.
 */
import { compareCategoryNames, MAX_DOCUMENT_BYTES, type CategorySnapshot } from '@dmf/protocol';
import { merkleRootHex, recordIdLeaves } from '@dmf/merkle';

/** One line of a snapshot: a category, how many current versions it holds, their Merkle root. */
export type CategorySummary = CategorySnapshot['categories'][number];

/** A snapshot part before signing (signRecord adds `issued_at` and `signature`). */
export type UnsignedCategorySnapshot = Omit<CategorySnapshot, 'issued_at' | 'signature'>;

/** Most categories in one part: the schema's `maxItems`. */
export const MAX_CATEGORIES_PER_PART = 2048;

/**
 * Most bytes of `categories` JSON in one part. 2,048 categories of 64 characters of
 * three UTF-8 bytes each would be about 630 KB, above the 512 KiB a signed document may
 * have; the other members (node, stream, numbers, signature) take well under 1 KiB, and
 * 8 KiB are kept for them.
 */
export const MAX_CATEGORY_BYTES_PER_PART = MAX_DOCUMENT_BYTES - 8 * 1024;

/** Longest category name the `category_snapshot` schema accepts (UTF-16 units, as the schema counts). */
const MAX_CATEGORY_LENGTH = 64;

export const SNAPSHOT_ERROR_CODES = [
  // A category name the snapshot schema cannot carry (normalised label over 64 characters).
  'category.too_long',
  // A record id that is not 64 lowercase hex characters.
  'record_id.invalid',
  // The projection kept changing while it was read.
  'projection.busy',
  // The node did not publish the requested snapshot in time.
  'request.timeout',
  // No node holds the projection's lease, so no one would answer a request.
  'request.no_node',
] as const;

export type SnapshotErrorCode = (typeof SNAPSHOT_ERROR_CODES)[number];

/** A snapshot could not be computed, published or obtained. `message` is `<code>: <path>: <reason>`. */
export class SnapshotError extends Error {
  override readonly name = 'SnapshotError';
  readonly code: SnapshotErrorCode;
  readonly path: string;
  readonly reason: string;

  constructor(code: SnapshotErrorCode, path: string, reason: string, options: { cause?: unknown } = {}) {
    super(`${code}: ${path}: ${reason}`, options);
    this.code = code;
    this.path = path;
    this.reason = reason;
  }
}

/** Byte order of lowercase hex ids is their string order: both are digit-then-letter ASCII. */
function byId(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Per category, the count and the Merkle root of the record ids, categories in UTF-8
 * byte order. `entries` are the current versions (one per manifest), each with its
 * normalised category. No entries: no categories.
 *
 * @throws SnapshotError `category.too_long` for a name the snapshot kind cannot carry,
 *   `record_id.invalid` for an id that is not a record id.
 */
export function categorySummaries(entries: Iterable<{ category: string; record_id: string }>): CategorySummary[] {
  const byCategory = new Map<string, string[]>();
  for (const { category, record_id } of entries) {
    let ids = byCategory.get(category);
    if (!ids) byCategory.set(category, (ids = []));
    ids.push(record_id);
  }
  const names = [...byCategory.keys()].sort(compareCategoryNames);
  return names.map((category) => {
    if (category.length === 0 || category.length > MAX_CATEGORY_LENGTH) {
      throw new SnapshotError('category.too_long', 'category', `${JSON.stringify(category.slice(0, 80))} has ${category.length} characters; a snapshot category has 1 to ${MAX_CATEGORY_LENGTH}`);
    }
    const ids = (byCategory.get(category) as string[]).sort(byId);
    let leaves: Uint8Array[];
    try {
      leaves = recordIdLeaves(ids);
    } catch (error) {
      throw new SnapshotError('record_id.invalid', `categories[${JSON.stringify(category)}]`, (error as Error).message, { cause: error });
    }
    return { category, count: ids.length, root: merkleRootHex(leaves) };
  });
}

export interface SnapshotPartsInput {
  /** did:key of the node that signs. */
  node: string;
  /** The log covered, e.g. `FEDERATED_opa`. */
  stream: string;
  /** Last stream sequence the projection had applied (0: none). */
  last_seq: number;
  seq: number;
  /** Sorted, as categorySummaries returns them. */
  categories: readonly CategorySummary[];
}

/** Bytes one category adds to a part's JSON (JCS writes strings as JSON.stringify does), comma included. */
function categoryBytes(summary: CategorySummary): number {
  return Buffer.byteLength(JSON.stringify(summary), 'utf8') + 1;
}

/**
 * The unsigned documents of one snapshot: the categories cut, in order, into parts of at
 * most MAX_CATEGORIES_PER_PART categories and MAX_CATEGORY_BYTES_PER_PART bytes, each
 * part numbered `part` of `parts`. No categories: one part with `categories: []`
 * (the schema allows it; a node with an empty projection says so).
 */
export function snapshotParts(input: SnapshotPartsInput): UnsignedCategorySnapshot[] {
  const chunks: CategorySummary[][] = [[]];
  let bytes = 0;
  for (const summary of input.categories) {
    const size = categoryBytes(summary);
    let current = chunks.at(-1) as CategorySummary[];
    if (current.length === MAX_CATEGORIES_PER_PART || (current.length > 0 && bytes + size > MAX_CATEGORY_BYTES_PER_PART)) {
      chunks.push((current = []));
      bytes = 0;
    }
    current.push({ category: summary.category, count: summary.count, root: summary.root });
    bytes += size;
  }
  return chunks.map((categories, i) => ({
    kind: 'category_snapshot',
    node: input.node,
    stream: input.stream,
    last_seq: input.last_seq,
    part: i + 1,
    parts: chunks.length,
    categories,
    seq: input.seq,
  }));
}

/** A snapshot part as the projection stores it under `snap.<node>.<stream>.<part>`. */
export interface StoredSnapshotPart {
  seq: number;
  record_id: string;
  record: CategorySnapshot;
}

/**
 * Whether a part replaces the one stored under its key: `seq` orders a node's snapshots
 * of a stream, so a lower one is old news (a replay, or a peer's copy arriving late);
 * the same `seq` again replaces it, so the last one in log order stays.
 */
export function supersedes(stored: Pick<StoredSnapshotPart, 'seq'> | undefined, incoming: { seq: number }): boolean {
  return stored === undefined || incoming.seq >= stored.seq;
}

/** Two snapshots' category lists are equal: same names, counts and roots, in the same order. */
export function sameCategories(a: readonly CategorySummary[], b: readonly CategorySummary[]): boolean {
  return a.length === b.length && a.every((x, i) => x.category === b[i]?.category && x.count === b[i]?.count && x.root === b[i]?.root);
}
