/**
 * `dmf projections rebuild|verify metadata`: drop and rebuild the projection, and prove
 * that a projection rebuilt from the log equals the live one (DESIGN.md rule 4).
 *
 * Digest: the projection's content (every key but the bookkeeping ones, `_…`) hashed
 * entry by entry, SHA-256 of `key NUL value`, and the entry hashes added modulo 2^256.
 * A sum does not depend on the order entries are read in, which differs between a live
 * bucket and a rebuilt one, and it needs no memory per entry (a million manifests are
 * several million entries). It detects any difference in content; it is not meant to
 * resist someone who crafts entries to collide, and needs not: both sides are read from
 * the operator's own server.
 */
import { createHash } from 'node:crypto';
import { DeliverPolicy, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import { federatedStreamName, kvStreamName, metadataBucket, METADATA, projectionBucketName } from '@dmf/streams';
import { applyDefinitions, openBucket } from '@dmf/bus';
import { isBookkeepingKey, KEYS } from './domain/keys.ts';
import type { MetadataLimits } from './domain/spam.ts';
import { decodeEntry, encodeJson } from './store/codec.ts';
import { LEASE_STALE_MS, ProjectionLease } from './store/lease.ts';
import { MetadataStore } from './store/metadata-store.ts';
import { createMetadataProjector, purgeProjection, type MetadataProjectorStats } from './projector.ts';

const MOD = 1n << 256n;

export interface ProjectionDigest {
  /** Hex, 64 characters. */
  digest: string;
  entries: number;
}

export class MaintenanceError extends Error {
  readonly code: 'busy' | 'missing' | 'timeout';
  constructor(code: 'busy' | 'missing' | 'timeout', message: string) {
    super(message);
    this.name = 'MaintenanceError';
    this.code = code;
  }
}

/** The digest of a bucket's content, read with an ordered consumer over the last value of every key. */
export async function bucketDigest(js: JetStreamClient, bucket: string): Promise<ProjectionDigest> {
  const stream = kvStreamName(bucket);
  const prefix = `$KV.${bucket}.`;
  const info = await (await js.jetstreamManager()).streams.info(stream);
  let sum = 0n;
  let entries = 0;
  if (info.state.messages === 0) return { digest: sum.toString(16).padStart(64, '0'), entries };
  const consumer = await js.consumers.get(stream, { deliver_policy: DeliverPolicy.LastPerSubject });
  const messages = await consumer.consume({ max_messages: 4096 });
  for await (const m of messages) {
    const operation = m.headers?.get('KV-Operation');
    const key = m.subject.slice(prefix.length);
    if (operation !== 'DEL' && operation !== 'PURGE' && !isBookkeepingKey(key)) {
      const hash = createHash('sha256').update(key).update('\0').update(m.data).digest('hex');
      sum = (sum + BigInt(`0x${hash}`)) % MOD;
      entries++;
    }
    if (m.info.pending === 0) break;
  }
  await messages.close();
  return { digest: sum.toString(16).padStart(64, '0'), entries };
}

async function positionOf(kv: KV): Promise<{ seq: number; revision: number }> {
  const entry = await kv.get(KEYS.position);
  return { seq: decodeEntry<{ seq: number }>(entry)?.seq ?? 0, revision: entry?.revision ?? 0 };
}

/**
 * The digest of the live projection at one position: read `_pos`, the content, `_pos`
 * again, and try again if the projector moved meanwhile.
 */
export async function consistentDigest(js: JetStreamClient, bucket: string, attempts = 5): Promise<ProjectionDigest & { position: number }> {
  const kv = await openBucket(js, bucket);
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const before = await positionOf(kv);
    const digest = await bucketDigest(js, bucket);
    const after = await positionOf(kv);
    if (before.revision === after.revision) return { ...digest, position: before.seq };
    await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
  }
  throw new MaintenanceError('busy', `the projection in ${bucket} kept changing while it was read (${attempts} attempts); try again when ingest is quieter`);
}

export interface MaintenanceOptions {
  js: JetStreamClient;
  /** The connection under `js`, for the projector's fast writes. */
  nc?: NatsConnection;
  jsm: JetStreamManager;
  operator: string;
  limits?: Partial<MetadataLimits>;
  logger: Logger;
  /** Longest wait for a running node to finish a rebuild. Default 30 minutes. */
  timeoutMs?: number;
}

