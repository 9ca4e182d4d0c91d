import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalBytes, ProtocolError, signRecord } from '@dmf/protocol';
import { waitFor } from '@dmf/testing';
import { CreatorRate } from '../src/domain/creator-rate.ts';
import { MetadataRefusal } from '../src/domain/refusal.ts';
import { createManifestPublisher, ManifestPublishError, type ManifestPublisher, type ManifestPublisherOptions } from '../src/publish-manifest.ts';
import { setupProjection, startBus, type Bus, type Projection } from './adapter-harness.ts';
import { content, generateSigningKey, manifest, nextVersion } from './fixtures.ts';

let bus: Bus;
const cleanup: (() => Promise<void> | void)[] = [];
let operators = 0;

beforeAll(async () => {
  bus = await startBus('metadata-publish');
});

afterAll(async () => {
  for (const task of cleanup.reverse()) await task();
  await bus?.close();
});

/** A fresh operator with its projection and a publisher on it. */
async function node(
  options: Partial<ManifestPublisherOptions> = {},
  setup: { startProjector?: boolean } = {},
): Promise<Projection & { publisher: ManifestPublisher; publisherWith(o: Partial<ManifestPublisherOptions>): ManifestPublisher }> {
  const projection = await setupProjection(bus, `pub${++operators}`, { start: setup.startProjector });
  const publisherWith = (o: Partial<ManifestPublisherOptions>) => {
    // Tests that expect `projected` wait for the projector longer than the 3 s default: with
    // other test files running at once it took over 3 s (tests of the short wait set their own).
    const p = createManifestPublisher({ js: bus.js, operator: projection.operator, store: projection.store, projector: projection.projector, decisionWaitMs: 15_000, ...o });
    cleanup.push(() => p.close());
    return p;
  };
  cleanup.push(() => projection.projector.close());
  return { ...projection, publisher: publisherWith(options), publisherWith };
}

/** The error a publish throws, for matching its class and code. */
async function refusal(promise: Promise<unknown>): Promise<{ name: string; code: string; path?: string; retryAfterSeconds?: number }> {
  try {
    await promise;
  } catch (error) {
    return error as { name: string; code: string };
  }
  throw new Error('expected the publish to be refused');
}

const minutes = (n: number) => new Date(Date.now() + n * 60_000);

