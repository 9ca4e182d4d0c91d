/**
 * Prints the comparison tables of docs/durability.md (not a test: a script).
 *
 *   npx tsx libs/erasure/test/compare-schemes.ts
 *
 * Every number it prints comes from the seeds and parameters below; change nothing
 * here without regenerating the document.
 */
import {
  type Scheme,
  type SimulationOptions,
  binomialLossProbability,
  dataShardCount,
  lrcScheme,
  nines,
  replicationScheme,
  rsScheme,
  schemeName,
  shardCount,
  simulate,
  storageOverhead,
  xorScheme,
} from '../src/mod.ts';

/** The network and churn of every run (periods are days). Defaults spelt out. */
export const COMPARISON_PARAMETERS = {
  nodes: 2000,
  regions: 5,
  subnetsPerRegion: 8,
  chunks: 10_000,
  periods: 365,
  transientFailureRate: 0.01,
  transientDurationPeriods: 2,
  permanentFailureRate: 0.002,
  subnetOutageRate: 0.001,
  regionOutageRate: 0.0005,
  outageDurationPeriods: 4,
  outagePermanentProbability: 0.1,
  downToOutPeriods: 3,
} as const satisfies Omit<SimulationOptions, 'seed' | 'scheme'>;

export const COMPARISON_SEEDS = [1, 2, 3, 4, 5] as const;

/** [scheme, repair threshold or undefined for n − 1]. Grouped by storage overhead. */
export const COMPARISON_SCHEMES: readonly (readonly [Scheme, number | undefined])[] = [
  [rsScheme(12, 4), undefined],
  [lrcScheme(12, 2, 2), undefined],
  [rsScheme(12, 4), 14],
  [lrcScheme(12, 2, 2), 14],
  [rsScheme(8, 4), undefined],
  [lrcScheme(8, 2, 2), undefined],
  [xorScheme(2), undefined],
  [replicationScheme(2), undefined],
  [rsScheme(8, 8), undefined],
  [lrcScheme(8, 2, 6), undefined],
  [replicationScheme(3), undefined],
  [rsScheme(4, 8), undefined],
];

const fmt = (x: number, digits = 2): string => (Number.isInteger(x) ? String(x) : x.toFixed(digits));

function main(): void {
  console.log('Closed form, binomial, no repair within the period:\n');
  console.log('| scheme | overhead | P(loss), p = 0.01 | nines | P(loss), p = 0.1 | nines |');
  console.log('|---|---|---|---|---|---|');
  const seen = new Set<string>();
  for (const [scheme] of COMPARISON_SCHEMES) {
    const name = schemeName(scheme);
    if (seen.has(name) || scheme.kind === 'lrc') continue; // LRC is not MDS: no (k, n) closed form
    seen.add(name);
    const k = dataShardCount(scheme);
    const n = shardCount(scheme);
    const a = binomialLossProbability(k, n, 0.01);
    const b = binomialLossProbability(k, n, 0.1);
    console.log(`| ${name} | ${fmt(storageOverhead(scheme))} | ${a.toExponential(2)} | ${fmt(nines(a), 1)} | ${b.toExponential(2)} | ${fmt(nines(b), 1)} |`);
  }

  console.log(`\nSimulation, seed ${COMPARISON_SEEDS[0]} (one run per row):\n`);
  console.log('| scheme | overhead | threshold | lost | unavailable chunk-days | repairs | shards read | shards written | traffic (chunks) | wasted | blocked | skew | lost, seeds 1–5 |');
  console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const [scheme, repairThreshold] of COMPARISON_SCHEMES) {
    const runs = COMPARISON_SEEDS.map((seed) =>
      simulate({ ...COMPARISON_PARAMETERS, seed, scheme, ...(repairThreshold === undefined ? {} : { repairThreshold }) }),
    );
    const r = runs[0]!;
    const lostAll = runs.map((x) => x.chunksLost);
    console.log(
      `| ${r.scheme} | ${fmt(r.storageOverhead)} | ${repairThreshold ?? shardCount(scheme) - 1} | ${r.chunksLost} | ${r.unavailableChunkPeriods} | ${r.repairs} | ${r.shardsRead} | ${r.shardsWritten} | ${fmt(r.repairTrafficChunks, 0)} | ${r.wastedRepairs} | ${r.repairsBlocked} | ${fmt(r.placement.skew)} | ${lostAll.join(' + ')} = ${lostAll.reduce((a, b) => a + b, 0)} |`,
    );
  }
  const e = simulate({ ...COMPARISON_PARAMETERS, seed: COMPARISON_SEEDS[0], scheme: rsScheme(12, 4) }).events;
  console.log(`\nEvents, seed ${COMPARISON_SEEDS[0]} (the same for every scheme):`, JSON.stringify(e));
}

main();
