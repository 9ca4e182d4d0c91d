/**
 * @dmf/erasure: erasure coding for DMF shards.
 */
// Reed–Solomon codec over GF(2^8), shard-compatible with klauspost/reedsolomon and
// Backblaze JavaReedSolomon (README.md: construction, vectors, errors).
export { ERASURE_ERROR_CODES, ErasureError } from './errors.ts';
export type { ErasureErrorCode } from './errors.ts';
export { GF_POLYNOMIAL, gfAdd, gfDiv, gfExp, gfInverse, gfMul, mulAddSlice, mulSlice } from './gf256.ts';
export {
  identityMatrix,
  invertMatrix,
  matrixFromRows,
  matrixRow,
  matrixToRows,
  multiplyMatrices,
  selectRows,
  subMatrix,
  vandermondeMatrix,
  zeroMatrix,
} from './matrix.ts';
export type { Matrix } from './matrix.ts';
export { MAX_TOTAL_SHARDS, buildEncodingMatrix, createReedSolomon } from './reed-solomon.ts';
export type { MaybeShards, ReedSolomon, ReedSolomonOptions } from './reed-solomon.ts';
export { joinShards, shardSizeFor, splitShards } from './split.ts';
// Durability model: scheme descriptions and decodability, repair planning, closed
// forms (docs/durability.md) and a seeded churn simulation. Pure, no byte codecs.
export { MODEL_ERROR_CODES, ModelError } from './model-errors.ts';
export type { ModelErrorCode } from './model-errors.ts';
export {
  MAX_SHARDS,
  checkScheme,
  dataShardCount,
  faultTolerance,
  isRecoverable,
  lrcGroups,
  lrcScheme,
  replicationScheme,
  rsScheme,
  schemeName,
  shardCount,
  shardRole,
  storageOverhead,
  xorScheme,
} from './schemes.ts';
export type { LrcGroup, LrcScheme, ReedSolomonScheme, ReplicationScheme, Scheme, ShardRole, XorScheme } from './schemes.ts';
export { planRepair, tryPlanRepair } from './repair-plan.ts';
export type { RepairPlan, RepairPlanOptions } from './repair-plan.ts';
export {
  binomialLoss,
  binomialLossProbability,
  lazyRepairBandwidthRatio,
  lazyRepairLossRate,
  lossOverPeriods,
  nines,
  poissonDurability,
  poissonLoss,
  thresholdRepairLoss,
} from './durability.ts';
export type { LazyRepairInput, LossAndDurability, ThresholdRepairInput, ThresholdRepairResult } from './durability.ts';
export { createPrng } from './prng.ts';
export type { Prng } from './prng.ts';
export { randomPlacement, regionDiversePlacement } from './placement.ts';
export type { Placement, PlacementRequest, PlacementView } from './placement.ts';
export { SIMULATION_LIMITS, resolveSimulationOptions } from './simulate-options.ts';
export type { ResolvedSimulationOptions, SimulationOptions } from './simulate-options.ts';
export { simulate } from './simulate.ts';
export type { SimulationResult } from './simulate.ts';
// Byte codecs for the XOR and LRC schemes above (README.md: XOR parity, LRC).
export { createXorCodec } from './xor-codec.ts';
export type { XorCodec } from './xor-codec.ts';
export { createLrcCodec } from './lrc-codec.ts';
export type { LrcCodec, LrcCodecOptions } from './lrc-codec.ts';
export { countMrConditions, lrcGlobalCoefficients } from './lrc-coefficients.ts';
export { encodeParallel, PARALLEL_THRESHOLD_BYTES } from './parallel.ts';
export type { ParallelOptions } from './parallel.ts';
// Whole chunks under any scheme: split into shards, rebuild missing ones, join.
export { encodeChunk, joinChunk, rebuildShards, schemeShardBytes } from './scheme-codec.ts';
