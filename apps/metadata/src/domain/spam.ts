/**
 * Metadata spam (spec 6.4): rules on the text of one manifest, and the quotas that bound
 * what one creator can make a node store. Everything here is a pure function of the
 * manifest and the projection's state, so every node that applies the same log takes
 * the same decisions (the projector applies these rules to peers' records too).
 *
 * The per-creator publish *rate* is not here: it depends on when requests arrive, so it
 * is the adapter's admission policy (./creator-rate.ts), not a rule of the log.
 */
import { normalizeLabel } from './labels.ts';
import { MetadataRefusal } from './refusal.ts';

export interface MetadataLimits {
  /** Manifests (distinct `manifest_id`s) one creator may own. */
  maxManifestsPerCreator: number;
  /** Versions one manifest may have. */
  maxVersionsPerManifest: number;
}

/**
 * Defaults. Operators who federate should keep the same values: a peer with lower
 * quotas refuses records that others accept, and their projections differ.
 */
export const DEFAULT_METADATA_LIMITS: Readonly<MetadataLimits> = Object.freeze({
  maxManifestsPerCreator: 10_000,
  maxVersionsPerManifest: 1_000,
});

/** Longest label (category or tag) once normalised, in UTF-16 code units like the schemas count. */
export const MAX_LABEL_LENGTH = 64;
/** A word repeated more often than this in a title is keyword stuffing. */
const MAX_TITLE_WORD_REPEATS = 4;
/** A description of at least this many words ... */
const STUFFING_MIN_WORDS = 40;
/** ... whose most frequent word is more than this share of them is stuffing. */
const STUFFING_MAX_SHARE = 0.5;

/** The words of a normalised text (normalizeLabel) that have two characters or more. */
function words(normalized: string): string[] {
  return normalized.split(/[^\p{L}\p{N}]+/u).filter((w) => w.length >= 2);
}

/** The word that first reaches the highest count, and that count. */
function mostFrequent(list: readonly string[]): { word: string; count: number } | undefined {
  const counts = new Map<string, number>();
  let word: string | undefined;
  let best = 0;
  for (const w of list) {
    const count = (counts.get(w) ?? 0) + 1;
    counts.set(w, count);
    if (count > best) {
      word = w;
      best = count;
    }
  }
  return word === undefined ? undefined : { word, count: best };
}

/** Throws `MetadataRefusal` (`spam.tags` / `spam.text`) for the first rule the text breaks. */
export function checkMetadataText(manifest: { title: string; category: string; tags: readonly string[]; description?: string }): void {
  const title = normalizeLabel(manifest.title);
  if (title === '') throw new MetadataRefusal('spam.text', '$.title', 'is blank');
  const category = normalizeLabel(manifest.category);
  if (category === '') throw new MetadataRefusal('spam.text', '$.category', 'is blank');
  // Lower-casing can lengthen text ('İ' becomes two code units): a label must still fit
  // where labels go (the 64 units a snapshot allows a category).
  if (category.length > MAX_LABEL_LENGTH) {
    throw new MetadataRefusal('spam.text', '$.category', `is ${category.length} characters once normalised (at most ${MAX_LABEL_LENGTH})`);
  }
  const seen = new Map<string, number>();
  manifest.tags.forEach((tag, i) => {
    const label = normalizeLabel(tag);
    if (label === '') throw new MetadataRefusal('spam.tags', `$.tags[${i}]`, 'is blank');
    if (label.length > MAX_LABEL_LENGTH) {
      throw new MetadataRefusal('spam.tags', `$.tags[${i}]`, `is ${label.length} characters once normalised (at most ${MAX_LABEL_LENGTH})`);
    }
    const first = seen.get(label);
    if (first !== undefined) throw new MetadataRefusal('spam.tags', `$.tags[${i}]`, `repeats $.tags[${first}] (tags are compared ignoring case and spacing)`);
    seen.set(label, i);
  });
  const titleTop = mostFrequent(words(title));
  if (titleTop && titleTop.count > MAX_TITLE_WORD_REPEATS) {
    throw new MetadataRefusal('spam.text', '$.title', `repeats "${titleTop.word}" ${titleTop.count} times (at most ${MAX_TITLE_WORD_REPEATS})`);
  }
  if (manifest.description !== undefined) {
    const list = words(normalizeLabel(manifest.description));
    // Shorter descriptions are never stuffing: no need to count their words.
    const top = list.length >= STUFFING_MIN_WORDS ? mostFrequent(list) : undefined;
    if (top && top.count > list.length * STUFFING_MAX_SHARE) {
      throw new MetadataRefusal('spam.text', '$.description', `"${top.word}" is ${top.count} of its ${list.length} words`);
    }
  }
}
