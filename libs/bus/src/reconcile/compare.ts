/**
 * Compares a definition with the configuration the server reports. Pure functions: the
 * reconciler calls them before an apply (is an update needed?) and after it (did the
 * server take every field?).
 *
 * Only fields we define are compared, plus a few that must hold even when a definition
 * leaves them out (a consumer without `filter_subject` must see every subject). Every
 * field present in a definition is compared, including ones our types do not know:
 * a field a 2.9 server does not understand is dropped silently, and this is where
 * that shows.
 *
 * Server defaults are normalised on both sides: a missing list is `[]`, a missing
 * string is `''`, a missing boolean is `false`, and a source's `external` is `undefined`
 * unless it names an API prefix (`deliver` missing ≡ `''`). A source's `filter_subject`
 * compares as is (2.9.10 echoes it in the stream config; missing ≡ `''`).
 */
import { isDeepStrictEqual } from 'node:util';
import type { ConsumerSpec, KvSpec, StreamSpec } from '@dmf/streams';
import type { FieldDifference } from '../errors.ts';

type Config = Readonly<Record<string, unknown>>;

const LISTS = new Set(['subjects', 'sources']);
const STRINGS = new Set(['description', 'filter_subject']);
const BOOLEANS = new Set(['allow_rollup_hdrs', 'deny_delete', 'deny_purge', 'sealed', 'allow_direct', 'mirror_direct', 'headers_only']);

function normaliseSource(source: unknown): unknown {
  if (source === null || typeof source !== 'object') return source;
  const s = source as Record<string, unknown>;
  const out: Record<string, unknown> = { name: s.name };
  const external = s.external as { api?: unknown; deliver?: unknown } | undefined;
  if (external && typeof external.api === 'string' && external.api !== '') {
    out.external = { api: external.api, deliver: external.deliver ?? '' };
  }
  // Anything else set on a source counts: `filter_subject` (which definitions set) must
  // match, and a start sequence or a filter added by hand is a difference.
  for (const [key, value] of Object.entries(s)) {
    if (key === 'name' || key === 'external') continue;
    if (value === undefined || value === '' || value === 0 || value === null) continue;
    if (Array.isArray(value) && value.length === 0) continue;
    out[key] = value;
  }
  return out;
}

function byName(a: unknown, b: unknown): number {
  const x = String((a as { name?: unknown }).name);
  const y = String((b as { name?: unknown }).name);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** The value of `field` as the comparison sees it. */
export function normaliseField(field: string, value: unknown): unknown {
  if (LISTS.has(field)) {
    const list = Array.isArray(value) ? [...value] : [];
    if (field === 'sources') return list.map(normaliseSource).sort(byName);
    return list.map(String).sort();
  }
  if (STRINGS.has(field)) return value ?? '';
  if (BOOLEANS.has(field)) return value ?? false;
  return value;
}

function diff(expected: Config, actual: Config, fields: Iterable<string>, label = (f: string) => f, actualField = (f: string) => f): FieldDifference[] {
  const differences: FieldDifference[] = [];
  for (const field of fields) {
    const want = normaliseField(field, expected[field]);
    const have = normaliseField(field, actual[actualField(field)]);
    if (!isDeepStrictEqual(want, have)) differences.push({ field: label(field), expected: want, actual: have });
  }
  return differences;
}

function fieldsOf(spec: object, always: readonly string[]): Set<string> {
  return new Set([...Object.keys(spec).filter((k) => (spec as Record<string, unknown>)[k] !== undefined), ...always]);
}

/** Fields of a stream definition the server holds differently. */
export function diffStream(spec: StreamSpec, actual: Config): FieldDifference[] {
  return diff(spec as unknown as Config, actual, fieldsOf(spec, ['subjects', 'sources']));
}

/** Fields of a consumer definition the server holds differently. */
export function diffConsumer(spec: ConsumerSpec, actual: Config): FieldDifference[] {
  return diff(spec as unknown as Config, actual, fieldsOf(spec, ['filter_subject']));
}

/** KV fields and the fields of the `KV_<bucket>` stream that hold them. */
const KV_STREAM_FIELD: Readonly<Record<string, string>> = {
  history: 'max_msgs_per_subject',
  max_value_size: 'max_msg_size',
};

/** The stream field a KV field is stored in (`history` → `max_msgs_per_subject`). */
export function kvStreamField(field: string): string {
  return KV_STREAM_FIELD[field] ?? field;
}

/** Fields of a KV definition the server holds differently, compared on its stream's config. */
export function diffKv(spec: KvSpec, actualStream: Config): FieldDifference[] {
  return diff(
    spec as unknown as Config,
    actualStream,
    fieldsOf(spec, []),
    (f) => (kvStreamField(f) === f ? f : `${f} (${kvStreamField(f)})`),
    kvStreamField,
  );
}

/** The `KV_<bucket>` stream fields a KV definition sets, for a stream update. */
export function kvStreamUpdate(spec: KvSpec): Record<string, unknown> {
  const update: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(spec)) {
    if (value !== undefined) update[kvStreamField(field)] = value;
  }
  return update;
}

/** Renders differences for an error message: `field: expected X, server has Y`. */
export function describeDifferences(differences: readonly FieldDifference[]): string {
  return differences
    .map((d) => `${d.field}: expected ${JSON.stringify(d.expected)}, server has ${JSON.stringify(d.actual) ?? 'nothing'}`)
    .join('; ');
}
