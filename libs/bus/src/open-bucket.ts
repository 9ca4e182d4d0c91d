/**
 * Opens a KV bucket so that reads use direct gets when the bucket allows them. The KV
 * client's `open()` binds without asking the server and then reads through the
 * JetStream API (`STREAM.MSG.GET`), which a busy server answers far slower than a direct
 * get: with a million manifests, reads timed out. Buckets created by `dmf streams
 * apply` allow direct gets on 2.9.
 */
import type { JetStreamClient } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import { kvStreamName } from '@dmf/streams';

export async function openBucket(js: JetStreamClient, bucket: string): Promise<KV> {
  const info = await (await js.jetstreamManager()).streams.info(kvStreamName(bucket));
  return new Kvm(js).open(bucket, { allow_direct: info.config.allow_direct === true });
}
