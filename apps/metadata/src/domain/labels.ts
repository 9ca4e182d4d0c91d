/**
 * Labels: the category and the tags of a manifest, in the one spelling the indices and
 * the categorisation snapshots use, so that "Jazz", "jazz " and "JAZZ" are one label.
 *
 * The rule is simple enough to repeat in any language, which matters because snapshot
 * roots must agree between implementations: Unicode NFC, runs of white space collapsed
 * to one space, trimmed, then the locale-independent Unicode default lower case
 * (JavaScript's `toLowerCase`, Python's `str.lower`).
 */

/**
 * Printable ASCII words between single spaces, as most labels and titles are: NFC leaves
 * ASCII as it is, and there is no white space to collapse or trim, so of the rule only
 * the lower-casing changes anything. Testing this is cheaper than the full rule.
 */
const PLAIN_ASCII = /^[!-~]+(?: [!-~]+)*$/;

export function normalizeLabel(text: string): string {
  if (PLAIN_ASCII.test(text)) return text.toLowerCase();
  return text.normalize('NFC').replace(/\s+/gu, ' ').trim().toLowerCase();
}

/** The labels a manifest is listed under: its category and its tags, normalised, unique, sorted. */
export function labelsOf(manifest: { category: string; tags: readonly string[] }): string[] {
  const labels = new Set<string>();
  for (const text of [manifest.category, ...manifest.tags]) {
    const label = normalizeLabel(text);
    if (label !== '') labels.add(label);
  }
  return [...labels].sort();
}
