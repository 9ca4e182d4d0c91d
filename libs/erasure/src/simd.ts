/**
 * The WebAssembly SIMD path of the codecs' inner loop (wasm/gf-simd.wat): outputs_j =
 * Σ_i c_ji · inputs_i over GF(2^8), 16 bytes at a time with split-nibble tables. It gives
 * the same bytes as the table-lookup loop in TypeScript (gf256.ts), which stays the
 * fallback where WebAssembly SIMD is missing; tests compare the two on every vector.
 *
 * Data is copied into the module's memory a chunk at a time (64 KiB per shard), coded
 * there, and copied out: the copies cost far less than the multiplications they let run
 * 16 bytes wide.
 */
import { GF_SIMD_WASM_BASE64 } from './gf-simd-wasm.ts';
import { gfMul } from './gf256.ts';

/** The little of the WebAssembly API used here (the project's TS libs do not declare it). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: Record<string, unknown> };
}

interface Kernel {
  memory: WasmMemory;
  encode: (tables: number, inputs: number, k: number, outputs: number, m: number, len: number) => void;
  xor: (inputs: number, k: number, output: number, len: number) => void;
}

/** Bytes of each shard coded per call into the module. */
const CHUNK = 64 * 1024;
const PAGE = 64 * 1024;

let kernel: Kernel | null | undefined;

/** The instantiated kernel, or null where WebAssembly SIMD is not available. */
function loadKernel(): Kernel | null {
  if (kernel !== undefined) return kernel;
  try {
    const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
    const module = new wasm.Module(Buffer.from(GF_SIMD_WASM_BASE64, 'base64'));
    const instance = new wasm.Instance(module);
    kernel = {
      memory: instance.exports['memory'] as WasmMemory,
      encode: instance.exports['encode'] as Kernel['encode'],
      xor: instance.exports['xor'] as Kernel['xor'],
    };
  } catch {
    kernel = null; // no SIMD: the TypeScript loop does the work
  }
  return kernel;
}

/** Whether the SIMD path can run here. */
export function simdAvailable(): boolean {
  return loadKernel() !== null;
}

/** The 32-byte split-nibble tables of every coefficient of `rows`, row-major. */
function tablesOf(rows: readonly ArrayLike<number>[], k: number, m: number): Uint8Array {
  const tables = new Uint8Array(32 * m * k);
  for (let j = 0; j < m; j++) {
    const coefficients = rows[j] as ArrayLike<number>;
    for (let i = 0; i < k; i++) {
      const c = coefficients[i] as number;
      const at = 32 * (j * k + i);
      for (let x = 0; x < 16; x++) {
        tables[at + x] = gfMul(c, x);
        tables[at + 16 + x] = gfMul(c, x << 4);
      }
    }
  }
  return tables;
}

/**
 * outputs[j][start..end) = Σ_i rows[j][i] · inputs[i][start..end), the SIMD way, for
 * the largest multiple of 16 bytes of the range (64 when every coefficient is 1);
 * returns where it stopped (the caller codes the tail itself). Returns `start` when
 * SIMD is missing.
 */
export function simdCombineRange(rows: readonly ArrayLike<number>[], inputs: readonly Uint8Array[], outputs: readonly Uint8Array[], start: number, end: number): number {
  const kern = loadKernel();
  const k = inputs.length;
  const m = outputs.length;
  if (!kern || m === 0 || k === 0) return start;
  // All coefficients 1 (XOR parity, LRC local parities): XOR, no tables, 64 bytes a step.
  if (rows.every((row) => Array.prototype.every.call(row, (c: number) => c === 1))) return simdXorRange(kern, inputs, outputs, start, end);
  const wide = start + ((end - start) & ~15);
  if (wide === start) return start;
  const chunk = Math.min(CHUNK, wide - start);
  const tables = tablesOf(rows, k, m);
  // Layout: tables, input addresses, output addresses, then k + m chunks of shard bytes.
  const tablesAt = 0;
  const inputsAt = tables.length;
  const outputsAt = inputsAt + 4 * k;
  const dataAt = (outputsAt + 4 * m + 15) & ~15;
  const needed = dataAt + (k + m) * chunk;
  if (kern.memory.buffer.byteLength < needed) kern.memory.grow(Math.ceil((needed - kern.memory.buffer.byteLength) / PAGE));
  const memory = new Uint8Array(kern.memory.buffer);
  const addresses = new DataView(kern.memory.buffer);
  memory.set(tables, tablesAt);
  for (let i = 0; i < k; i++) addresses.setUint32(inputsAt + 4 * i, dataAt + i * chunk, true);
  for (let j = 0; j < m; j++) addresses.setUint32(outputsAt + 4 * j, dataAt + (k + j) * chunk, true);
  for (let at = start; at < wide; at += chunk) {
    const n = Math.min(chunk, wide - at);
    for (let i = 0; i < k; i++) memory.set((inputs[i] as Uint8Array).subarray(at, at + n), dataAt + i * chunk);
    memory.fill(0, dataAt + k * chunk, dataAt + (k + m) * chunk);
    kern.encode(tablesAt, inputsAt, k, outputsAt, m, n);
    for (let j = 0; j < m; j++) (outputs[j] as Uint8Array).set(memory.subarray(dataAt + (k + j) * chunk, dataAt + (k + j) * chunk + n), at);
  }
  return wide;
}

/** outputs[j][start..end) = XOR of inputs, for the largest multiple of 64 bytes; returns where it stopped. */
function simdXorRange(kern: Kernel, inputs: readonly Uint8Array[], outputs: readonly Uint8Array[], start: number, end: number): number {
  const k = inputs.length;
  const wide = start + ((end - start) & ~63);
  if (wide === start) return start;
  const chunk = Math.min(CHUNK, wide - start);
  const inputsAt = 0;
  const dataAt = (4 * k + 63) & ~63;
  const outAt = dataAt + k * chunk;
  const needed = outAt + chunk;
  if (kern.memory.buffer.byteLength < needed) kern.memory.grow(Math.ceil((needed - kern.memory.buffer.byteLength) / PAGE));
  const memory = new Uint8Array(kern.memory.buffer);
  const addresses = new DataView(kern.memory.buffer);
  for (let i = 0; i < k; i++) addresses.setUint32(inputsAt + 4 * i, dataAt + i * chunk, true);
  for (let at = start; at < wide; at += chunk) {
    const n = Math.min(chunk, wide - at);
    for (let i = 0; i < k; i++) memory.set((inputs[i] as Uint8Array).subarray(at, at + n), dataAt + i * chunk);
    kern.xor(inputsAt, k, outAt, n);
    // Every output of an all-ones combination is the same XOR.
    for (const output of outputs) output.set(memory.subarray(outAt, outAt + n), at);
  }
  return wide;
}
