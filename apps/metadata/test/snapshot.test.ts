import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { pino } from 'pino';
import { applyDefinitions, publishRecord } from '@dmf/bus';
import { merkleRootHex, recordIdLeaves } from '@dmf/merkle';
import { compareCategoryNames, type SigningKey } from '@dmf/protocol';
import {
  definitionsFor,
  federatedStream,
  federatedStreamName,
  metadataBucket,
  originStream,
  originStreamName,
  originSubject,
  projectionBucketName,
  METADATA,
} from '@dmf/streams';
import { startFederation, startNatsServer, waitFor, type Federation, type NatsServerHandle } from '@dmf/testing';
import { createMetadataProjector, type MetadataProjector } from '../src/projector.ts';
import { MetadataStore } from '../src/store/metadata-store.ts';
import { KEYS } from '../src/domain/keys.ts';
import { normalizeLabel } from '../src/domain/labels.ts';
import type { CategorySummary, StoredSnapshotPart } from '../src/domain/snapshot.ts';
import {
  computeCategorySnapshot,
  latestSnapshot,
  publishCategorySnapshot,
  requestSnapshot,
  startSnapshotSchedule,
  type SnapshotSchedule,
} from '../src/snapshot.ts';
import { generateSigningKey, manifest, nextVersion, type SignedManifest } from './fixtures.ts';

const logger = pino({ level: 'silent' });
const WAIT = { timeoutMs: 15_000 };

/** What a snapshot must say, from the test's own account of the current versions. */
function expectedCategories(current: readonly SignedManifest[]): CategorySummary[] {
  const ids = new Map<string, string[]>();
  for (const m of current) {
    const category = normalizeLabel(m.document.category);
    ids.set(category, [...(ids.get(category) ?? []), m.id]);
  }
  return [...ids.keys()].sort(compareCategoryNames).map((category) => {
    const sorted = (ids.get(category) as string[]).sort();
    return { category, count: sorted.length, root: merkleRootHex(recordIdLeaves(sorted)) };
  });
}

interface Node {
  operator: string;
  js: JetStreamClient;
  jsm: JetStreamManager;
  store: MetadataStore;
  projector: MetadataProjector;
  publish(record: { id: string; bytes: Uint8Array }): Promise<unknown>;
  /** Waits until the projector applied the whole FEDERATED stream, which holds `count` records. */
  caughtUp(count: number): Promise<void>;
}

const cleanups: (() => Promise<unknown>)[] = [];

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
});

/** The projection of `operator` on a server whose streams and bucket are applied, its projector running. */
async function projectionNode(js: JetStreamClient, jsm: JetStreamManager, operator: string): Promise<Node> {
  const bucket = projectionBucketName(METADATA, operator);
  const store = new MetadataStore(await new Kvm(js).open(bucket), jsm, bucket);
  const projector = createMetadataProjector({ js, operator, store, logger, batchSize: 5 });
  cleanups.push(() => projector.close());
  await projector.start();
  return {
    operator,
    js,
    jsm,
    store,
    projector,
    publish: (record) => publishRecord(js, { operator, kind: 'content_manifest', ...record }),
    async caughtUp(count) {
      await waitFor(
        async () => {
          const last = (await jsm.streams.info(federatedStreamName(operator))).state.last_seq;
          return last === count && projector.stats().position === last;
        },
        { ...WAIT, description: `${operator}: ${count} records in FEDERATED, all applied` },
      );
    },
  };
}

async function snapshotsInOrigin(jsm: JetStreamManager, operator: string): Promise<number> {
  const subject = originSubject(operator, 'category_snapshot');
  const info = await jsm.streams.info(originStreamName(operator), { subjects_filter: subject });
  return info.state.subjects?.[subject] ?? 0;
}

