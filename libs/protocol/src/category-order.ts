/**
 * The order of categories in a category snapshot: by the UTF-8 bytes of the name.
 * Not JavaScript's default string order (UTF-16 code units), which puts U+1F600
 * (D83D DE00) before U+E000 and U+FF61; UTF-8 bytes, like code points, put it last.
 * Byte order is what an implementation in any language gets from comparing the
 * names as stored, without knowing about UTF-16.
 */

/**
 * Negative if `a` sorts before `b`, 0 if equal, positive after, by the UTF-8 bytes of
 * each (equal to code-point order for well-formed strings). Pure, no allocation:
 * producers sort with `categories.sort((x, y) => compareCategoryNames(x.category, y.category))`.
 */
export function compareCategoryNames(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codePointRank(x) - codePointRank(y);
  }
  return a.length - b.length;
}

/**
 * At the first differing UTF-16 unit, unit order and code-point order disagree only
 * between a surrogate (D800-DFFF, half of a code point above FFFF) and a unit of
 * E000-FFFF: ranking surrogates above every BMP unit restores code-point order. The
 * units before the difference are equal, so both strings are at the same place in
 * a pair, and two differing surrogates keep their own order.
 */
function codePointRank(unit: number): number {
  return unit >= 0xd800 && unit <= 0xdfff ? unit + 0x10000 : unit;
}
