/**
 * The metadata rules that need only the manifest itself (content consistency, text and
 * tags), run where the record is verified: on the projector's verification threads,
 * as createVerifyPool's `check` (this module's default export). decide() then reports a
 * precomputed refusal at the step where it would have checked, so the rules keep their
 * order and the answer is the same; without `prechecked` it runs the checks itself.
 *
 * What crosses threads is plain data: a refusal's code, path and reason.
 */
import type { ContentManifest, VerifiedRecord } from '@dmf/protocol';
import { checkContentConsistency } from './content-consistency.ts';
import { MetadataRefusal, type MetadataRefusalCode } from './refusal.ts';
import { checkMetadataText } from './spam.ts';

export interface RefusalData {
  code: MetadataRefusalCode;
  path: string;
  reason: string;
}

export interface Prechecked {
  /** checkContentConsistency's refusal, or null when it passed. */
  consistency: RefusalData | null;
  /** checkMetadataText's refusal, or null when it passed. */
  text: RefusalData | null;
}

/** The refusal a check throws, as data; null when it passes. */
export function outcomeOf(check: () => void): RefusalData | null {
  try {
    check();
    return null;
  } catch (error) {
    if (!(error instanceof MetadataRefusal)) throw error;
    return { code: error.code, path: error.path, reason: error.reason };
  }
}

export function precheckManifest(manifest: ContentManifest): Prechecked {
  return { consistency: outcomeOf(() => checkContentConsistency(manifest)), text: outcomeOf(() => checkMetadataText(manifest)) };
}

/** Runs a check, or replays its precomputed outcome. */
export function checkOrReplay(precomputed: RefusalData | null | undefined, check: () => void): void {
  if (precomputed === undefined) return check();
  if (precomputed !== null) throw new MetadataRefusal(precomputed.code, precomputed.path, precomputed.reason);
}

/** The verification threads' check: content manifests only. */
export default function precheckRecord(record: VerifiedRecord): Prechecked | undefined {
  return record.kind === 'content_manifest' ? precheckManifest(record.document as ContentManifest) : undefined;
}