describe('manifest publisher: order of checks', () => {
  it('reports JSON, kind, schema and signature before freshness, and freshness before the state rules', async () => {
    const n = await node();
    const alice = generateSigningKey();
    const v1 = manifest(alice);
    expect(await n.publisher.publish(v1.bytes)).toMatchObject({ id: v1.id, status: 'projected', seq: 1 });

    expect(await refusal(n.publisher.publish(new TextEncoder().encode('{"kind":')))).toMatchObject({ name: 'ProtocolError', code: 'json.syntax' });
    expect(await refusal(n.publisher.publish(new TextEncoder().encode('{"kind":"nonsense"}')))).toMatchObject({ code: 'kind.unknown' });
    const node1 = signRecord(
      { kind: 'node_manifest', node_id: alice.did, services: ['metadata'], capabilities: { region: 'eu' }, public_key: alice.did, mirrors: [], version: '1.0.0' },
      alice,
      { expiresInMs: 86_400_000 },
    );
    const other = await refusal(n.publisher.publish(canonicalBytes(node1.document)));
    expect(other).toBeInstanceOf(ManifestPublishError);
    expect(other).toMatchObject({ code: 'kind.not_content_manifest', path: '$.kind' });

    // Future AND forged: the forgery is reported (signature before skew).
    const future = manifest(alice, {}, { now: minutes(30) });
    const forgedFuture = canonicalBytes({ ...future.document, title: 'changed after signing' });
    expect(await refusal(n.publisher.publish(forgedFuture))).toMatchObject({ code: 'signature.invalid' });
    // Future AND a rollback: the date is reported first.
    const futureRollback = manifest(alice, { manifest_id: v1.document.manifest_id, seq: 1 }, { now: minutes(30) });
    expect(await refusal(n.publisher.publish(futureRollback.bytes))).toMatchObject({ name: 'ProtocolError', code: 'issued_at.future' });
    // Stale AND a rollback: stale first.
    const staleRollback = manifest(alice, { manifest_id: v1.document.manifest_id, seq: 1 }, { now: minutes(-20) });
    const stale = await refusal(n.publisher.publish(staleRollback.bytes));
    expect(stale).toBeInstanceOf(MetadataRefusal);
    expect(stale).toMatchObject({ code: 'issued_at.stale', path: '$.issued_at' });
    // Within the past skew and a rollback: the rollback.
    const recentRollback = manifest(alice, { manifest_id: v1.document.manifest_id, seq: 1 }, { now: minutes(-10) });
    expect(await refusal(n.publisher.publish(recentRollback.bytes))).toMatchObject({ code: 'seq.rollback', path: '$.seq' });

    expect(await n.originMessages()).toBe(1);
  });

  it('checks the creator rate after duplicate upload and before the spam rules, and never charges a repeat', async () => {
    const n = await node({ creatorRate: new CreatorRate({ burst: 1, perMinute: 1 }) });
    const alice = generateSigningKey();
    const mallory = generateSigningKey();
    const v1 = manifest(alice, { ...content(1, 'rate test') });
    expect(await n.publisher.publish(v1.bytes)).toMatchObject({ status: 'projected' });
    // The bucket is empty now; a repeat is still answered, as before, without a token.
    for (let i = 0; i < 3; i++) expect(await n.publisher.publish(v1.bytes)).toEqual(await n.publisher.publish(v1.bytes));
    expect(await n.publisher.publish(v1.bytes)).toMatchObject({ id: v1.id, status: 'projected', location: `/manifest/${v1.document.manifest_id}?seq=1` });

    // Rules before the spam step are reported even with no token left.
    const v0 = manifest(alice, { manifest_id: v1.document.manifest_id, seq: 1, title: 'other' });
    expect(await refusal(n.publisher.publish(v0.bytes))).toMatchObject({ code: 'seq.rollback' });
    const inconsistent = manifest(alice, { ...content(2), size: 1 });
    expect(await refusal(n.publisher.publish(inconsistent.bytes))).toMatchObject({ code: 'fingerprint.inconsistent' });
    // A spam-text record with no token left: the rate comes first.
    const stuffed = manifest(alice, { title: 'buy buy buy buy buy now' });
    const limited = await refusal(n.publisher.publish(stuffed.bytes));
    expect(limited).toMatchObject({ code: 'spam.rate', path: '$.creator' });
    expect(limited.retryAfterSeconds).toBeGreaterThanOrEqual(1);

    // Another creator is not limited by alice's flood; their re-upload of alice's content is refused for what it is.
    const reupload = manifest(mallory, { ...content(1, 'rate test') });
    expect(await refusal(n.publisher.publish(reupload.bytes))).toMatchObject({ code: 'fingerprint.duplicate_upload' });
    const stuffedByMallory = manifest(mallory, { title: 'buy buy buy buy buy now' });
    expect(await refusal(n.publisher.publish(stuffedByMallory.bytes))).toMatchObject({ code: 'spam.text', path: '$.title' });
    expect(await n.originMessages()).toBe(1);
  });

  it('answers a repeat of an accepted record the same way even after its issued_at went stale', async () => {
    let clock = new Date();
    const n = await node({ now: () => clock });
    const alice = generateSigningKey();
    const v1 = manifest(alice);
    const v2 = nextVersion(alice, v1.document);
    const first = await n.publisher.publish(v1.bytes);
    const second = await n.publisher.publish(v2.bytes);
    clock = new Date(Date.now() + 60 * 60_000);
    expect(await n.publisher.publish(v1.bytes)).toEqual(first);
    expect(await n.publisher.publish(v2.bytes)).toEqual(second);
    expect(first).toMatchObject({ status: 'projected', location: `/manifest/${v1.document.manifest_id}?seq=1` });
    // A version never published, signed as long ago, is a replay: stale.
    const v3 = nextVersion(alice, v2.document);
    expect(await refusal(n.publisher.publish(v3.bytes))).toMatchObject({ code: 'issued_at.stale' });
    expect(await n.originMessages()).toBe(2);
  });
});

