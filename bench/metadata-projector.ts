/**
 * The metadata projector alone, quickly (for working on it; `npm run bench` has the
 * recorded figure): N manifests signed and published to ORIGIN, then R rounds of a fresh
 * projector over FEDERATED on an empty bucket, each next to a round of full verification
 * of the same run, as a ratio.
 *
 *   npx tsx bench/metadata-projector.ts [--manifests 20000] [--creators 1000] [--rounds 3]
 */
import { parseArgs } from 'node:util';
import { loadavg } from 'node:os';
import { publishRecords, type RecordToPublish } from '@dmf/bus';
import { measureProjector } from './metadata-ingest.ts';
import { benchParallelCapacity } from './parallel-capacity.ts';
import { federatedHolds, OPERATOR, startBenchBus } from './metadata-setup.ts';
import { signAll } from './metadata-sign.ts';
import { formatRate, median } from './measure.ts';

const { values: args } = parseArgs({
  options: {
    manifests: { type: 'string', default: '20000' },
    creators: { type: 'string', default: '1000' },
    rounds: { type: 'string', default: '3' },
  },
});
const N = Number(args.manifests);
const rounds = Number(args.rounds);
const microseconds = (seconds: number) => `${Math.round((seconds / N) * 1e6)} µs`;

const load = loadavg()[0] ?? 0;
const capacity = await benchParallelCapacity(1.5);
const manifests = await signAll({ count: N, creators: Number(args.creators) });
const bus = await startBenchBus(N);
try {
  const records = manifests.map((m): RecordToPublish => ({ operator: OPERATOR, kind: 'content_manifest', id: m.id, bytes: m.bytes }));
  await publishRecords(bus.js, records, { window: 1_000 });
  const lastSeq = await federatedHolds(bus, N);
  const { rounds: runs, baselines: verify } = await measureProjector(bus, lastSeq, N, rounds);
  const projector = runs.map((r) => r.perSecond);
  runs.forEach((run, i) =>
    process.stdout.write(
      `round ${i + 1}: projector ${formatRate(run.perSecond)} (${run.batches} batches; CPU per manifest: node ${microseconds(run.cpu.node)}, nats-server ${microseconds(run.cpu.natsServer)}), full verification ${formatRate(verify[i] as number)}\n`,
    ),
  );
  const ratio = median(projector.map((p, i) => p / (verify[i] as number)));
  process.stdout.write(
    `${N.toLocaleString('en-US')} manifests, load average ${load.toFixed(2)} at the start, ${loadavg()[0]?.toFixed(2)} at the end\n` +
      `projector alone ${formatRate(median(projector))}, full verification ${formatRate(median(verify))}, ratio ${ratio.toFixed(2)} (goal >= 0.50)\n` +
      `every core busy: ${capacity.capacity.toFixed(2)} × one busy core (raw Ed25519 on ${capacity.cores} threads at once against one alone)\n`,
  );
} finally {
  await bus.close();
}
