/**
 * `uniqueItems` on arrays of strings, decided as TypeBox decides it but cheaper.
 *
 * TypeBox's compiled check calls its Value Hash (FNV-1a 64 in BigInt arithmetic, one
 * BigInt per byte) on every item: a few percent of a verification thread's time, and
 * garbage. Here the same hash runs on 16-bit limbs. It has to be the same hash, not
 * string equality: TypeBox feeds each UTF-16 unit to the hash as one byte below 256 and
 * as two bytes above, so "AB" and "\u4142" hash alike and the schema refuses them as
 * repeats; equal hashes are what the schema calls equal items.
 */
import { KindGuard, type TObject, type TSchema } from '@sinclair/typebox';

/** Value Hash's type marker for strings (ByteMarker.String). */
const STRING_MARKER = 4;

/**
 * The schema without `uniqueItems` on its members that are arrays of strings, and the
 * names of those members, whose uniqueness `stringItemsUnique` then decides.
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

/**
 * True when no two strings have the same TypeBox Value Hash, i.e. when TypeBox's
 * `uniqueItems` accepts the array.
 */
export function stringItemsUnique(items: readonly string[]): boolean {
  if (items.length < 2) return true;
  const seen = new Set<string>();
  for (const item of items) {
    const hash = typeBoxStringHash(item);
    if (seen.has(hash)) return false;
    seen.add(hash);
  }
  return true;
}

/**
 * TypeBox's Value Hash of a string (FNV-1a 64 over the marker byte, then each UTF-16
 * unit as its big-endian bytes without leading zero bytes), as four 16-bit limbs in
 * one four-unit string.
 */
export function typeBoxStringHash(text: string): string {
  // FNV-1a 64 offset basis 0xcbf29ce484222325, least significant limb first.
  const h = [0x2325, 0x8422, 0x9ce4, 0xcbf2];
  fnv1a64(h, STRING_MARKER);
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit > 0xff) fnv1a64(h, unit >>> 8);
    fnv1a64(h, unit & 0xff);
  }
  return String.fromCharCode(h[3]!, h[2]!, h[1]!, h[0]!);
}

/**
 * One FNV-1a 64 step on 16-bit limbs: xor the byte, multiply by the prime 2^40 + 0x1b3
 * modulo 2^64 (h·0x1b3 plus h shifted 40 bits: limb 0 lands 8 bits into limb 2, limb 1
 * 8 bits into limb 3). Every partial sum stays below 2^27, exact in a number.
 */
function fnv1a64(h: number[], byte: number): void {
  const h0 = h[0]! ^ byte;
  const h1 = h[1]!;
  const t0 = h0 * 0x1b3;
  const t1 = h1 * 0x1b3 + (t0 >>> 16);
  const t2 = h[2]! * 0x1b3 + (h0 << 8) + (t1 >>> 16);
  const t3 = h[3]! * 0x1b3 + (h1 << 8) + (t2 >>> 16);
  h[0] = t0 & 0xffff;
  h[1] = t1 & 0xffff;
  h[2] = t2 & 0xffff;
  h[3] = t3 & 0xffff;
}
