/**
 * The metadata projection's state machine: what one content manifest does to the state,
 * given the state. Pure: the state is read through a `StateView` (a map in tests, the
 * KV bucket with the projector's write-through cache in production), and the result is
 * a decision plus the effects to write. The adapter runs the same function before it
 * publishes, so a client hears at once what the projector would decide.
 *
 * Rules, in the order the adapter reports them (spec 6.3, 6.4; PROTOCOL.md 3, 4):
 * rollback (`seq` must grow; the same record again is a duplicate, not an error),
 * ownership (the first creator to publish a `manifest_id` owns it), fingerprint
 * consistency, duplicate upload (a fingerprint belongs to the first creator who claimed
 * it; claims are never released, so they cannot be passed around), spam (text rules,
 * then quotas).
 *
 * The order of records is the order of the log, so the same log gives the same state on
 * every node, whatever the timing (DESIGN.md rules 2-4).
 */
import type { ContentManifest } from '@dmf/protocol';
import { checkContentConsistency } from './content-consistency.ts';
import { labelsOf, normalizeLabel } from './labels.ts';
import { MetadataRefusal } from './refusal.ts';
import { checkMetadataText, type MetadataLimits } from './spam.ts';
import { checkOrReplay, type Prechecked } from './prechecks.ts';

/** The current version of a manifest, as the projection keeps it. */
export interface ManifestHead {
  manifest_id: string;
  /** The owner: the creator of the first version. */
  creator: string;
  seq: number;
  /** Record id of the current version. */
  record_id: string;
  fingerprint: string;
  /** Normalised category (labels.ts). */
  category: string;
  /** Labels the manifest is listed under: category and tags, normalised, sorted. */
  labels: string[];
  /** Every accepted `seq`, ascending (the current one last). */
  seqs: number[];
  /**
   * Where the manifest is in each label's list: its join number there (index-list.ts).
   * decide() carries over the labels it keeps; the projector numbers the new ones.
   */
  joins: Record<string, number>;
  /** The current version's signed record, as published. */
  record: ContentManifest;
}

export interface FingerprintClaim {
  creator: string;
  manifest_id: string;
}

/** What a decision needs to read. Methods may answer synchronously or with a promise. */
export interface StateView {
  head(manifestId: string): Promise<ManifestHead | undefined> | ManifestHead | undefined;
  /** Record id of an earlier version, if that version was accepted. */
  versionRecordId(manifestId: string, seq: number): Promise<string | undefined> | string | undefined;
  fingerprintClaim(fingerprint: string): Promise<FingerprintClaim | undefined> | FingerprintClaim | undefined;
  /** Manifests the creator owns. */
  creatorManifests(creator: string): Promise<number> | number;
}

/** A verified content-manifest record. */
export interface ContentRecord {
  id: string;
  document: ContentManifest;
  /** The JSON text `document` was parsed from, when the caller has it (the projector stores it as is). */
  json?: Uint8Array;
  /** The record-only rules, already run where it was verified (prechecks.ts). */
  prechecked?: Prechecked;
}

/** What accepting a record changes. */
export interface Effects {
  head: ManifestHead;
  /** The version it replaces (archived under its seq), if any. */
  previous: ManifestHead | undefined;
  /** First version of a new manifest: the creator's index and count grow. */
  newManifest: boolean;
  /** The creator's manifest count after this record. */
  creatorManifests: number;
  /** The fingerprint is claimed now (first use by anyone). */
  claimFingerprint: FingerprintClaim | undefined;
  labelsAdded: string[];
  labelsRemoved: string[];
}

export type Decision =
  | { outcome: 'accepted'; effects: Effects }
  /** This exact record was accepted before: nothing changes, the answer is the same. */
  | { outcome: 'duplicate'; manifestId: string; seq: number }
  | { outcome: 'refused'; refusal: MetadataRefusal };

/** Checks that need only the manifest itself (no state). Throws MetadataRefusal. */
export function checkManifestAlone(manifest: ContentManifest): void {
  checkContentConsistency(manifest);
  checkMetadataText(manifest);
}

export async function decide(view: StateView, record: ContentRecord, limits: MetadataLimits): Promise<Decision> {
  try {
    return await decideOrThrow(view, record, limits);
  } catch (error) {
    if (error instanceof MetadataRefusal) return { outcome: 'refused', refusal: error };
    throw error;
  }
}

async function decideOrThrow(view: StateView, record: ContentRecord, limits: MetadataLimits): Promise<Decision> {
  const m = record.document;
  const previous = await view.head(m.manifest_id);

  if (previous) {
    if (previous.record_id === record.id) return { outcome: 'duplicate', manifestId: m.manifest_id, seq: m.seq };
    if (m.seq <= previous.seq) {
      if (m.seq < previous.seq && (await view.versionRecordId(m.manifest_id, m.seq)) === record.id) {
        return { outcome: 'duplicate', manifestId: m.manifest_id, seq: m.seq };
      }
      // Ownership first: a stranger's old seq is an ownership problem, not a rollback.
      if (m.creator === previous.creator) {
        throw new MetadataRefusal('seq.rollback', '$.seq', `${m.seq} is not above the current version's seq ${previous.seq}`);
      }
    }
    if (m.creator !== previous.creator) {
      throw new MetadataRefusal('manifest.owned', '$.manifest_id', `${m.manifest_id} belongs to ${previous.creator}, the creator who published it first`);
    }
  }

  checkOrReplay(record.prechecked?.consistency, () => checkContentConsistency(m));

  const claim = await view.fingerprintClaim(m.fingerprint);
  if (claim && claim.creator !== m.creator) {
    throw new MetadataRefusal('fingerprint.duplicate_upload', '$.fingerprint', `this content was published first by another creator (manifest ${claim.manifest_id})`);
  }

  checkOrReplay(record.prechecked?.text, () => checkMetadataText(m));
  const owned = await view.creatorManifests(m.creator);
  if (!previous && owned >= limits.maxManifestsPerCreator) {
    throw new MetadataRefusal('spam.quota_manifests', '$.manifest_id', `the creator already owns ${owned} manifests, the most a creator may (${limits.maxManifestsPerCreator})`);
  }
  if (previous && previous.seqs.length >= limits.maxVersionsPerManifest) {
    throw new MetadataRefusal('spam.quota_versions', '$.seq', `the manifest already has ${previous.seqs.length} versions, the most a manifest may (${limits.maxVersionsPerManifest})`);
  }

  const labels = labelsOf(m);
  const before = new Set(previous?.labels ?? []);
  const after = new Set(labels);
  const head: ManifestHead = {
    manifest_id: m.manifest_id,
    creator: m.creator,
    seq: m.seq,
    record_id: record.id,
    fingerprint: m.fingerprint,
    category: normalizeLabel(m.category),
    labels,
    seqs: [...(previous?.seqs ?? []), m.seq],
    joins: keptJoins(previous, after),
    record: m,
  };
  return {
    outcome: 'accepted',
    effects: {
      head,
      previous,
      newManifest: !previous,
      creatorManifests: previous ? owned : owned + 1,
      claimFingerprint: claim ? undefined : { creator: m.creator, manifest_id: m.manifest_id },
      labelsAdded: labels.filter((l) => !before.has(l)),
      labelsRemoved: [...before].filter((l) => !after.has(l)),
    },
  };
}

/** The previous version's join numbers of the labels that stay. */
function keptJoins(previous: ManifestHead | undefined, labels: ReadonlySet<string>): Record<string, number> {
  const joins: Record<string, number> = {};
  for (const [label, join] of Object.entries(previous?.joins ?? {})) if (labels.has(label)) joins[label] = join;
  return joins;
}
