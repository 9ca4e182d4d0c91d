/**
 * `npm run bench`: the figures docs/benchmarks.md records, each next to its baseline
 * measured in the same run, as a ratio. `npm run bench -- --quick` for a fast look.
 * The metadata node's reads at scale have their own script: `npm run bench:metadata`.
 */
import { cpus, loadavg } from 'node:os';
import { benchMetadataIngest } from './metadata-ingest.ts';
import { benchParallelCapacity } from './parallel-capacity.ts';
import { benchPublish } from './publish.ts';
import { benchSignVerify } from './sign-verify.ts';
import { formatRate } from './measure.ts';

const quick = process.argv.includes('--quick');
const json = process.argv.includes('--json');
const loadAtStart = loadavg()[0] ?? 0;

const capacity = await benchParallelCapacity(quick ? 1 : 2);
const crypto = benchSignVerify({ rounds: quick ? 1 : 7, secondsPerRound: quick ? 0.5 : 1.5 });
const publish = await benchPublish({ records: quick ? 5_000 : 20_000, rounds: quick ? 2 : 7, window: 1_000 });
const ingest = await benchMetadataIngest({ manifests: quick ? 5_000 : 20_000, creators: 1_000, concurrency: 50, projectorRounds: quick ? 1 : 5 });

const { verifyRatio, signRatio } = crypto;
const publishRatio = publish.ratio;
// The baseline for ingest: full verification of one manifest on one core, measured
// around each projector round for the projector (drift between phases cancels), above for HTTP.
const projectorRatio = ingest.projectorRatio;
const httpIngestRatio = ingest.http / crypto.fullVerify;

if (json) {
  process.stdout.write(`${JSON.stringify({ capacity, crypto, publish, ingest, verifyRatio, signRatio, publishRatio, projectorRatio, httpIngestRatio })}\n`);
} else {
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  const ms = (v: number) => `${v.toFixed(1)} ms`;
  const lines = [
    `machine: ${cpus().length} × ${cpu}, Node ${process.version}, load average ${loadAtStart.toFixed(2)} at the start, ${loadavg()[0]?.toFixed(2)} at the end${quick ? ' (quick run: fewer, shorter rounds)' : ''}`,
    'rates: medians over the rounds; ratios: median of the per-round ratios (each round runs DMF and its baseline back to back)',
    '',
    `| measure | DMF | baseline (same run) | ratio | goal |`,
    `|---|---|---|---|---|`,
    `| (for reading the ratios) every core busy: raw Ed25519 verification on ${capacity.cores} threads at once | ${capacity.together.map((r) => formatRate(r)).join(' + ')} | ${formatRate(capacity.alone)} on one thread alone | ${capacity.capacity.toFixed(2)} | the machine's cores in units of one busy core |`,
    `| verify ${crypto.documentBytes}-byte content manifest, 1 core | ${formatRate(crypto.fullVerify)} full (parse+JCS+JWS+did:key+schema) | ${formatRate(crypto.rawVerify)} raw node:crypto Ed25519 verify | ${verifyRatio.toFixed(2)} | >= 0.60 ${verifyRatio >= 0.6 ? 'met' : 'NOT MET'} |`,
    `| sign the same manifest, 1 core | ${formatRate(crypto.fullSign)} signDocument (sign + full verify) | ${formatRate(crypto.rawSign)} raw node:crypto Ed25519 sign | ${signRatio.toFixed(2)} | (none) |`,
    `| JetStream publish, ${publish.recordBytes}-byte records, ${publish.window} in flight, ${publish.records} per round, ${publish.rounds} rounds | ${formatRate(publish.dmf)} publishRecords (msg-id dedupe) | ${formatRate(publish.raw)} raw js.publish, same bytes | ${publishRatio.toFixed(2)} | >= 0.80 ${publishRatio >= 0.8 ? 'met' : 'NOT MET'} |`,
    `| (for reference) raw js.publish of the same bytes with DMF's msg-ids | ${formatRate(publish.rawWithMsgId)} | ${formatRate(publish.raw)} | ${(publish.rawWithMsgId / publish.raw).toFixed(2)} | what dedupe costs with no DMF code |`,
    `| metadata projector alone: fresh projector, empty bucket, ${ingest.manifests.toLocaleString('en-US')} ${ingest.documentBytes}-byte manifests (${ingest.creators.toLocaleString('en-US')} creators) pre-filled in FEDERATED, ${ingest.projectorRounds.length} rounds | ${formatRate(ingest.projector)} | ${formatRate(ingest.projectorBaseline)} full verification, 1 core, mean of a round just before and just after each projector round | ${projectorRatio.toFixed(2)} | >= 0.50 ${projectorRatio >= 0.5 ? 'met' : 'NOT MET'} |`,
    `| metadata ingest over HTTPS: POST /publish_manifest, ${ingest.concurrency} clients, TLS 1.3, node in its own process, until projected and a sample reads 200 | ${formatRate(ingest.http)} (${ingest.httpSeconds.toFixed(1)} s; POST p50 ${ms(ingest.post.p50)}, p99 ${ms(ingest.post.p99)}; the projector took them in ${ingest.httpBatches.toLocaleString('en-US')} batches) | ${formatRate(crypto.fullVerify)} full verification, 1 core (above) | ${httpIngestRatio.toFixed(2)} | (none set) |`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}