describe('category snapshots of one projection', () => {
  let server: NatsServerHandle;
  let nc: NatsConnection;
  let js: JetStreamClient;
  let jsm: JetStreamManager;

  beforeAll(async () => {
    server = await startNatsServer({ name: 'metadata-snapshot', domain: 'ms' });
    cleanups.push(() => server.close());
    nc = await connect({ servers: server.url });
    cleanups.push(() => nc.close());
    jsm = await jetstreamManager(nc);
    js = jetstream(nc);
  });

  async function single(operator: string): Promise<Node> {
    await applyDefinitions(jsm, [originStream(operator), federatedStream(operator, []), metadataBucket(operator)]);
    return projectionNode(js, jsm, operator);
  }

  it('counts and roots the current versions, and the projector stores the signed parts it reads back from the log', async () => {
    const node = await single('ops');
    const nodeKey = generateSigningKey();
    const alice = generateSigningKey();
    const bob = generateSigningKey();

    // Empty projection: one part, no categories, position 0.
    expect(await computeCategorySnapshot(js, node.store.bucket)).toEqual({ position: 0, categories: [] });

    const a1 = manifest(alice, { category: 'Music' });
    const a2 = nextVersion(alice, a1.document, { category: ' FILM ' });
    const b1 = manifest(bob, { category: 'film' });
    const c1 = manifest(bob, { category: 'Music' });
    const d1 = manifest(alice, { category: 'Spoken  word' });
    const stale = nextVersion(alice, a1.document, { title: 'also seq 2' });
    const stolen = nextVersion(bob, d1.document, { creator: bob.did, category: 'Music' });
    for (const r of [a1, a2, b1, c1, d1, stale, stolen]) await node.publish(r);
    await node.caughtUp(7);

    const expected = expectedCategories([a2, b1, c1, d1]);
    expect(expected.map((c) => [c.category, c.count])).toEqual([
      ['film', 2],
      ['music', 1],
      ['spoken word', 1],
    ]);
    const withProjector = await computeCategorySnapshot(js, node.store.bucket, { projector: node.projector });
    expect(withProjector).toEqual({ position: 7, categories: expected });
    // Read from outside the projector (position checked before and after): the same.
    expect(await computeCategorySnapshot(js, node.store.bucket)).toEqual(withProjector);

    const now = new Date();
    const parts = await publishCategorySnapshot({ js, operator: 'ops', key: nodeKey, store: node.store, projector: node.projector, now });
    expect(parts).toHaveLength(1);
    expect(parts[0]?.document).toMatchObject({ node: nodeKey.did, stream: 'FEDERATED_ops', last_seq: 7, part: 1, parts: 1, seq: 1, categories: expected });
    await node.caughtUp(8);
    const stored = (await node.store.kv.get(KEYS.snapshotPart(nodeKey.did, 'FEDERATED_ops', 1)))?.json<StoredSnapshotPart>();
    expect(stored).toEqual({ seq: 1, record_id: parts[0]?.id, record: parts[0]?.document });
    expect(node.projector.stats().snapshots).toBe(1);

    // The next seq follows the stored one; a late part with a lower seq does not replace it.
    const second = await publishCategorySnapshot({ js, operator: 'ops', key: nodeKey, store: node.store, projector: node.projector });
    expect(second[0]?.document).toMatchObject({ seq: 2, last_seq: 8 });
    const late = await publishCategorySnapshot({ js, operator: 'ops', key: nodeKey, store: node.store, projector: node.projector, seq: 1 });
    await node.caughtUp(10);
    expect(node.projector.stats().snapshots).toBe(3);
    const latest = await latestSnapshot(node.store, nodeKey.did);
    expect(latest).toMatchObject({ node: nodeKey.did, stream: 'FEDERATED_ops', seq: 2, last_seq: 8, complete: true, categories: expected });
    expect(latest?.parts.map((p) => p.record_id)).toEqual([second[0]?.id]);
    expect(late[0]?.id).not.toBe(parts[0]?.id);
    expect(await latestSnapshot(node.store, generateSigningKey().did)).toBeUndefined();
  });

  it('publishes on a schedule only when the projection changed, and on request whether or not it did', async () => {
    const node = await single('opc');
    const nodeKey = generateSigningKey();
    const alice = generateSigningKey();
    const first = [manifest(alice, { category: 'Jazz' }), manifest(alice, { category: 'Jazz' }), manifest(alice, { category: 'Blues' })];
    for (const r of first) await node.publish(r);
    await node.caughtUp(3);

    // No node holds the lease of a bucket without a projector: a request would never be answered.
    await applyDefinitions(jsm, [metadataBucket('opz')]);
    const orphan = await new Kvm(js).open(projectionBucketName(METADATA, 'opz'));
    await expect(requestSnapshot(orphan, { timeoutMs: 1000 })).rejects.toMatchObject({ code: 'request.no_node' });

    const schedule: SnapshotSchedule = await startSnapshotSchedule({
      js,
      operator: 'opc',
      key: nodeKey,
      store: node.store,
      projector: node.projector,
      intervalMs: 150,
      logger,
    });
    cleanups.push(() => schedule.close());
    await waitFor(() => schedule.stats().published === 1, { ...WAIT, description: 'first scheduled snapshot' });
    const runsAfterFirst = schedule.stats().runs;
    // Its own snapshot moves the position (the projector applies it), but changes no category.
    await waitFor(() => schedule.stats().runs >= runsAfterFirst + 4, { ...WAIT, description: 'four more scheduled runs' });
    expect(schedule.stats()).toMatchObject({ published: 1, failures: 0, lastSeq: 1 });
    expect(schedule.stats().unchanged).toBeGreaterThanOrEqual(4);
    expect(await snapshotsInOrigin(jsm, 'opc')).toBe(1);
    await node.caughtUp(4);
    expect((await latestSnapshot(node.store, nodeKey.did))?.categories).toEqual(expectedCategories(first));

    // On request: published although nothing changed, and the request key is gone.
    const answered = await requestSnapshot(node.store.kv, { timeoutMs: 15_000 });
    expect(answered).toMatchObject({ node: nodeKey.did, stream: 'FEDERATED_opc', seq: 2, complete: true, categories: expectedCategories(first) });
    expect(answered.last_seq).toBeGreaterThanOrEqual(4);
    expect(await node.store.kv.get(KEYS.snapshotRequest).then((e) => e?.operation ?? 'none')).not.toBe('PUT');
    expect(await snapshotsInOrigin(jsm, 'opc')).toBe(2);

    // A new manifest changes a category: the schedule publishes it.
    const more = manifest(alice, { category: 'Blues' });
    await node.publish(more);
    await waitFor(() => schedule.stats().published === 3, { ...WAIT, description: 'snapshot after a change' });
    await waitFor(async () => (await latestSnapshot(node.store, nodeKey.did))?.seq === 3, { ...WAIT, description: 'third snapshot stored' });
    expect((await latestSnapshot(node.store, nodeKey.did))?.categories).toEqual(expectedCategories([...first, more]));
    await schedule.close();
    await schedule.close();
  }, 90_000);
});