describe('manifest publisher: waiting for the projector', () => {
  it('serialises two versions of one manifest in one process: one is published, the other refused as a rollback', async () => {
    const n = await node();
    const alice = generateSigningKey();
    const v1 = manifest(alice);
    await n.publisher.publish(v1.bytes);
    const a = nextVersion(alice, v1.document, { title: 'version two, take A' });
    const b = nextVersion(alice, v1.document, { title: 'version two, take B' });
    const results = await Promise.allSettled([n.publisher.publish(a.bytes), n.publisher.publish(b.bytes)]);
    expect(results[0]).toMatchObject({ status: 'fulfilled', value: { id: a.id, status: 'projected' } });
    expect(results[1]).toMatchObject({ status: 'rejected', reason: { code: 'seq.rollback' } });
    // Refused before publishing: the log holds v1 and take A only.
    expect(await n.originMessages()).toBe(2);
    expect((await n.store.head(v1.document.manifest_id))?.record_id).toBe(a.id);
  });

  it('hears the projector refuse a record that lost a race another process could not see', async () => {
    const n = await node({ decisionWaitMs: 15_000 }, { startProjector: false });
    const other = n.publisherWith({ decisionWaitMs: 15_000 });
    const alice = generateSigningKey();
    const mallory = generateSigningKey();
    const id = randomUUID();
    const mine = manifest(alice, { manifest_id: id });
    const theirs = manifest(mallory, { manifest_id: id });
    // Two publishers (two processes): both checks see an empty projection and pass.
    const first = n.publisher.publish(mine.bytes);
    await waitFor(async () => (await n.originMessages()) === 1, { timeoutMs: 15_000, description: 'first record in ORIGIN' });
    const second = other.publish(theirs.bytes);
    await waitFor(async () => (await n.originMessages()) === 2, { timeoutMs: 15_000, description: 'second record in ORIGIN' });
    await n.projector.start();
    expect(await first).toMatchObject({ id: mine.id, status: 'projected' });
    const lost = await refusal(second);
    expect(lost).toBeInstanceOf(MetadataRefusal);
    expect(lost).toMatchObject({ code: 'manifest.owned', path: '$.manifest_id' });
    expect((await n.store.head(id))?.creator).toBe(alice.did);
  });

  it('answers 202-accepted when the projector does not decide in time, and projected once it has', async () => {
    const n = await node({ decisionWaitMs: 100 }, { startProjector: false });
    const alice = generateSigningKey();
    const v1 = manifest(alice);
    expect(await n.publisher.publish(v1.bytes)).toEqual({
      id: v1.id,
      manifest_id: v1.document.manifest_id,
      seq: 1,
      status: 'accepted',
      location: `/manifest/${v1.document.manifest_id}?seq=1`,
    });
    // Published again while not yet projected: ORIGIN's msg-id keeps one copy.
    expect(await n.publisher.publish(v1.bytes)).toMatchObject({ status: 'accepted' });
    expect(await n.originMessages()).toBe(1);
    await n.projector.start();
    await waitFor(() => n.outcomes.has(v1.id), { timeoutMs: 15_000, description: 'v1 projected' });
    expect(await n.publisher.publish(v1.bytes)).toMatchObject({ id: v1.id, status: 'projected' });
    expect(n.projector.stats()).toMatchObject({ accepted: 1, duplicates: 0 });
  });

  it('without a projector, answers accepted as soon as the record is in the log', async () => {
    const n = await node();
    const detached = createManifestPublisher({ js: bus.js, operator: n.operator, store: n.store });
    const v1 = manifest(generateSigningKey());
    expect(await detached.publish(v1.bytes)).toMatchObject({ id: v1.id, status: 'accepted' });
    await waitFor(() => n.outcomes.get(v1.id)?.outcome === 'accepted', { timeoutMs: 15_000, description: 'projected' });
    expect(await detached.publish(v1.bytes)).toMatchObject({ status: 'projected' });
    detached.close();
  });

  it('publishes the canonical bytes, whatever spelling the client sent', async () => {
    const n = await node();
    const v1 = manifest(generateSigningKey());
    const spaced = new TextEncoder().encode(JSON.stringify(v1.document, null, 2));
    expect(await n.publisher.publish(spaced)).toMatchObject({ id: v1.id, status: 'projected' });
    expect((await n.store.head(v1.document.manifest_id))?.record).toEqual(v1.document);
  });

  it('lets protocol errors through as ProtocolError', async () => {
    const n = await node();
    const error = await refusal(n.publisher.publish(new Uint8Array([0xff, 0xfe])));
    expect(error).toBeInstanceOf(ProtocolError);
    expect(await n.originMessages()).toBe(0);
  });
});