async function openLive(o: MaintenanceOptions): Promise<{ kv: KV; bucket: string }> {
  const bucket = projectionBucketName(METADATA, o.operator);
  try {
    await o.jsm.streams.info(kvStreamName(bucket));
  } catch {
    throw new MaintenanceError('missing', `no metadata projection for operator ${o.operator} on this server (bucket ${bucket}); is the operator right, and did \`dmf up\` or \`dmf streams apply\` run?`);
  }
  return { kv: await openBucket(o.js, bucket), bucket };
}

async function lastFederatedSeq(o: MaintenanceOptions): Promise<number> {
  return (await o.jsm.streams.info(federatedStreamName(o.operator))).state.last_seq;
}

export interface RebuildReport {
  /** `node`: the running node rebuilt it; `here`: no projector ran, this process did. */
  by: 'node' | 'here';
  position: number;
  digest: ProjectionDigest;
  stats?: MetadataProjectorStats;
}

/** Drops the metadata projection and applies the log again, up to its end at the time of the call. */
export async function rebuildMetadata(o: MaintenanceOptions): Promise<RebuildReport> {
  const { kv, bucket } = await openLive(o);
  const target = await lastFederatedSeq(o);
  const lease = decodeEntry<{ renewed_at: number }>(await kv.get(KEYS.lease));
  const nodeRuns = lease !== undefined && Date.now() - lease.renewed_at < LEASE_STALE_MS;
  if (nodeRuns) {
    // The writer is a running node: ask it, and wait until it has started over and caught up.
    const requested = await kv.put(KEYS.rebuild, encodeJson({ requested_at: new Date().toISOString() }));
    const deadline = Date.now() + (o.timeoutMs ?? 30 * 60_000);
    let restarted = false;
    for (;;) {
      if (!restarted) {
        const request = await kv.get(KEYS.rebuild);
        restarted = !request || request.revision > requested || request.operation !== 'PUT';
      }
      if (restarted && (await positionOf(kv)).seq >= target) break;
      if (Date.now() > deadline) throw new MaintenanceError('timeout', `the node did not finish rebuilding ${bucket} in time; it goes on in the background`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const digest = await consistentDigest(o.js, bucket);
    return { by: 'node', position: digest.position, digest };
  }
  const held = await ProjectionLease.acquire(kv, bucket, 'dmf projections rebuild', (error) => o.logger.error({ err: error.message }, 'rebuild lost its lease'));
  await purgeProjection(o.jsm, bucket);
  await kv.purge(KEYS.rebuild).catch(() => undefined);
  const position = await kv.get(KEYS.position);
  if (position) await kv.put(KEYS.position, encodeJson({ seq: 0 }));
  const store = new MetadataStore(kv, o.jsm, bucket);
  const projector = createMetadataProjector({ js: o.js, nc: o.nc, operator: o.operator, store, limits: o.limits, stopAt: target, lease: held, logger: o.logger });
  try {
    await projector.start();
    await projector.done;
  } finally {
    await projector.close();
  }
  return { by: 'here', position: target, digest: await bucketDigest(o.js, bucket), stats: projector.stats() };
}

export interface VerifyReport {
  position: number;
  live: ProjectionDigest;
  rebuilt: ProjectionDigest;
  equal: boolean;
}

/**
 * Replays the log into a scratch bucket up to the live projection's position and compares
 * the two digests. The live projection is not touched; the scratch bucket is deleted.
 */
export async function verifyMetadata(o: MaintenanceOptions): Promise<VerifyReport> {
  const { bucket } = await openLive(o);
  const live = await consistentDigest(o.js, bucket);
  const scratchName = projectionBucketName(`${METADATA}_verify`, o.operator);
  const scratch = metadataBucket(o.operator, { description: 'DMF metadata projection, rebuilt by dmf projections verify (scratch)' });
  await o.jsm.streams.delete(kvStreamName(scratchName)).catch(() => undefined);
  await applyDefinitions(o.jsm, [{ ...scratch, name: scratchName }]);
  try {
    const kv = await openBucket(o.js, scratchName);
    const store = new MetadataStore(kv, o.jsm, scratchName);
    const projector = createMetadataProjector({
      js: o.js,
      nc: o.nc,
      operator: o.operator,
      store,
      limits: o.limits,
      stopAt: live.position,
      holder: 'dmf projections verify',
      logger: o.logger,
    });
    try {
      await projector.start();
      await projector.done;
    } finally {
      await projector.close();
    }
    const rebuilt = await bucketDigest(o.js, scratchName);
    return { position: live.position, live: { digest: live.digest, entries: live.entries }, rebuilt, equal: rebuilt.digest === live.digest && rebuilt.entries === live.entries };
  } finally {
    await o.jsm.streams.delete(kvStreamName(scratchName)).catch(() => undefined);
  }
}