describe('two operators, each sourcing the other', () => {
  const OPERATORS = ['opa', 'opb'] as const;
  let fed: Federation;
  const nodes: Record<string, Node> = {};

  beforeAll(async () => {
    fed = await startFederation({ operators: [...OPERATORS] });
    cleanups.push(() => fed.close());
    for (const operator of OPERATORS) {
      const server = fed.operators[operator] as NatsServerHandle;
      const nc = await connect({ servers: server.url });
      cleanups.push(() => nc.close());
      const jsm = await jetstreamManager(nc);
      const peers = OPERATORS.filter((p) => p !== operator).map((p) => ({ operator: p }));
      await applyDefinitions(jsm, definitionsFor({ operator, peers, limits: { originMaxBytes: 64 << 20, federatedMaxBytes: 256 << 20 } }));
      nodes[operator] = await projectionNode(jetstream(nc), jsm, operator);
    }
  });

  it('compute the same categories, counts and roots independently, while node, stream and last_seq differ', async () => {
    const A = nodes['opa'] as Node;
    const B = nodes['opb'] as Node;
    const alice = generateSigningKey();
    const bob = generateSigningKey();
    const current: SignedManifest[] = [];
    let published = 0;
    const at = async (node: Node, record: SignedManifest) => {
      await node.publish(record);
      published++;
    };

    // A manifest whose versions are published at different operators, changing category each time.
    const m1 = manifest(alice, { category: 'Music' });
    const m1v2 = nextVersion(alice, m1.document, { category: 'Film' });
    const m1v3 = nextVersion(alice, m1v2.document, { category: 'Spoken word' });
    await at(A, m1);
    await at(B, m1v2);
    await at(A, m1v3);
    current.push(m1v3);
    // The same category spelt differently at each operator.
    const m2 = manifest(bob, { category: 'Jazz' });
    const m2v2 = nextVersion(bob, m2.document, { category: '  JAZZ ', tags: ['live'] });
    await at(B, m2);
    await at(A, m2v2);
    current.push(m2v2);
    // One record accepted by both operators: two copies in each FEDERATED, one head.
    const shared = manifest(alice, { category: 'Film' });
    await at(A, shared);
    await at(B, shared);
    current.push(shared);
    // Manifests published on both sides at once, so the two logs interleave differently.
    const batchA = Array.from({ length: 8 }, (_, i) => manifest(i % 2 ? alice : bob, { category: ['Music', 'Film', 'Blues'][i % 3] as string }));
    const batchB = Array.from({ length: 8 }, (_, i) => manifest(i % 2 ? bob : alice, { category: ['Blues', 'Music', 'Poetry'][i % 3] as string }));
    await Promise.all([
      (async () => {
        for (const r of batchA) await at(A, r);
      })(),
      (async () => {
        for (const r of batchB) await at(B, r);
      })(),
    ]);
    current.push(...batchA, ...batchB);

    await A.caughtUp(published);
    await B.caughtUp(published);
    const expected = expectedCategories(current);
    expect(expected.map((c) => c.category)).toEqual(['blues', 'film', 'jazz', 'music', 'poetry', 'spoken word']);

    const keyA: SigningKey = generateSigningKey();
    const keyB: SigningKey = generateSigningKey();
    const [partA] = await publishCategorySnapshot({ js: A.js, operator: 'opa', key: keyA, store: A.store, projector: A.projector });
    // B's snapshot is taken after B applied A's snapshot record: one more record, a later position.
    await waitFor(async () => (await latestSnapshot(B.store, keyA.did))?.complete === true, { ...WAIT, description: "A's snapshot stored at B" });
    const [partB] = await publishCategorySnapshot({ js: B.js, operator: 'opb', key: keyB, store: B.store, projector: B.projector });

    expect(partA?.document.categories).toEqual(expected);
    expect(partB?.document.categories).toEqual(partA?.document.categories);
    expect(partA?.document).toMatchObject({ node: keyA.did, stream: 'FEDERATED_opa', last_seq: published });
    expect(partB?.document).toMatchObject({ node: keyB.did, stream: 'FEDERATED_opb', last_seq: published + 1 });

    // Each node holds the other's snapshot and can check it against its own projection.
    await waitFor(async () => (await latestSnapshot(A.store, keyB.did))?.complete === true, { ...WAIT, description: "B's snapshot stored at A" });
    const ownAtA = await computeCategorySnapshot(A.js, A.store.bucket, { projector: A.projector });
    expect((await latestSnapshot(A.store, keyB.did))?.categories).toEqual(ownAtA.categories);
    expect((await latestSnapshot(B.store, keyA.did))?.categories).toEqual(partB?.document.categories);
  });
});
