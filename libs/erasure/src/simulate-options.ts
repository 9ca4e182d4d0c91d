/**
 * The churn simulation's options: their documented defaults, the caps that keep a
 * run bounded, and their validation into one resolved, checked record.
 */
import { ModelError } from './model-errors.ts';
import { type Placement, regionDiversePlacement } from './placement.ts';
import { type Scheme, checkScheme, dataShardCount, shardCount } from './schemes.ts';

/** Caps on a run's size; options beyond them are refused. */
export const SIMULATION_LIMITS = Object.freeze({
  maxNodes: 100_000,
  maxChunks: 200_000,
  maxPeriods: 10_000,
  /** chunks × shards per chunk × periods: the work of the per-period chunk check. */
  maxShardPeriods: 400_000_000,
  /** Nodes ever created (initial, replacements, joins). */
  maxNodeRecords: 2_000_000,
});

export interface SimulationOptions {
  /** PRNG seed (an integer, taken modulo 2^32). Required: a run is reproducible by its seed. */
  readonly seed: number;
  /** The redundancy scheme of every chunk. Required. */
  readonly scheme: Scheme;
  /** Nodes at the start. Default 1000. */
  readonly nodes?: number;
  /** Regions; node i starts in subnet i mod (regions × subnetsPerRegion). Default 5. */
  readonly regions?: number;
  /** Subnets per region. Default 8. */
  readonly subnetsPerRegion?: number;
  /** Chunks stored at the start. Default 1000. */
  readonly chunks?: number;
  /** Periods simulated. Default 100. */
  readonly periods?: number;
  /** Per node per period: probability of going down for a while. Default 0.01. */
  readonly transientFailureRate?: number;
  /** How long an independent transient failure lasts, in periods (≥ 1). Default 2. */
  readonly transientDurationPeriods?: number;
  /** Per node per period: probability of departing for good. Default 0.002. */
  readonly permanentFailureRate?: number;
  /** Per subnet per period: probability that the whole subnet fails. Default 0.001. */
  readonly subnetOutageRate?: number;
  /** Per region per period: probability that the whole region fails. Default 0.0005. */
  readonly regionOutageRate?: number;
  /** How long a subnet or region outage lasts, in periods (≥ 1). Default 4. */
  readonly outageDurationPeriods?: number;
  /** Probability that a subnet or region outage is permanent (its nodes depart). Default 0.1. */
  readonly outagePermanentProbability?: number;
  /** New nodes joining each period, besides replacements of departed nodes. Default 0. */
  readonly joinsPerPeriod?: number;
  /** Repair when at most this many shards are not out; in [k, n − 1]. Default n − 1 (repair any loss). */
  readonly repairThreshold?: number;
  /** A node offline for more than this many periods is out and its shards are rebuilt. Default 3. */
  readonly downToOutPeriods?: number;
  /** Where shards go, at upload and at repair. Default regionDiversePlacement. */
  readonly placement?: Placement;
}

/** The options with defaults applied and every value checked. */
export interface ResolvedSimulationOptions {
  readonly seed: number;
  readonly scheme: Scheme;
  /** Shards per chunk. */
  readonly n: number;
  /** Data shards per chunk (1 for replication). */
  readonly k: number;
  readonly nodes: number;
  readonly regions: number;
  readonly subnetsPerRegion: number;
  readonly chunks: number;
  readonly periods: number;
  readonly transientFailureRate: number;
  readonly transientDurationPeriods: number;
  readonly permanentFailureRate: number;
  readonly subnetOutageRate: number;
  readonly regionOutageRate: number;
  readonly outageDurationPeriods: number;
  readonly outagePermanentProbability: number;
  readonly joinsPerPeriod: number;
  readonly repairThreshold: number;
  readonly downToOutPeriods: number;
  readonly placement: Placement;
}

function intOption(value: number | undefined, fallback: number, name: string, min: number, max: number): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new ModelError('simulation.invalid_option', `options.${name}`, `must be an integer in [${min}, ${max}], got ${String(v)}`);
  }
  return v;
}

function rateOption(value: number | undefined, fallback: number, name: string): number {
  const v = value ?? fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 1) {
    throw new ModelError('simulation.invalid_option', `options.${name}`, `must be a probability in [0, 1], got ${String(v)}`);
  }
  return v;
}

/** Applies the defaults and checks every option; throws `simulation.invalid_option` (or `scheme.invalid`). */
export function resolveSimulationOptions(options: SimulationOptions): ResolvedSimulationOptions {
  const L = SIMULATION_LIMITS;
  if (!Number.isInteger(options.seed)) throw new ModelError('simulation.invalid_option', 'options.seed', `must be an integer, got ${String(options.seed)}`);
  const scheme = checkScheme(options.scheme);
  const n = shardCount(scheme);
  const k = dataShardCount(scheme);
  const nodes = intOption(options.nodes, 1000, 'nodes', 1, L.maxNodes);
  const chunks = intOption(options.chunks, 1000, 'chunks', 0, L.maxChunks);
  const periods = intOption(options.periods, 100, 'periods', 0, L.maxPeriods);
  const transientFailureRate = rateOption(options.transientFailureRate, 0.01, 'transientFailureRate');
  const permanentFailureRate = rateOption(options.permanentFailureRate, 0.002, 'permanentFailureRate');
  if (transientFailureRate + permanentFailureRate > 1) {
    throw new ModelError('simulation.invalid_option', 'options.transientFailureRate', 'transientFailureRate + permanentFailureRate must not exceed 1');
  }
  const joinsPerPeriod = intOption(options.joinsPerPeriod, 0, 'joinsPerPeriod', 0, L.maxNodes);
  if (chunks * n * periods > L.maxShardPeriods) {
    throw new ModelError('simulation.invalid_option', 'options.chunks', `chunks × shards × periods = ${chunks * n * periods} exceeds ${L.maxShardPeriods}`);
  }
  if (nodes + joinsPerPeriod * periods > L.maxNodeRecords) {
    throw new ModelError('simulation.invalid_option', 'options.joinsPerPeriod', `nodes + joins exceed ${L.maxNodeRecords}`);
  }
  return {
    seed: options.seed,
    scheme,
    n,
    k,
    nodes,
    regions: intOption(options.regions, 5, 'regions', 1, 1000),
    subnetsPerRegion: intOption(options.subnetsPerRegion, 8, 'subnetsPerRegion', 1, 1000),
    chunks,
    periods,
    transientFailureRate,
    transientDurationPeriods: intOption(options.transientDurationPeriods, 2, 'transientDurationPeriods', 1, L.maxPeriods),
    permanentFailureRate,
    subnetOutageRate: rateOption(options.subnetOutageRate, 0.001, 'subnetOutageRate'),
    regionOutageRate: rateOption(options.regionOutageRate, 0.0005, 'regionOutageRate'),
    outageDurationPeriods: intOption(options.outageDurationPeriods, 4, 'outageDurationPeriods', 1, L.maxPeriods),
    outagePermanentProbability: rateOption(options.outagePermanentProbability, 0.1, 'outagePermanentProbability'),
    joinsPerPeriod,
    repairThreshold: intOption(options.repairThreshold, n - 1, 'repairThreshold', Math.min(k, n - 1), Math.max(n - 1, 0)),
    downToOutPeriods: intOption(options.downToOutPeriods, 3, 'downToOutPeriods', 0, L.maxPeriods),
    placement: options.placement ?? regionDiversePlacement,
  };
}
