/**
 * Schema validation with compiled TypeBox checkers, and the cross-field rules of each
 * kind that a schema cannot say. Failures become one ProtocolError naming the path
 * and the reason (`schema: $.chunks[1]: not a CIDv1 raw sha2-256 (base32)`).
 */
import type { TObject, TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import { ValueErrorType, type ValueError } from '@sinclair/typebox/errors';
import { compareCategoryNames } from './category-order.ts';
import { decodeDidKey } from './did-key.ts';
import { ProtocolError } from './errors.ts';
import { pathFromPointer } from './json-path.ts';
import { firstRepeated, withoutStringUniqueItems } from './schema-unique-items.ts';
import { SCHEMAS, type DocumentKind } from './schemas/kinds.ts';
import { checkErasureGroup, checkRepairTask } from './storage-rules.ts';

/**
 * Per kind, the compiled schema without `uniqueItems` on arrays of strings, whose
 * uniqueness is string equality (schema-unique-items.ts says why TypeBox's is not).
 */
interface KindChecker {
  check: TypeCheck<TSchema>;
  /** Members (arrays of strings) whose items must be unique. */
  uniqueMembers: string[];
}

function compileKind(schema: TObject): KindChecker {
  const { schema: withoutUnique, members } = withoutStringUniqueItems(schema);
  return { check: TypeCompiler.Compile(withoutUnique), uniqueMembers: members };
}

const checkers = Object.fromEntries(
  Object.entries(SCHEMAS).map(([kind, schema]) => [kind, compileKind(schema as TObject)]),
) as Record<DocumentKind, KindChecker>;

/** Throws ProtocolError `schema` unless the document matches its kind's schema. */
export function checkSchema(kind: DocumentKind, document: Record<string, unknown>): void {
  const checker = checkers[kind];
  if (checker.check.Check(document)) {
    for (const name of checker.uniqueMembers) {
      const items = document[name] as string[] | undefined; // absent when optional
      if (items !== undefined && firstRepeated(items) >= 0) throw new ProtocolError('schema', 'items must be unique', { path: `$.${name}` });
    }
    return;
  }
  const error = checker.check.Errors(document).First();
  if (error === undefined) throw new ProtocolError('schema', 'does not match the schema', { path: '$' });
  const { pointer, reason } = explain(error);
  throw new ProtocolError('schema', reason, { path: pathFromPointer(pointer, document) });
}

/**
 * The pointer and reason to report for an error. A union of objects told apart by a
 * `type` literal (an erasure scheme) reports the error inside the option the value
 * names (`$.scheme.k: must be at least 1`), or that `type` names none of them.
 */
function explain(error: ValueError): { pointer: string; reason: string } {
  if (error.type === ValueErrorType.Union) {
    const tags = ((error.schema as { anyOf?: { properties?: { type?: { const?: unknown } } }[] }).anyOf ?? []).map(
      (option) => option.properties?.type?.const,
    );
    if (tags.length > 0 && tags.every((tag) => typeof tag === 'string')) {
      const value = error.value as unknown;
      if (value === null || typeof value !== 'object' || Array.isArray(value)) return { pointer: error.path, reason: 'must be an object' };
      const tag = (value as Record<string, unknown>)['type'];
      const index = typeof tag === 'string' ? tags.indexOf(tag) : -1;
      if (index < 0) {
        const reason = tag === undefined ? 'required member is missing' : `must be one of ${tags.map((t) => JSON.stringify(t)).join(', ')}`;
        return { pointer: `${error.path}/type`, reason };
      }
      const inner = error.errors[index]?.First();
      if (inner !== undefined) return explain(inner);
    }
  }
  return { pointer: error.path, reason: reasonFor(error) };
}

function reasonFor(error: ValueError): string {
  const schema = error.schema as Record<string, unknown>;
  switch (error.type) {
    case ValueErrorType.ObjectRequiredProperty:
      return 'required member is missing';
    case ValueErrorType.ObjectAdditionalProperties:
      return 'member is not allowed here';
    case ValueErrorType.ObjectMaxProperties:
      return `more than ${schema['maxProperties'] as number} members`;
    case ValueErrorType.Object:
      return 'must be an object';
    case ValueErrorType.Array:
      return 'must be an array';
    case ValueErrorType.ArrayMinItems:
      return schema['minItems'] === 1 ? 'must not be empty' : `fewer than ${schema['minItems'] as number} items`;
    case ValueErrorType.ArrayMaxItems:
      return `more than ${schema['maxItems'] as number} items`;
    case ValueErrorType.ArrayUniqueItems:
      return 'items must be unique';
    case ValueErrorType.String:
      return 'must be a string';
    case ValueErrorType.StringMinLength:
      return schema['minLength'] === 1 ? 'must not be empty' : `shorter than ${schema['minLength'] as number} characters`;
    case ValueErrorType.StringMaxLength:
      return `longer than ${schema['maxLength'] as number} characters`;
    case ValueErrorType.StringPattern:
    case ValueErrorType.StringFormat:
      return stringReason(schema, error.value);
    case ValueErrorType.Integer:
      return 'must be an integer';
    case ValueErrorType.IntegerMinimum:
      return `must be at least ${schema['minimum'] as number}`;
    case ValueErrorType.IntegerMaximum:
      return `must be at most ${schema['maximum'] as number}`;
    case ValueErrorType.Boolean:
      return 'must be a boolean';
    case ValueErrorType.Literal:
      return `must be ${JSON.stringify(schema['const'])}`;
    case ValueErrorType.Union: {
      const options = (schema['anyOf'] as { const?: unknown }[]).map((option) => JSON.stringify(option.const));
      return `must be one of ${options.join(', ')}`;
    }
    default:
      return error.message;
  }
}

function stringReason(schema: Record<string, unknown>, value: unknown): string {
  const reason = (schema['errorMessage'] as string | undefined) ?? `does not match ${String(schema['pattern'] ?? schema['format'])}`;
  if (schema['format'] === 'dmf-did-key' && typeof value === 'string') {
    try {
      decodeDidKey(value);
    } catch (cause) {
      if (cause instanceof ProtocolError) return `${reason} (${cause.code}: ${cause.reason})`;
    }
  }
  return reason;
}

/** Cross-field rules of a kind, run after the schema. */
export function checkKindRules(kind: DocumentKind, document: Record<string, unknown>): void {
  if (kind === 'node_attestation') {
    if (document['attester'] === document['subject']) {
      throw new ProtocolError('attestation.self', 'a node cannot attest itself', { path: '$.subject' });
    }
    const from = Date.parse(document['observed_from'] as string);
    const until = Date.parse(document['observed_until'] as string);
    if (until < from) {
      throw new ProtocolError('attestation.window', 'observation window ends before it starts', { path: '$.observed_until' });
    }
    if (until > Date.parse(document['issued_at'] as string)) {
      throw new ProtocolError('attestation.window', 'observation window ends after issued_at', { path: '$.observed_until' });
    }
  } else if (kind === 'node_report') {
    if (document['reporter'] === document['subject']) {
      throw new ProtocolError('report.self', 'a node cannot report itself', { path: '$.subject' });
    }
  } else if (kind === 'category_snapshot') {
    const part = document['part'] as number;
    const parts = document['parts'] as number;
    if (part > parts) {
      throw new ProtocolError('snapshot.part', `part ${part} of ${parts}: part must not exceed parts`, { path: '$.part' });
    }
    // Sorted and unique: one (category, count, root) per name, in an order any
    // implementation reproduces, so two nodes' snapshots of one log compare line by line.
    const categories = document['categories'] as { category: string }[];
    for (let i = 1; i < categories.length; i++) {
      const order = compareCategoryNames(categories[i - 1]!.category, categories[i]!.category);
      if (order >= 0) {
        const reason = order === 0 ? 'repeats the category before it' : 'sorts before the category before it (order: UTF-8 bytes)';
        throw new ProtocolError('snapshot.order', reason, { path: `$.categories[${i}].category` });
      }
    }
  } else if (kind === 'governance_report') {
    if (document['reporter'] === document['subject']) {
      throw new ProtocolError('governance.self', 'a node cannot report itself', { path: '$.subject' });
    }
  } else if (kind === 'erasure_group') {
    checkErasureGroup(document);
  } else if (kind === 'repair_task') {
    checkRepairTask(document);
  }
}
