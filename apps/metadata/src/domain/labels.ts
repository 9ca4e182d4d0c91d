/**
 * Labels: the category and the tags of a manifest, in the one spelling the indices and
 * the categorisation snapshots use, so that "Jazz", "jazz " and "JAZZ" are one label.
 *
 * The rule is simple enough to repeat in any language, which matters because snapshot
 * roots must agree between implementations: Unicode NFC, runs of white space collapsed
 * to one space, trimmed, then the locale-independent Unicode default lower case
 * (JavaScript's `toLowerCase`, Python's `str.lower`).
 */

export function normalizeLabel(text: string): string {
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
