/**
 * `uniqueItems` on arrays of strings, decided by string equality, as JSON Schema means it.
 *
 * TypeBox's compiled check calls its Value Hash (FNV-1a 64 in BigInt arithmetic, one
 * BigInt per byte) on every item: a few percent of a verification thread's time. Worse,
 * it counts two strings equal when their hashes agree, and its hash feeds a UTF-16 unit
 * above 0xFF as two bytes and one below as one, so `"AB"` and `"\u4142"` collide and
 * TypeBox refused them as repeats. The published schema (and every other JSON Schema
 * validator) accepts them; a node refusing what its peers accept would project a
 * different state from the same log. So the schema check leaves uniqueness of strings
 * to `firstRepeated`.
 */
import { KindGuard, type TObject, type TSchema } from '@sinclair/typebox';

/**
 * The schema without `uniqueItems` on its members that are arrays of strings, and the
 * names of those members, whose uniqueness `firstRepeated` then decides.
 */
export function withoutStringUniqueItems(schema: TObject): { schema: TObject; members: string[] } {
  const properties: Record<string, TSchema> = { ...schema.properties };
  const members: string[] = [];
  for (const [name, member] of Object.entries(schema.properties)) {
    if (KindGuard.IsArray(member) && member.uniqueItems === true && KindGuard.IsString(member.items)) {
      // Object rest keeps the symbol-keyed TypeBox kind markers; only uniqueItems goes.
      const { uniqueItems: _, ...rest } = member;
      properties[name] = rest as TSchema;
      members.push(name);
    }
  }
  return { schema: { ...schema, properties }, members };
}

/** The index of the first item equal to an earlier one, or -1. */
export function firstRepeated(items: readonly string[]): number {
  if (items.length < 2) return -1;
  const seen = new Set<string>();
  for (let i = 0; i < items.length; i++) {
    const item = items[i] as string;
    if (seen.has(item)) return i;
    seen.add(item);
  }
  return -1;
}
